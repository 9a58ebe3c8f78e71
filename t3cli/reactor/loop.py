"""The reactor: bootstrap, watch the log, lease threads, drive their lanes, shut down cleanly.

Public surface (`t3 run`, the reactor embedded in `t3 send`, and tests):

    reactor = Reactor(database, config, ReactorOptions(...), observer)
    await reactor.start()            # bootstrap from projections, claim threads with work, recover
    await reactor.drain()            # every event up to the head handled and nothing running
    await reactor.projected(at=N)    # thread_summaries has applied sequence N (raises on failure)
    await reactor.until_idle()       # no eligible work left in scope (for --until-idle)
    await reactor.claim(thread_id)   # lease one thread now (the embedded reactor)
    await reactor.close(on_exit="interrupt" | "wait", kill=event)

Guarantees: a thread is driven only while this reactor holds its lease (`store.leases`); its
events are handled in log order in its lane (`lanes`); what to do next is decided by `drain`
from a fresh snapshot of the thread, so a missed or duplicated trigger can delay nothing and
repeat nothing; every write goes through `Engine.dispatch_many` with deterministic command ids.
The reactor never replays the log: it starts from the projections' head.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from t3cli.config import Config
from t3cli.contracts import commands as c
from t3cli.contracts.events import EventRecord
from t3cli.domain.decider import Limits
from t3cli.engine import DispatchResult
from t3cli.errors import DatabaseLocked, T3Error
from t3cli.reactor.adoption import Adoption
from t3cli.reactor.dbworker import DbWorker, Outcome
from t3cli.reactor.lanes import LaneTable, Marker, WorkCounter
from t3cli.reactor.leasing import LeaseKeeper
from t3cli.reactor.observer import NullObserver, Observer
from t3cli.reactor.recovery import RecoverMode
from t3cli.reactor.summaries import SummaryWorker
from t3cli.reactor.threads import ThreadWork
from t3cli.reactor.turns import TurnServices
from t3cli.reactor.watch import LogWatcher
from t3cli.store import eventlog, leases
from t3cli.store import reactor_queries as rq
from t3cli.store.db import connect
from t3cli.store.readmodel import ReadModel, bootstrap

OnExit = Literal["interrupt", "wait"]
# Events that make a lane look at its thread, and those that may make a reactor claim a thread
# it does not hold (work appeared). Streamed text, activities and the like never wake a lane.
LANE_EVENTS = frozenset({
    "thread.turn-queued", "thread.queued-turn-requeued", "thread.queued-turn-cancelled",
    "thread.queued-turn-moved", "thread.turn-start-requested", "thread.turn-completed",
    "thread.session-set", "thread.unarchived", "thread.turn-interrupt-requested",
    "thread.session-stop-requested",
})  # fmt: skip
CLAIM_EVENTS = frozenset({
    "thread.turn-queued", "thread.queued-turn-requeued", "thread.queued-turn-cancelled",
    "thread.queued-turn-moved", "thread.turn-start-requested", "thread.unarchived",
    "thread.turn-interrupt-requested", "thread.session-stop-requested",
})  # fmt: skip
# Wake this long after a lease of interest expires, so that its expiry is in the past by then.
_EXPIRY_MARGIN_S = 0.01


@dataclass(frozen=True, slots=True)
class ReactorOptions:
    thread_ids: frozenset[str] | None = None  # scope: these threads only
    project_id: str | None = None  # scope: this project's threads only
    max_concurrent: int = 8
    poll_interval_s: float = 0.02
    lease_ttl_s: float = 15.0
    recover: RecoverMode = "at-most-once"
    adopt: bool = True  # claim threads with work at start and on every lease tick
    owner: str | None = None


def _threads_with_work(model: ReadModel) -> set[str]:
    ids = set(model.active_turns)
    for thread_id, items in model.queues.items():
        if items and (items[0].status == "pending" or any(i.status == "sending" for i in items)):
            ids.add(thread_id)
    for thread_id, session in model.sessions.items():
        if session.status in ("starting", "running") or session.stop_requested:
            ids.add(thread_id)
    return {t for t in ids if t in model.threads and not model.threads[t].archived}


class Reactor:
    def __init__(
        self,
        database: Path,
        config: Config,
        options: ReactorOptions | None = None,
        observer: Observer | None = None,
    ) -> None:
        self.database = database
        self.config = config
        self.options = options or ReactorOptions()
        self._observer: Observer = observer or NullObserver()
        self.owner = self.options.owner or leases.new_owner()
        self.outcomes: collections.Counter[str] = collections.Counter()
        self.closing = False
        self._counter = WorkCounter()
        self._claims = itertools.count(1)
        self._scope_ids: set[str] | None = (
            set(self.options.thread_ids) if self.options.thread_ids is not None else None
        )
        limits = Limits(max_message_chars=config.max_message_chars)
        self._writer = DbWorker("t3-reactor-write", self._open, limits=limits)
        self._reader = DbWorker("t3-reactor-read", self._open)
        self._keeper = LeaseKeeper(self._writer, self.owner, self.options.lease_ttl_s)
        self._summaries = SummaryWorker(self._writer)
        services = TurnServices(
            reader=self._reader,
            commit=self.commit,
            config=config,
            slots=asyncio.Semaphore(self.options.max_concurrent),
            observer=self._observer,
            closing=lambda: self.closing,
        )
        self._services = services
        self._work = ThreadWork(self, services)
        self.lanes = LaneTable(self._work, self._counter, self._watched, self._caught_up)
        self._adoption = Adoption(self, self._counter)
        self._watcher: LogWatcher | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._started = False
        self._closed = False

    def _open(self) -> sqlite3.Connection:
        # NORMAL durability is allowed for the reactor's bulk ingestion (DESIGN.md).
        return connect(self.database, durability="normal")

    @property
    def observer(self) -> Observer:
        return self._observer

    @observer.setter
    def observer(self, observer: Observer) -> None:
        """Replace the observer (before `start`, e.g. once the output mode is known)."""
        self._observer = observer
        self._services.observer = observer

    # --- plumbing used by the lanes ------------------------------------------------------------

    @property
    def reader(self) -> DbWorker:
        return self._reader

    @property
    def keeper(self) -> LeaseKeeper:
        return self._keeper

    @property
    def scope_ids(self) -> set[str] | None:
        """The threads in scope (None: all of them)."""
        return self._scope_ids

    def room_freed(self) -> None:
        """A lane closed (called by the lanes)."""
        self._adoption.room_freed()

    def next_claim(self) -> str:
        return f"{self.owner}:{next(self._claims)}"

    def _watched(self) -> int:
        return self._watcher.cursor if self._watcher is not None else 0

    async def _caught_up(self, sequence: int) -> None:
        if self._watcher is not None:
            await self._watcher.reached(sequence)

    async def commit(self, commands: Sequence[c.Command]) -> list[Outcome]:
        """Dispatch reactor commands (group-committed); lock waits are retried with the same ids,
        which the engine deduplicates. Each thread's lane learns the sequence of what it wrote."""
        for attempt in range(6):
            try:
                outcomes = await self._writer.dispatch(commands)
                break
            except DatabaseLocked:
                if attempt == 5:
                    raise
                await asyncio.sleep(0.05 * 2**attempt)
        for command, outcome in zip(commands, outcomes, strict=True):
            if isinstance(outcome, DispatchResult) and outcome.events:
                lane = self.lanes.get(getattr(command, "thread_id", ""))
                if lane is not None:
                    lane.written = max(lane.written, outcome.sequence)
        return outcomes

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the database, bootstrap from the projections, claim and recover the threads that
        have work, and start watching the log."""
        await self._writer.start()
        await self._reader.start()
        opts = self.options
        wanted = set(opts.thread_ids) if opts.thread_ids is not None else None
        model = await self._reader.call(lambda conn: bootstrap(conn, thread_ids=wanted))
        if opts.project_id is not None:
            in_project = {t for t, i in model.threads.items() if i.project_id == opts.project_id}
            self._scope_ids = in_project if wanted is None else in_project & wanted
        self._watcher = LogWatcher(
            self._reader, cursor=model.head, interval_s=opts.poll_interval_s, sink=self._route
        )
        await self._summaries.start_cursor()
        self._summaries.notify(model.head)
        self._tasks = [
            asyncio.create_task(self._watcher.run(), name="reactor-watch"),
            asyncio.create_task(self._summaries.run(), name="reactor-summaries"),
            asyncio.create_task(self._lease_ticks(), name="reactor-leases"),
            asyncio.create_task(self._release_loop(), name="reactor-releases"),
        ]
        self._started = True
        if opts.adopt:
            await self._adoption.adopt(_threads_with_work(model) & self._scope(model))
            self._adoption.request_scan()  # and when do other reactors' leases on work expire?

    def _scope(self, model: ReadModel) -> set[str]:
        ids = set(model.threads)
        return ids if self._scope_ids is None else ids & self._scope_ids

    def in_scope(self, thread_id: str) -> bool:
        return self._scope_ids is None or thread_id in self._scope_ids

    async def claim(self, thread_id: str) -> bool:
        """Lease `thread_id` now and start driving it; False if another live owner holds it."""
        if thread_id in self._keeper.held:
            return True
        got = await self._keeper.claim({thread_id})
        if thread_id in got:
            self.lanes.post(thread_id, Marker.CLAIMED, held=True)
        return thread_id in got

    async def _lease_ticks(self) -> None:
        """Renew the leases every third of the TTL; scan for work nobody drives at the same
        ticks, when room was freed for work left waiting, and the moment a lease of another
        reactor on a thread with work expires."""
        loop = asyncio.get_running_loop()
        every = self.options.lease_ttl_s / 3
        next_renew = loop.time() + every
        adoption = self._adoption
        while True:
            wake = next_renew
            if adoption.next_expiry is not None:
                expiry = loop.time() + adoption.next_expiry - time.time() + _EXPIRY_MARGIN_S
                wake = min(wake, expiry)
            woken = False
            try:
                async with asyncio.timeout(max(0.0, wake - loop.time())):
                    woken = await adoption.wanted.wait()
            except TimeoutError:
                pass
            adoption.wanted.clear()
            try:
                tick = loop.time() >= next_renew
                if tick:
                    next_renew = loop.time() + every
                    for thread_id in await self._keeper.renew():
                        await self._lost(thread_id)
                scan = tick or not woken or adoption.scan_requested
                if self.options.adopt and (scan or not await adoption.take_waiting()):
                    await adoption.scan()
                await adoption.show_waiting()
            except DatabaseLocked:
                continue  # the next tick renews; the TTL leaves room for two misses
            finally:
                adoption.scan_done()

    async def _lost(self, thread_id: str) -> None:
        """Another reactor took the thread over (our lease had expired: this process stalled).
        It now drives the thread, so our agent for it must stop; its end may be recorded by
        either side, and the engine accepts only one."""
        self.observer.on_notice(f"{thread_id[:8]} lease lost to another reactor; stopping its turn")
        lane = self.lanes.get(thread_id)
        if lane is None:
            return
        lane.held = False
        lane.refused = True
        if lane.turn is not None:
            await lane.turn.stop()

    async def _release_loop(self) -> None:
        while True:
            await self._keeper.releases_due.wait()
            try:
                await self._keeper.flush_releases()
            except DatabaseLocked:
                await asyncio.sleep(self.options.poll_interval_s)

    def _note_created(self, thread_id: str, event: EventRecord) -> None:
        """A thread created in the `--project` scope joins the scope."""
        opts = self.options
        if opts.project_id is None or event.payload.get("project_id") != opts.project_id:
            return
        if opts.thread_ids is None or thread_id in opts.thread_ids:
            assert self._scope_ids is not None
            self._scope_ids.add(thread_id)

    def _route(self, events: list[EventRecord]) -> None:
        """Hand each new event to its thread's lane (called by the watcher, in log order)."""
        self._summaries.notify(events[-1].sequence)
        for event in events:
            if event.stream_kind != "thread":
                continue
            thread_id = event.stream_id
            if event.type == "thread.created":
                self._note_created(thread_id, event)
            if not self.in_scope(thread_id):
                continue
            lane = self.lanes.get(thread_id)
            held = thread_id in self._keeper.held
            if (held or (lane is not None and lane.held)) and self._ours_to_report(event):
                self.observer.on_event(event)
            elif event.actor != "reactor" and self._adoption.waits_here(thread_id):
                # A thread waiting for room here: what users do to it (another reactor may be
                # the one that takes it on, and reports its turns).
                self.observer.on_event(event)
            if event.type not in LANE_EVENTS:
                continue
            if lane is None and not held:
                if event.type not in CLAIM_EVENTS or self.closing:
                    continue
                if self._adoption.no_room_for(thread_id):
                    continue  # taken on when a lane closes (or by another reactor)
            if held:
                self._keeper.keep(thread_id)
            self.lanes.post(thread_id, event, held=held)

    def _ours_to_report(self, event: EventRecord) -> bool:
        """False for what another reactor wrote while it drove the thread, before we acquired it
        (a lagging watcher reads it only now): each reactor reports the turns it drove. Users'
        events are reported by whoever drives the thread when they are read."""
        if event.actor != "reactor":
            return True
        return event.sequence > self._keeper.since.get(event.stream_id, 0)

    async def drain(self) -> None:
        """Return once every event up to the log head has been handled, nothing runs and the
        head did not move meanwhile (our own writes are events too)."""
        assert self._watcher is not None, "start() first"
        while True:
            head = await self._reader.call(eventlog.head)
            await self._watcher.reached(head)
            await self._counter.wait_idle()
            if self._counter.count == 0 and await self._reader.call(eventlog.head) == head:
                return

    async def projected(self, at: int | None = None) -> int:
        """Barrier: return once thread_summaries has applied every event up to `at` (default:
        the head now). Raises `ProjectionFailed` if the background worker failed."""
        target = await self._reader.call(eventlog.head) if at is None else at
        return await self._summaries.projected(target)

    async def until_idle(self) -> None:
        """Return when no thread in scope has eligible work (an active turn, an item being sent,
        a pending head), leaving out threads another live reactor holds."""
        opts = self.options
        scope = self._scope_ids

        def busy(conn: sqlite3.Connection) -> set[str]:
            found = rq.threads_with_eligible_work(
                conn, thread_ids=scope, project_id=opts.project_id
            )
            return found - leases.held_by_others(conn, self.owner)

        while True:
            await self.drain()
            remaining = await self._reader.call(busy)
            if not remaining:
                return
            await self._adoption.adopt(remaining)
            await asyncio.sleep(opts.poll_interval_s)

    async def wait_failed(self) -> None:
        """Return (by raising its error) only if the log watcher dies; otherwise wait forever."""
        assert self._tasks, "start() first"
        await asyncio.shield(self._tasks[0])  # cancelling the waiter must not stop the watcher

    def running_turns(self) -> list[str]:
        return [lane.turn.turn_id for lane in self.lanes.lanes.values() if lane.turn is not None]

    async def close(
        self, *, on_exit: OnExit = "interrupt", kill: asyncio.Event | None = None
    ) -> None:
        """Stop starting turns; interrupt (or let finish) running ones and wait for their ends to
        be recorded (`kill` set: stop them at once); record sessions `stopped`; release leases."""
        if self._closed:
            return
        self._closed = True
        self.closing = True
        if self._started:
            await self._work.end_turns(on_exit, kill)
            try:  # let the turns' ends be read back and reported before the watcher stops
                await asyncio.wait_for(self.drain(), 5)
            except (TimeoutError, T3Error):
                pass
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self.lanes.cancel_all()
            await self._work.record_sessions_stopped()
            try:
                await self._keeper.release_all()
            except DatabaseLocked:
                self.observer.on_notice("could not release leases (they expire by themselves)")
        await self._reader.close()
        await self._writer.close()

    async def __aenter__(self) -> Reactor:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

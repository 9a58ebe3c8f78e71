"""Which threads a reactor takes on, and when: no more than it can run now, oldest work first.

A reactor with `--max-concurrent N` leases at most N threads at a time (counting lanes that
drive a thread and claims in flight), so that other reactors on the same database take the rest
instead of idling while one reactor holds every thread and runs N of them. Work it leaves for
lack of room is taken on as soon as one of its lanes closes (`room_freed`), the oldest waiting
work first (`reactor_queries.oldest_work_first`): the threads left are remembered in that order
(`waiting`) and claimed from there, so a lane closing costs one claim, not a scan of the
database; what was taken meanwhile by another reactor is simply not granted.

A thread whose lease another reactor holds is taken over the moment that lease expires: each
scan notes the earliest expiry among such threads (`next_expiry`), and the reactor's lease loop
wakes for it, instead of at its next tick (up to a third of the TTL later).

Threads left waiting are still shown: the observer gets a snapshot of each (up to `SHOWN`, the
oldest work first — the live view lists them `queued`), and the reactor reports their events
as it does those of the threads it drives (`waits_here`).

An explicit `Reactor.claim` (the reactor embedded in `t3 send`) is not limited: it drives the one
thread it was started for.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import TYPE_CHECKING

from t3cli.reactor.lanes import Marker, WorkCounter
from t3cli.store import leases
from t3cli.store import reactor_queries as rq

if TYPE_CHECKING:
    from collections.abc import Collection

    from t3cli.reactor.loop import Reactor

SHOWN = 200  # threads left waiting whose state the observer is given


class Adoption:
    def __init__(self, reactor: Reactor, counter: WorkCounter) -> None:
        self._r = reactor
        self._counter = counter
        self._claiming = 0
        self._lock = asyncio.Lock()
        self._waiting: list[str] = []  # left for lack of room, oldest work first
        self._shown: set[str] = set()  # of those, the ones the observer has seen
        self._scan_owed = False  # counted as outstanding work until the scan is done
        self.scan_requested = False
        self.next_expiry: float | None = None  # wall clock: a lease of interest runs out
        self.wanted = asyncio.Event()  # scan now (room was freed for work left waiting)

    def room(self) -> int:
        """How many more threads this reactor may take on now (a thread whose release is not
        written yet still counts: its lease row is still there)."""
        r = self._r
        driving = sum(1 for lane in r.lanes.lanes.values() if not lane.refused)
        return r.options.max_concurrent - driving - self._claiming - r.keeper.releasing

    def no_room_for(self, thread_id: str) -> bool:
        """For a thread that just got work: True (and noted) if there is no room for it now."""
        if self.room() > 0:
            return False
        if thread_id not in self._waiting:
            self._waiting.append(thread_id)
            self.wanted.set()  # to show it (`show_waiting`)
        return True

    def waits_here(self, thread_id: str) -> bool:
        """The thread was left waiting for room in this reactor (its events are reported)."""
        return thread_id in self._shown

    async def show_waiting(self) -> None:
        """Give the observer the state of threads left waiting that it has not seen yet."""
        waiting = self._waiting[:SHOWN]
        self._shown &= set(waiting)
        fresh = [t for t in waiting if t not in self._shown]
        if not fresh:
            return
        r = self._r

        def read(conn: sqlite3.Connection) -> list[rq.ThreadSnapshot]:
            found = (rq.thread_snapshot(conn, thread_id) for thread_id in fresh)
            return [snapshot for snapshot in found if snapshot is not None]

        for snapshot in await r.reader.call(read):
            r.observer.on_snapshot(snapshot)
            self._shown.add(snapshot.thread_id)

    def room_freed(self) -> None:
        """A lane closed: if work was left for lack of room, take it on now. Until that is done
        it counts as outstanding work, so `Reactor.drain` waits for it."""
        if self._waiting and not self._scan_owed:
            self._scan_owed = True
            self._counter.add()
            self.wanted.set()

    async def take_waiting(self) -> bool:
        """Claim what was left for lack of room, as far as there is room now — after writing
        the releases that made the room; False if nothing was waiting (then a scan is what
        finds work)."""
        if not self._waiting:
            return False
        await self._r.keeper.flush_releases()
        waiting, self._waiting = self._waiting, []
        async with self._lock:
            await self._claim_in_order(waiting)
        return True

    def request_scan(self) -> None:
        self.scan_requested = True
        self.wanted.set()

    def scan_done(self) -> None:
        if self._scan_owed:
            self._scan_owed = False
            self._counter.done()

    async def adopt(self, thread_ids: Collection[str]) -> None:
        """Lease and start driving as many of `thread_ids` as there is room for, oldest waiting
        work first; the rest is left for later (`room_freed`, the next scan)."""
        r = self._r
        async with self._lock:
            fresh = set(thread_ids) - r.keeper.held - set(r.lanes.lanes)
            if r.closing:
                return
            self._waiting = []
            if len(fresh) > self.room():
                order = await r.reader.call(lambda conn: rq.oldest_work_first(conn, fresh))
            else:
                order = sorted(fresh)
            await self._claim_in_order(order)

    async def _claim_in_order(self, order: list[str]) -> None:
        """Claim `order`'s threads, first ones first, while there is room; remember the rest."""
        r = self._r
        order = [t for t in order if t not in r.keeper.held and r.lanes.get(t) is None]
        while order and not r.closing:
            room = self.room()
            if room <= 0:
                self._waiting = order + [t for t in self._waiting if t not in order]
                return
            batch, order = order[:room], order[room:]
            self._claiming += len(batch)
            try:
                got = await r.keeper.claim(batch)
            finally:
                self._claiming -= len(batch)
            for thread_id in sorted(got):
                r.lanes.post(thread_id, Marker.CLAIMED, held=True)

    async def scan(self) -> None:
        """Claim threads in scope whose work nobody (alive) drives — startup leftovers, expired
        leases of dead reactors, `t3 send --no-wait` turns — and note when the next lease on a
        thread with work held by another reactor expires."""
        r = self._r
        opts = r.options

        def query(conn: sqlite3.Connection) -> tuple[set[str], float | None]:
            found = rq.threads_needing_a_reactor(
                conn, thread_ids=r.scope_ids, project_id=opts.project_id
            )
            others = leases.expiries_of_others(conn, r.owner)
            held = found & set(others)
            return found - held, min((others[t] for t in held), default=None)

        self.scan_requested = False
        found, self.next_expiry = await r.reader.call(query)
        await self.adopt(found)

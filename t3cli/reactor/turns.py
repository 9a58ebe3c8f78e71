"""Running one turn: from a `requested` turn to its committed end.

Delivery discipline (what recovery relies on):
1. Wait for a slot of `--max-concurrent` (a waiting turn stays `requested`).
2. Commit `thread.turn.started` (turn → `running`) *before* the agent is launched. Its command id
   is derived from the turn id, so only the first attempt is accepted: a duplicate or a rejection
   means someone else already delivered (or ended) this turn, and it is not launched again.
   Hence a turn still `requested` after a crash was never delivered, and may simply run.
3. Launch the agent. A subprocess agent first gets its process group (its leash), which is
   recorded with the turn (`thread.turn.agent-launch`, accepted only while the turn is
   `running`) before the agent itself starts: a recovering reactor can find and end it, and a
   turn someone else ended meanwhile never reaches its agent (`_launch_gate`).
   Then ingest its runtime events (`ingest.TurnIngestor`), committing in batches.
4. Commit the end: the last batch of runtime events (those that arrived with the outcome), the
   rest of the text, `thread.turn.completed` (which resolves or fails the linked queued item in
   the same transaction) and the session's status — one transaction.

A turn interrupted (or stopped) before it was launched is completed `interrupted` without ever
reaching the agent. A queued turn still waiting for its slot (or not yet launched) when the
reactor closes goes back to its queue unsent (README: "Turns waiting for a slot stay queued"):
its turn is completed `interrupted` ("not sent") and its item requeued as the pending head, in
one transaction; a turn started directly (`t3 send --no-wait`) stays `requested` for the next
reactor. A provider that cannot be built (unknown name, bad config) completes the turn
`failed` with that message.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from t3cli.config import Config
from t3cli.contracts import commands as c
from t3cli.contracts.ids import derived_id
from t3cli.contracts.runtime import (
    RuntimeEvent,
    TextCompleted,
    TextDelta,
    TurnCompleted,
    TurnStatus,
)
from t3cli.domain.rejections import CommandRejected
from t3cli.errors import T3Error
from t3cli.providers.agent_groups import LAUNCH_GATE, AgentGroup, LaunchGate
from t3cli.providers.base import TurnRequest, TurnRun
from t3cli.reactor.dbworker import DbWorker, Outcome
from t3cli.reactor.ingest import TurnIngestor
from t3cli.reactor.observer import Observer, TurnResult
from t3cli.store import reactor_queries as rq

_MAX_EVENTS_PER_BATCH = 500
# Text taken from the provider per commit batch, and runtime events waiting between the provider
# and ingestion: with the pipes' own limits, what bounds memory however long the reply.
_MAX_TEXT_PER_BATCH = 1024 * 1024
_EVENTS_IN_FLIGHT = 16
Commit = Callable[[Sequence[c.Command]], Awaitable[list[Outcome]]]


@dataclass(slots=True)
class TurnServices:
    """What a running turn needs from its reactor."""

    reader: DbWorker
    commit: Commit
    config: Config
    slots: asyncio.Semaphore
    observer: Observer
    closing: Callable[[], bool]


class TurnHandle:
    """A turn this reactor is running (or about to). Lives in its thread's lane."""

    def __init__(self, thread_id: str, turn_id: str) -> None:
        self.thread_id = thread_id
        self.turn_id = turn_id
        self.queue_item_id: str | None = None
        self.run: TurnRun | None = None
        self.task: asyncio.Task[TurnResult | None] | None = None
        self.interrupt_requested = False
        self.stop_requested = False
        self.interrupt_on_launch = False  # closing with on_exit="interrupt" (see `wake`)
        self._wake = asyncio.Event()

    async def interrupt(self) -> None:
        self.interrupt_requested = True
        self._wake.set()
        if self.run is not None:
            await self.run.interrupt()

    async def stop(self) -> None:
        self.stop_requested = True
        self._wake.set()
        if self.run is not None:
            await self.run.stop()

    def wake(self, *, interrupt_if_launched: bool = False) -> None:
        """Wake a turn waiting for a slot (the reactor is closing: it will not be launched).
        `interrupt_if_launched`: a turn already past its slot (recorded `running`, its agent being
        launched) is interrupted as soon as the agent is launched."""
        self.interrupt_on_launch = interrupt_if_launched
        self._wake.set()


async def _take_slot(slots: asyncio.Semaphore, wake: asyncio.Event) -> bool:
    """Acquire a slot unless woken first. True: the caller holds a slot."""
    acquire = asyncio.ensure_future(slots.acquire())
    woken = asyncio.ensure_future(wake.wait())
    try:
        await asyncio.wait({acquire, woken}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        woken.cancel()
    if acquire.done() and not acquire.cancelled():
        if wake.is_set():
            slots.release()
            return False
        return True
    acquire.cancel()
    try:
        await acquire
    except asyncio.CancelledError:
        return False
    slots.release()  # it was granted in the same instant
    return False


async def run_turn(s: TurnServices, h: TurnHandle) -> TurnResult | None:
    """Run `h`'s turn to its committed end. Returns None when the turn was not this reactor's to
    run (already started or ended elsewhere, or the reactor is closing: it stays `requested`)."""
    if not await _take_slot(s.slots, h._wake):
        return await _end_unlaunched(s, h)
    try:
        return await _run_with_slot(s, h)
    finally:
        s.slots.release()


async def _end_unlaunched(s: TurnServices, h: TurnHandle) -> TurnResult | None:
    if h.interrupt_requested or h.stop_requested:
        return await _complete_unlaunched(s, h, "interrupted", "interrupted before it started")
    if s.closing():
        await _requeue_unsent(s, h)
    return None


NOT_SENT = "not sent: the reactor stopped before a slot was free; queued again"


async def _requeue_unsent(s: TurnServices, h: TurnHandle) -> None:
    """The reactor is closing and `h` never reached its agent: put a queued turn back in its
    queue (see the module docstring). Ids derive from the turn: a repeat appends nothing."""
    launch = await s.reader.call(lambda conn: rq.turn_launch(conn, h.turn_id))
    if launch is None or launch.status != "requested" or launch.queue_item_id is None:
        return
    await s.commit(
        [
            _unlaunched_end(h, "interrupted", NOT_SENT, queue_failure_reason=NOT_SENT),
            c.QueuedTurnRetry(
                command_id=derived_id("turn.unsent.requeue", h.turn_id),
                actor="reactor",
                thread_id=h.thread_id,
                queue_item_id=launch.queue_item_id,
            ),
        ]
    )


def _unlaunched_end(
    h: TurnHandle, status: TurnStatus, error: str, *, queue_failure_reason: str | None = None
) -> c.TurnCompletedCmd:
    """The end of a turn that never reached its agent (its id: the turn's one end)."""
    return c.TurnCompletedCmd(
        command_id=derived_id("turn.completed", h.turn_id),
        actor="reactor",
        thread_id=h.thread_id,
        turn_id=h.turn_id,
        status=status,
        error=error,
        queue_failure_reason=queue_failure_reason,
    )


async def _complete_unlaunched(
    s: TurnServices, h: TurnHandle, status: TurnStatus, error: str
) -> TurnResult | None:
    outcome = (await s.commit([_unlaunched_end(h, status, error)]))[0]
    if isinstance(outcome, CommandRejected) or outcome.duplicate:
        return None
    result = TurnResult(h.thread_id, h.turn_id, h.queue_item_id, status, error, "", launched=False)
    s.observer.on_turn_finished(result)
    return result


async def _run_with_slot(s: TurnServices, h: TurnHandle) -> TurnResult | None:
    if h.interrupt_requested or h.stop_requested or s.closing():
        return await _end_unlaunched(s, h)
    launch = await s.reader.call(lambda conn: rq.turn_launch(conn, h.turn_id))
    if launch is None or launch.status != "requested":
        return None
    h.queue_item_id = launch.queue_item_id
    if launch.provider is None or launch.cwd is None or launch.text is None:
        return await _complete_unlaunched(s, h, "failed", "the turn's thread or message is missing")
    from t3cli.providers.registry import get_provider

    try:
        provider = get_provider(s.config, launch.provider)
    except T3Error as exc:
        return await _complete_unlaunched(s, h, "failed", exc.message)
    except Exception as exc:  # a provider that cannot even be built must not leave the turn hanging
        error = f"provider {launch.provider!r} could not be set up: {type(exc).__name__}: {exc}"
        return await _complete_unlaunched(s, h, "failed", error)
    # The gate: recorded `running` before the agent sees anything (see module docstring).
    started = (
        await s.commit(
            [
                c.TurnStartedCmd(
                    command_id=derived_id("turn.started", h.turn_id),
                    actor="reactor",
                    thread_id=h.thread_id,
                    turn_id=h.turn_id,
                )
            ]
        )
    )[0]
    if isinstance(started, CommandRejected) or started.duplicate:
        return None
    session_usage = None
    if provider.cumulative_usage and launch.provider_session_id:
        from t3cli.store.usage import session_usage_total

        resumed = launch.provider_session_id
        session_usage = await s.reader.call(
            lambda conn: session_usage_total(conn, h.thread_id, resumed)
        )
    ingestor = TurnIngestor(
        h.thread_id,
        h.turn_id,
        provider.name,
        recorded_session_id=launch.provider_session_id,
        session_usage=session_usage,
    )
    await s.commit(
        [
            c.SessionSet(
                command_id=derived_id("session.turn-running", h.turn_id),
                actor="reactor",
                thread_id=h.thread_id,
                status="running",
                provider=provider.name,
            )
        ]
    )
    request = TurnRequest(
        thread_id=h.thread_id,
        turn_id=h.turn_id,
        cwd=Path(launch.cwd),
        message=launch.text,
        resume_session_id=launch.provider_session_id,
        model=launch.model,
        session_usage=session_usage,
    )
    LAUNCH_GATE.set(_launch_gate(s, h))  # this task's context, and the tasks it creates
    run = provider.start_turn(request)
    h.run = run
    s.observer.on_turn_launched(h.thread_id, h.turn_id, h.queue_item_id)
    if h.stop_requested:
        await run.stop()
    elif h.interrupt_requested or h.interrupt_on_launch:
        await run.interrupt()
    return await _ingest(s, h, run, ingestor)


def _launch_gate(s: TurnServices, h: TurnHandle) -> LaunchGate:
    """Records the agent's process group with the turn; False if the turn is not running any
    more (recovered or ended by someone else): the agent must then not start."""

    async def record(group: AgentGroup) -> bool:
        outcome = (
            await s.commit(
                [
                    c.TurnAgentLaunch(
                        command_id=derived_id("turn.agent-launch", h.turn_id),
                        actor="reactor",
                        thread_id=h.thread_id,
                        turn_id=h.turn_id,
                        host=group.host,
                        process_space=group.process_space,
                        pgid=group.pgid,
                        leader_start=group.leader_start,
                    )
                ]
            )
        )[0]
        return not isinstance(outcome, CommandRejected) and not outcome.duplicate

    return record


async def _pump(run: TurnRun, queue: asyncio.Queue[RuntimeEvent]) -> None:
    try:
        async for event in run.events():
            await queue.put(event)
            if isinstance(event, TurnCompleted):
                return
        await queue.put(TurnCompleted("failed", error="the provider ended without an outcome"))
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # the guard prevents this; a bug must still end the turn
        await queue.put(TurnCompleted("failed", error=f"provider error: {exc!r}"))


async def _next_events(
    queue: asyncio.Queue[RuntimeEvent], ingestor: TurnIngestor
) -> list[RuntimeEvent]:
    """Everything available now (at least one event), or [] when buffered text is due."""
    deadline = ingestor.next_deadline()
    timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
    try:
        first = await asyncio.wait_for(queue.get(), timeout)
    except TimeoutError:
        return []
    events = [first]
    text = _text_size(first)
    while len(events) < _MAX_EVENTS_PER_BATCH and text < _MAX_TEXT_PER_BATCH and not queue.empty():
        event = queue.get_nowait()
        events.append(event)
        text += _text_size(event)
    return events


def _text_size(event: RuntimeEvent) -> int:
    return len(event.text) if isinstance(event, TextDelta | TextCompleted) else 0


async def _ingest(
    s: TurnServices, h: TurnHandle, run: TurnRun, ingestor: TurnIngestor
) -> TurnResult | None:
    began = time.monotonic()
    queue: asyncio.Queue[RuntimeEvent] = asyncio.Queue(_EVENTS_IN_FLIGHT)
    pump = asyncio.create_task(_pump(run, queue), name=f"turn-pump-{h.turn_id[:8]}")
    completed: TurnCompleted | None = None
    last: list[c.Command] = []  # the batch that saw the end: committed with the closing commands
    try:
        while completed is None:
            events = await _next_events(queue, ingestor)
            batch: list[c.Command] = [] if events else ingestor.due()
            for event in events:
                if isinstance(event, TurnCompleted):
                    completed = event
                    break
                commands, text = ingestor.feed(event)
                batch += commands
                if text:
                    s.observer.on_text(h.thread_id, h.turn_id, text)
            if completed is not None:
                last = batch
            elif batch:
                await s.commit(batch)
    except Exception as exc:  # e.g. the database stayed locked: end the agent, record if we can
        await run.stop()
        completed = TurnCompleted("failed", error=f"the reactor failed during the turn: {exc}")
    finally:
        if completed is None:  # cancelled: the guard kills the agent when the pump is cancelled
            pump.cancel()
        await asyncio.gather(pump, return_exceptions=True)
    duration_ms = int((time.monotonic() - began) * 1000)
    closing = ingestor.finish(
        completed,
        duration_ms=duration_ms,
        session_status="stopped" if h.stop_requested else "ready",
    )
    outcomes = await s.commit(last + closing)
    ended = outcomes[-2]
    if isinstance(ended, CommandRejected):
        s.observer.on_notice(f"{h.thread_id[:8]} could not record the turn's end: {ended.reason}")
        return None
    usage = ingestor.usage
    result = TurnResult(
        thread_id=h.thread_id,
        turn_id=h.turn_id,
        queue_item_id=h.queue_item_id,
        status=completed.status,
        error=completed.error,
        reply=ingestor.reply,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cost_usd=usage.cost_usd,
        duration_ms=duration_ms,
    )
    s.observer.on_turn_finished(result)
    return result

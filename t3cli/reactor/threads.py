"""What a lane does for its thread: claim, recover, react to events, drain, and shut down.

This is the `LaneHandler` of the reactor. Each method runs inside the thread's own lane (or at
shutdown), so one thread's slow database read or hung agent never delays another thread.

- `handle`: first makes sure the thread is this reactor's (claims the lease if needed; a thread
  another live reactor holds is left alone) and recovered; then delivers interrupts and stop
  requests to the running turn at once, and marks the thread for a check.
- `settle`: runs once the lane's queue is empty — reads a fresh snapshot and applies
  `drain.next_step` until there is nothing left to do or a turn was started.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from t3cli.contracts import commands as c
from t3cli.contracts.events import EventRecord
from t3cli.contracts.ids import derived_id
from t3cli.domain.rejections import CommandRejected
from t3cli.errors import T3Error
from t3cli.reactor.drain import InterruptUnstarted, RunTurn, SendHead, next_step
from t3cli.reactor.lanes import Lane, LaneItem, Marker
from t3cli.reactor.observer import TurnResult
from t3cli.reactor.recovery import plan_recovery, resend_command
from t3cli.reactor.turns import TurnHandle, TurnServices, run_turn
from t3cli.store import leases
from t3cli.store import reactor_queries as rq
from t3cli.store.reactor_queries import TurnRow

if TYPE_CHECKING:
    import asyncio
    import sqlite3

    from t3cli.reactor.loop import OnExit, Reactor

_STOP_GRACE_S = 10.0


class ThreadWork:
    def __init__(self, reactor: Reactor, services: TurnServices) -> None:
        self._r = reactor
        self._services = services

    # --- LaneHandler ---------------------------------------------------------------------------

    async def handle(self, lane: Lane, item: LaneItem) -> None:
        r = self._r
        if item is Marker.TURN_ENDED:
            turn = lane.turn
            if turn is not None and turn.task is not None and turn.task.done():
                lane.finished_turns.add(turn.turn_id)
                lane.turn = None
        if lane.refused:
            return  # (a lane whose lease was lost still lets its running turn end, above)
        if not lane.held:
            if lane.thread_id not in await r.keeper.claim({lane.thread_id}):
                lane.refused = True  # another live reactor drives it
                return
            lane.held = True
            if isinstance(item, EventRecord):
                r.observer.on_event(item)
        if not lane.recovered:
            lane.recovered = True
            await self._recover(lane)
        lane.needs_check = True
        if isinstance(item, Marker):
            return
        if item.type == "thread.turn-interrupt-requested":
            turn = lane.turn
            if turn is not None and turn.turn_id == item.payload.get("turn_id"):
                await turn.interrupt()
            # A turn not running here is completed `interrupted` by `settle` (drain policy).
        elif item.type == "thread.session-stop-requested":
            await self._stop_session(lane, item)

    async def settle(self, lane: Lane) -> None:
        r = self._r
        while not lane.refused:
            snapshot = await r.reader.call(lambda conn: rq.thread_snapshot(conn, lane.thread_id))
            if snapshot is not None:
                r.observer.on_snapshot(snapshot)
            step = next_step(
                snapshot,
                running_turn_id=lane.turn.turn_id if lane.turn is not None else None,
                finished_turn_ids=lane.finished_turns,
                may_start=lane.held and not r.closing,
            )
            if step is None:
                return
            if isinstance(step, RunTurn):
                self._spawn(lane, step.turn_id)
                return
            if isinstance(step, InterruptUnstarted):
                assert snapshot is not None and snapshot.active_turn is not None
                if not await self._complete_unstarted(snapshot.active_turn):
                    return
                continue
            assert isinstance(step, SendHead)
            sent = (
                await r.commit(
                    [
                        c.QueuedTurnSendStart(
                            command_id=step.command_id,
                            actor="reactor",
                            thread_id=lane.thread_id,
                            queue_item_id=step.queue_item_id,
                            turn_id=step.turn_id,
                        )
                    ]
                )
            )[0]
            if isinstance(sent, CommandRejected) or sent.duplicate:
                return  # state moved under us; the event that moved it brings another check
            self._spawn(lane, step.turn_id)
            return

    def lane_closed(self, lane: Lane) -> None:
        if lane.held and not lane.refused:
            self._r.keeper.release_later(lane.thread_id)
        self._r.room_freed()

    def lane_failed(self, lane: Lane, error: BaseException) -> None:
        self._r.observer.on_notice(
            f"{lane.thread_id[:8]} reactor error: {type(error).__name__}: {error}"
        )

    # --- helpers -------------------------------------------------------------------------------

    def _spawn(self, lane: Lane, turn_id: str) -> None:
        self._r.lanes.spawn_turn(lane, TurnHandle(lane.thread_id, turn_id), self._turn_main)

    async def _turn_main(self, handle: TurnHandle) -> TurnResult | None:
        result = await run_turn(self._services, handle)
        if result is not None:
            self._r.outcomes[result.status] += 1
        return result

    async def _complete_unstarted(self, turn: TurnRow) -> bool:
        error = "interrupted before it started"
        outcome = (
            await self._r.commit(
                [
                    c.TurnCompletedCmd(
                        command_id=derived_id("turn.completed", turn.turn_id),
                        actor="reactor",
                        thread_id=turn.thread_id,
                        turn_id=turn.turn_id,
                        status="interrupted",
                        error=error,
                    )
                ]
            )
        )[0]
        if isinstance(outcome, CommandRejected) or outcome.duplicate:
            return False
        self._r.outcomes["interrupted"] += 1
        self._r.observer.on_turn_finished(
            TurnResult(
                turn.thread_id, turn.turn_id, turn.queue_item_id, "interrupted", error, "",
                launched=False,
            )
        )  # fmt: skip
        return True

    async def _stop_session(self, lane: Lane, event: EventRecord) -> None:
        turn = lane.turn
        if turn is not None:
            await turn.stop()
            if turn.run is not None:
                return  # the turn's end records the session `stopped`
        await self._r.commit(
            [
                c.SessionSet(
                    command_id=derived_id("session.stop", event.event_id),
                    actor="reactor",
                    thread_id=lane.thread_id,
                    status="stopped",
                )
            ]
        )

    async def _end_agents_left(self, turn: TurnRow) -> str | None:
        """End what is left of the process groups of a turn a dead reactor ran (this host only).
        Returns the host where one may still run, if any could not be ended from here."""
        from t3cli.providers.agent_groups import AgentGroup, end_group

        r = self._r
        beyond_reach: str | None = None
        for p in await r.reader.call(lambda conn: rq.agent_groups(conn, turn)):
            group = AgentGroup(p["host"], p["process_space"], p["pgid"], p["leader_start"])
            fate = await end_group(group)
            if fate == "ended":
                r.observer.on_notice(
                    f"{turn.thread_id[:8]} ended the agent a stopped reactor left running"
                    f" (process group {group.pgid})"
                )
            elif fate in ("elsewhere", "unverified"):
                beyond_reach = group.host
        return beyond_reach

    async def _recover(self, lane: Lane) -> None:
        r = self._r
        snapshot = await r.reader.call(lambda conn: rq.thread_snapshot(conn, lane.thread_id))
        if snapshot is None:
            return
        r.observer.on_snapshot(snapshot)  # what recovery settles: observers learn its turn's item
        beyond_reach = None
        active = snapshot.active_turn
        if active is not None and active.status == "running":
            beyond_reach = await self._end_agents_left(active)
        plan = plan_recovery(
            snapshot, r.options.recover, r.next_claim(), agent_beyond_reach=beyond_reach
        )
        if plan.empty:
            return
        outcomes = await r.commit(plan.commands)
        accepted = [o for o in outcomes if not isinstance(o, CommandRejected) and not o.duplicate]
        stale = plan.resend_turn
        if stale is not None:
            text = await r.reader.call(lambda conn: rq.message_text(conn, stale.message_id))
            if text is not None:
                await r.commit([resend_command(lane.thread_id, stale, text)])
        if accepted:
            what = "re-sending" if r.options.recover == "resend" else "at most once"
            if beyond_reach is not None:
                what = f"not re-sent: its agent may still run on {beyond_reach}"
            r.observer.on_notice(
                f"{lane.thread_id[:8]} recovered what a stopped reactor left ({what})"
            )

    # --- shutdown ------------------------------------------------------------------------------

    async def end_turns(self, on_exit: OnExit, kill: asyncio.Event | None) -> None:
        """Wake turns waiting for a slot (they stay `requested`), interrupt running ones (or let
        them finish) — including one caught between being recorded `running` and its agent's
        launch — and wait until every turn task has recorded its end."""
        import asyncio

        handles = [lane.turn for lane in self._r.lanes.lanes.values() if lane.turn is not None]
        for handle in handles:
            if handle.run is None:
                handle.wake(interrupt_if_launched=on_exit == "interrupt")
            elif on_exit == "interrupt":
                await handle.interrupt()
        tasks = [h.task for h in handles if h.task is not None]
        if not tasks:
            return
        everything: asyncio.Future[list[object]] = asyncio.gather(*tasks, return_exceptions=True)
        if kill is None:
            await everything
            return
        killed: asyncio.Future[object] = asyncio.ensure_future(kill.wait())
        pending: list[asyncio.Future[object]] = [everything, killed]  # type: ignore[list-item]
        await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        killed.cancel()
        if everything.done():
            return
        for handle in handles:
            await handle.stop()
        try:
            await asyncio.wait_for(asyncio.shield(everything), _STOP_GRACE_S)
        except TimeoutError:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def record_sessions_stopped(self) -> None:
        """Record `stopped` for sessions in scope left starting/running/ready, except those of
        threads another live reactor drives: no agent runs for them once this reactor is gone."""
        r = self._r
        scope = None if r.options.thread_ids is None else set(r.options.thread_ids)
        project = r.options.project_id

        def query(conn: sqlite3.Connection) -> set[str]:
            live = rq.live_sessions(conn, thread_ids=scope, project_id=project)
            return live - leases.held_by_others(conn, r.owner)

        try:
            ids = sorted(await r.reader.call(query))
            commands: list[c.Command] = [
                c.SessionSet(
                    command_id=derived_id("session.final", r.owner, thread_id),
                    actor="reactor",
                    thread_id=thread_id,
                    status="stopped",
                )
                for thread_id in ids
            ]
            for start in range(0, len(commands), 200):
                await r.commit(commands[start : start + 200])
        except T3Error as exc:
            r.observer.on_notice(f"could not record the final session states: {exc.message}")

"""Recovery of a thread a reactor has just claimed: settle what a dead reactor left behind.

Runs once per claim, before the lane drains the thread, on a fresh snapshot taken *after* the
lease was acquired (so nobody else can be driving the thread meanwhile).

- A turn left `running` may or may not have reached its agent. Before anything is decided, the
  agent's process group (recorded with the turn) is ended if anything of it still runs on this
  host (`agent_groups.end_group`): nothing a dead reactor started runs beside what is decided
  next. Default (`at-most-once`): the turn is completed `failed` ("reactor stopped during the
  turn"), and its queued item — failed in the same transaction — gets the reason "reactor
  stopped during send; `t3 retry` to send again" and blocks its thread: a coding agent must not
  receive the same instruction twice behind the user's back. `resend` (at-least-once): the item
  fails with a reason that says it is being sent again, then is requeued (actor `reactor`), or —
  for a turn without a queued item — a new turn with the same message is started (its id
  derived from the old turn's, so a second recovery does not start a third). Except when the
  agent ran on another host (or this host cannot verify it is gone): then it may still be
  running there, so even `resend` does not send it again; the item fails with a reason that
  names the host, and the user decides (`t3 retry`).
- A turn still `requested` never reached an agent (the reactor records `running` before
  launching), so it is left alone: the lane simply runs it.
- A session left `starting` or `running` with no live turn is reset to `stopped`.

Every command id is derived from the turn, item or claim it settles: replaying a recovery
appends nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from t3cli.contracts import commands as c
from t3cli.contracts.ids import derived_id
from t3cli.store.reactor_queries import ThreadSnapshot, TurnRow

RecoverMode = Literal["at-most-once", "resend"]
TURN_ERROR = "reactor stopped during the turn"
RETRY_REASON = "reactor stopped during send; `t3 retry` to send again"
RESEND_REASON = "reactor stopped during send; sent again (--recover resend)"


def elsewhere_reason(host: str) -> str:
    """The reason of an item `resend` does not send again: its agent may still run on `host`."""
    return (
        f"reactor stopped during send; its agent ran on {host or 'another host'} and may still"
        " be running there, so it was not sent again: `t3 retry` once it has stopped"
    )


@dataclass(slots=True)
class RecoveryPlan:
    commands: list[c.Command] = field(default_factory=list)
    resend_turn: TurnRow | None = None  # a running turn without queued item, to start again

    @property
    def empty(self) -> bool:
        return not self.commands and self.resend_turn is None


def plan_recovery(
    snapshot: ThreadSnapshot,
    mode: RecoverMode,
    claim: str,
    *,
    agent_beyond_reach: str | None = None,
) -> RecoveryPlan:
    """What to commit, in order, to settle `snapshot`. `claim` names this claim (it makes the
    session reset's id unique to it). `agent_beyond_reach`: the host where the running turn's
    agent may still run (it could not be ended from here), else None."""
    out = RecoveryPlan()
    thread_id = snapshot.thread_id
    active = snapshot.active_turn
    stale_turn = active is not None and active.status == "running"
    resend = mode == "resend" and agent_beyond_reach is None
    if mode == "at-most-once":
        reason = RETRY_REASON
    elif resend:
        reason = RESEND_REASON
    else:
        reason = elsewhere_reason(agent_beyond_reach or "")
    if active is not None and stale_turn:
        out.commands.append(
            c.TurnCompletedCmd(
                command_id=derived_id("recover.turn", active.turn_id),
                actor="reactor",
                thread_id=thread_id,
                turn_id=active.turn_id,
                status="failed",
                error=TURN_ERROR,
                queue_failure_reason=reason,
            )
        )
    for item in snapshot.queue:
        # An item `sending` whose turn is not active cannot be produced by the engine (the turn's
        # end settles its item atomically); settle it anyway rather than block the thread forever.
        if item.status == "sending" and (active is None or item.turn_id != active.turn_id):
            out.commands.append(
                c.QueuedTurnSendFail(
                    command_id=derived_id("recover.item", item.queue_item_id, str(item.attempts)),
                    actor="reactor",
                    thread_id=thread_id,
                    queue_item_id=item.queue_item_id,
                    reason=RETRY_REASON,
                    turn_id=item.turn_id,
                )
            )
    if snapshot.session_status in ("starting", "running") and (active is None or stale_turn):
        out.commands.append(
            c.SessionSet(
                command_id=derived_id("recover.session", thread_id, claim),
                actor="reactor",
                thread_id=thread_id,
                status="stopped",
                error="the reactor driving this session stopped",
            )
        )
    if resend and active is not None and stale_turn:
        if active.queue_item_id is not None:
            out.commands.append(
                c.QueuedTurnRetry(
                    command_id=derived_id("recover.retry", active.queue_item_id, active.turn_id),
                    actor="reactor",
                    thread_id=thread_id,
                    queue_item_id=active.queue_item_id,
                )
            )
        else:
            out.resend_turn = active
    return out


def resend_command(thread_id: str, turn: TurnRow, text: str) -> c.TurnStart:
    """The new turn that re-sends `turn`'s message (`--recover resend`, no queued item). If the
    thread has queued work it is queued behind it rather than rejected."""
    return c.TurnStart(
        command_id=derived_id("recover.resend", turn.turn_id),
        actor="reactor",
        thread_id=thread_id,
        turn_id=derived_id("recover.resend.turn", turn.turn_id),
        message_id=derived_id("recover.resend.message", turn.turn_id),
        text=text,
        when_busy="queue",
        queue_item_id=derived_id("recover.resend.item", turn.turn_id),
    )

"""The queue policy: given one thread's state, what should its lane do next? Pure.

DESIGN.md, "Draining queued turns": a thread drains when its session is free (`idle`, `ready`,
`stopped`, or no session yet), it has no active turn, no item is `sending`, and its head item is
`pending` — strictly FIFO, one item in flight per thread. A `failed` head blocks its thread until
it is retried or cancelled. A `requested` turn (from `send.start`, or from `t3 send --no-wait`) is
run; one whose interrupt was asked for before it started is completed `interrupted` instead.

The ids of the send are derived from the item and its attempt count, so two lanes (or a lane and
its own retry after a crash) deciding the same send produce the same command, which the engine
accepts once.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from t3cli.contracts.ids import derived_id
from t3cli.domain.state import FREE_SESSION_STATES
from t3cli.store.reactor_queries import ThreadSnapshot


@dataclass(frozen=True, slots=True)
class RunTurn:
    turn_id: str


@dataclass(frozen=True, slots=True)
class InterruptUnstarted:
    turn_id: str


@dataclass(frozen=True, slots=True)
class SendHead:
    queue_item_id: str
    turn_id: str
    command_id: str


Step = RunTurn | InterruptUnstarted | SendHead


def send_ids(queue_item_id: str, attempts: int) -> tuple[str, str]:
    """(command id, turn id) of sending `queue_item_id` for its attempt number `attempts + 1`."""
    return (
        derived_id("send.start", queue_item_id, str(attempts)),
        derived_id("turn", queue_item_id, str(attempts)),
    )


def next_step(
    snapshot: ThreadSnapshot | None,
    *,
    running_turn_id: str | None,
    finished_turn_ids: Collection[str],
    may_start: bool,
) -> Step | None:
    """The one thing to do now for this thread, or None.

    `running_turn_id`: the turn this reactor is running on the thread, if any.
    `finished_turn_ids`: turns this lane already ran (a stale snapshot may still show them).
    `may_start`: False while the reactor is closing or no longer holds the thread's lease.
    """
    if snapshot is None or snapshot.deleted:
        return None
    active = snapshot.active_turn
    if active is not None:
        if active.turn_id == running_turn_id or active.turn_id in finished_turn_ids:
            return None
        if active.status != "requested":
            return None  # `running` elsewhere: only recovery may end it
        if active.interrupt_requested:
            return InterruptUnstarted(active.turn_id)
        return RunTurn(active.turn_id) if may_start else None
    if running_turn_id is not None or not may_start or snapshot.archived:
        return None
    if snapshot.sending is not None:
        return None
    if snapshot.session_status is not None and snapshot.session_status not in FREE_SESSION_STATES:
        return None
    head = snapshot.head
    if head is None or head.status != "pending":
        return None  # empty, or a failed head blocks the thread
    command_id, turn_id = send_ids(head.queue_item_id, head.attempts)
    return SendHead(head.queue_item_id, turn_id, command_id)

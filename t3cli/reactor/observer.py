"""What the reactor tells its audience (the live view, plain lines, JSON lines, `t3 send`).

The reactor calls an `Observer` from the event loop, synchronously; an observer must not block.
Calls for one thread come in the order things happened to that thread.

- `on_event(record)`: an event of a thread this reactor drives, as read from the log (including
  the reactor's own writes), in log order.
- `on_snapshot(snapshot)`: the thread's state whenever its lane looked at it.
- `on_turn_launched(...)`: a turn was recorded `running` and handed to its agent.
- `on_text(thread_id, turn_id, text)`: assistant text as it streams, before it is persisted.
- `on_turn_finished(result)`: a turn this reactor handled has ended and its end is committed.
- `on_notice(message)`: something about the reactor itself (leases, recovery, warnings).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from t3cli.contracts.events import EventRecord
from t3cli.store.reactor_queries import ThreadSnapshot


@dataclass(frozen=True, slots=True)
class TurnResult:
    thread_id: str
    turn_id: str
    queue_item_id: str | None
    status: str  # completed | failed | interrupted | timed_out
    error: str | None
    reply: str
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None
    duration_ms: int | None = None
    launched: bool = True  # False: ended without reaching the agent (interrupted, bad provider)


class Observer(Protocol):
    def on_event(self, record: EventRecord) -> None: ...

    def on_snapshot(self, snapshot: ThreadSnapshot) -> None: ...

    def on_turn_launched(self, thread_id: str, turn_id: str, queue_item_id: str | None) -> None: ...

    def on_text(self, thread_id: str, turn_id: str, text: str) -> None: ...

    def on_turn_finished(self, result: TurnResult) -> None: ...

    def on_notice(self, message: str) -> None: ...


class NullObserver:
    """Observes nothing (tests, benchmarks)."""

    def on_event(self, record: EventRecord) -> None:
        pass

    def on_snapshot(self, snapshot: ThreadSnapshot) -> None:
        pass

    def on_turn_launched(self, thread_id: str, turn_id: str, queue_item_id: str | None) -> None:
        pass

    def on_text(self, thread_id: str, turn_id: str, text: str) -> None:
        pass

    def on_turn_finished(self, result: TurnResult) -> None:
        pass

    def on_notice(self, message: str) -> None:
        pass


def describe(record: EventRecord) -> str | None:
    """A one-line description of a state change or an agent's warning, or None for events that
    are neither (streamed text, other activities, intermediate session updates)."""
    p = record.payload
    kind = record.type
    if kind == "thread.turn-queued":
        return f"turn queued ({str(p['queue_item_id'])[:8]})"
    if kind == "thread.turn-started":
        return "turn started"
    if kind == "thread.turn-completed":
        status = p.get("status")
        seconds = (p.get("duration_ms") or 0) / 1000
        if status == "completed":
            return f"turn completed in {seconds:.1f}s"
        error = p.get("error")
        verb = {"failed": "failed", "timed_out": "timed out", "interrupted": "interrupted"}
        return f"turn {verb.get(str(status), status)}" + (f": {error}" if error else "")
    if kind == "thread.queued-turn-send-failed":
        return f"queued turn failed: {p.get('reason')}"
    if kind == "thread.queued-turn-cancelled":
        return f"queued turn cancelled ({str(p['queue_item_id'])[:8]})"
    if kind == "thread.queued-turn-requeued":
        return f"queued turn retried ({str(p['queue_item_id'])[:8]})"
    if kind == "thread.turn-interrupt-requested":
        return "interrupt requested"
    if kind == "thread.activity-appended" and p.get("kind") == "warning":
        return f"warning: {p.get('summary')}"  # agent retries and notices, as they happen
    if kind == "thread.session-set" and p.get("status") in ("stopped", "error"):
        return f"session {p.get('status')}" + (f": {p['error']}" if p.get("error") else "")
    return None

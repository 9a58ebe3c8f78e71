"""What `t3 watch` prints: a thread's transcript tail, then what happens to it, event by event.

`WatchView` turns a snapshot (the last messages, the active turn, the queue) and then each new
event of the thread into output — readable text, or with `json=True` one JSON object per line
(README, "JSON output") — and keeps what the exit code depends on. It does no I/O but writing to
its stream: the command reads the log, the view only renders it, so it is tested with plain
values.

Text guarantees: untrusted text (messages, titles, summaries, errors) goes through `printable`;
assistant text is written as it was persisted, chunk after chunk, under an `assistant:` header
(repeated when a status line came in between); status lines always start on a line of their
own. JSON lines keep the exact text.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Sequence
from typing import Any, Literal, TextIO

from t3cli.cli.safe_text import printable
from t3cli.contracts.events import EventRecord
from t3cli.store.queries import MessageRow, QueueRow, TurnRow

_SGR = {"user": "1;36", "assistant": "1;32", "dim": "2", "red": "31"}

EndStatus = Literal["idle", "blocked", "deleted", "interrupted"]


def _short(text: str, width: int = 70) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _turn_summary(p: dict[str, Any]) -> str:
    """`t3 show`'s line on a finished turn, from its `thread.turn-completed` payload."""
    from t3cli.cli.render import turn_line

    return turn_line(
        TurnRow(
            turn_id=str(p["turn_id"]), status=str(p["status"]), queue_item_id=None,
            message_id="", requested_at="", started_at=None, completed_at=None,
            duration_ms=p.get("duration_ms"), input_tokens=p.get("input_tokens"),
            output_tokens=p.get("output_tokens"),
            cached_input_tokens=p.get("cached_input_tokens"), cost_usd=p.get("cost_usd"),
            error=p.get("error"),
        )
    )  # fmt: skip


class WatchView:
    """Renders one thread for `t3 watch` (see the module docstring).

    After `snapshot` and any number of `event` calls, `failed_turns` lists the turns that ended
    without completing while watched (`(turn id, status, error)`)."""

    def __init__(self, out: TextIO, thread_id: str, *, json: bool, color: bool) -> None:
        self._out = out
        self.thread_id = thread_id
        self._json = json
        self._color = color and not json
        self._at_line_start = True
        self._written = False  # nothing yet: no blank line needed before the first block
        self._open_message: str | None = None  # the assistant message text is being added to
        self._queued_text: dict[str, str] = {}  # message id -> text of a message still queued
        self.failed_turns: list[tuple[str, str, str | None]] = []

    # --- output primitives ------------------------------------------------------------------

    def _write(self, text: str) -> None:
        if text:
            self._out.write(text)
            self._at_line_start = text.endswith("\n")
            self._written = True

    def _style(self, text: str, style: str) -> str:
        return f"\x1b[{_SGR[style]}m{text}\x1b[0m" if self._color and style else text

    def _line(self, text: str, style: str = "") -> None:
        """A status line: on a line of its own, after any text being streamed."""
        if not self._at_line_start:
            self._write("\n")
        self._open_message = None
        self._write(self._style(printable(text), style) + "\n")

    def _message(self, role: str, message_id: str, text: str, *, complete: bool) -> None:
        if self._written:
            self._line("")  # a blank line between blocks, as `t3 show` has
        else:
            self._open_message = None
        self._write(self._style(f"{role}:", role) + "\n")
        self._write(printable(text))
        if role == "user" or complete:
            self._line_end()
        else:
            self._open_message = message_id

    def _line_end(self) -> None:
        if not self._at_line_start:
            self._write("\n")
        self._open_message = None

    def _json_line(self, line_type: str, event: EventRecord | None, **fields: Any) -> None:
        line: dict[str, Any] = {
            "type": line_type,
            "thread_id": self.thread_id,
            "sequence": event.sequence if event else fields.pop("sequence", None),
            "at": event.occurred_at if event else fields.pop("at", None),
        }
        line.update(fields)
        self._out.write(jsonlib.dumps(line, ensure_ascii=False) + "\n")

    def flush(self) -> None:
        self._out.flush()

    # --- the snapshot -----------------------------------------------------------------------

    def snapshot(
        self,
        messages: Sequence[MessageRow],
        active_turn: tuple[str, str] | None,
        queue: Sequence[QueueRow],
    ) -> None:
        """The state watching starts from: the last messages (transcript order), the turn in
        flight (id, status), and the queue (not transcript: shown as queued items; as text,
        without the item being sent, whose message the transcript shows)."""
        for m in messages:
            if self._json:
                self._json_line(
                    "message", None, sequence=m.sequence, at=m.created_at,
                    message_id=m.message_id, role=m.role, text=m.text, turn_id=m.turn_id,
                    queue_item_id=m.queue_item_id, complete=m.complete,
                )  # fmt: skip
            else:
                self._message(m.role, m.message_id, m.text, complete=m.complete)
        if active_turn is not None and not self._json and self._open_message is None:
            self._line(f"turn {active_turn[0][:8]} {active_turn[1]}", "dim")
        for item in queue:
            self._queued_text[item.message_id] = item.text
            if item.status == "sending" and not self._json:
                continue
            self._queue_line(
                None, item.queue_item_id, item.status, text=item.text, reason=item.failure_reason,
                position=item.position, sequence=None, at=item.queued_at,
            )  # fmt: skip

    def _queue_line(
        self, event: EventRecord | None, queue_item_id: str, status: str, **fields: Any
    ) -> None:
        if self._json:
            self._json_line(
                "queue", event, queue_item_id=queue_item_id, status=status,
                text=fields.get("text"), reason=fields.get("reason"),
                position=fields.get("position"),
                **({} if event else {"sequence": fields.get("sequence"), "at": fields.get("at")}),
            )  # fmt: skip
            return
        short = queue_item_id[:8]
        if status in ("pending", "sending", "failed") and fields.get("text") is not None:
            line = f"queued {short} ({status}): {_short(fields['text'])}"
            if fields.get("reason"):
                line += f" — {fields['reason']}"
            self._line(line, "red" if status == "failed" else "dim")
        elif status == "failed":
            self._line(f"queued turn {short} failed: {fields.get('reason')}", "red")
        elif status == "moved":
            self._line(f"queued turn {short} moved to {fields.get('position')}", "dim")
        else:
            self._line(f"queued turn {short} {status}", "dim")

    # --- events -----------------------------------------------------------------------------

    def event(self, event: EventRecord) -> None:
        """Render one of the thread's events (others than those below are not shown)."""
        p = event.payload
        kind = event.type
        if kind == "thread.message-sent":
            self._message_sent(event, p)
        elif kind == "thread.turn-start-requested" and p.get("queue_item_id"):
            # A queued message is sent: from now on it is in the transcript.
            text = self._queued_text.pop(str(p["message_id"]), "")
            self._sent(event, str(p["message_id"]), text, str(p["turn_id"]), p["queue_item_id"])
        elif kind == "thread.turn-started":
            self._turn(event, str(p["turn_id"]), "started")
        elif kind == "thread.turn-completed":
            self._turn_completed(event, p)
        elif kind == "thread.activity-appended":
            self._activity(event, p)
        elif kind == "thread.queued-turn-send-started" and self._json:
            # As text, the `user:` block that follows says it.
            self._queue_line(event, str(p["queue_item_id"]), "sending")
        elif kind == "thread.queued-turn-send-failed":
            self._queue_line(event, str(p["queue_item_id"]), "failed", reason=p.get("reason"))
        elif kind == "thread.queued-turn-requeued":
            self._queue_line(event, str(p["queue_item_id"]), "requeued")
        elif kind == "thread.queued-turn-cancelled":
            self._queue_line(event, str(p["queue_item_id"]), "cancelled")
        elif kind == "thread.queued-turn-moved":
            self._queue_line(
                event, str(p["queue_item_id"]), "moved", position=p.get("to_position")
            )
        elif kind == "thread.turn-interrupt-requested":
            self._turn(event, str(p["turn_id"]), "interrupt requested")

    def _message_sent(self, event: EventRecord, p: dict[str, Any]) -> None:
        message_id, text = str(p["message_id"]), str(p.get("text", ""))
        if p.get("role") == "user":
            if p.get("turn_id") is None and p.get("queue_item_id") is not None:
                # Queued, not sent: it belongs to the queue until `turn-start-requested`.
                self._queued_text[message_id] = text
                self._queue_line(event, str(p["queue_item_id"]), "pending", text=text)
            else:
                self._sent(event, message_id, text, p.get("turn_id"), p.get("queue_item_id"))
            return
        complete = bool(p.get("complete", True))
        if self._json:
            self._json_line(
                "text", event, message_id=message_id, turn_id=p.get("turn_id"), text=text,
                complete=complete,
            )  # fmt: skip
        elif self._open_message == message_id:
            self._write(printable(text))
            if complete:
                self._line_end()
        else:
            self._message("assistant", message_id, text, complete=complete)

    def _sent(
        self,
        event: EventRecord,
        message_id: str,
        text: str,
        turn_id: str | None,
        queue_item_id: str | None,
    ) -> None:
        if self._json:
            self._json_line(
                "message", event, message_id=message_id, role="user", text=text, turn_id=turn_id,
                queue_item_id=queue_item_id, complete=True,
            )  # fmt: skip
        else:
            self._message("user", message_id, text, complete=True)

    def _turn(self, event: EventRecord, turn_id: str, status: str) -> None:
        if self._json:
            self._json_line(
                "turn", event, turn_id=turn_id, status=status.replace(" ", "_"), error=None,
                duration_ms=None, input_tokens=None, output_tokens=None, cost_usd=None,
            )  # fmt: skip
        else:
            self._line(f"turn {turn_id[:8]} {status}", "dim")

    def _turn_completed(self, event: EventRecord, p: dict[str, Any]) -> None:
        status = str(p["status"])
        if status != "completed":
            self.failed_turns.append((str(p["turn_id"]), status, p.get("error")))
        if self._json:
            self._json_line(
                "turn", event, turn_id=p["turn_id"], status=status, error=p.get("error"),
                duration_ms=p.get("duration_ms"), input_tokens=p.get("input_tokens"),
                output_tokens=p.get("output_tokens"), cost_usd=p.get("cost_usd"),
            )  # fmt: skip
        else:
            self._line(_turn_summary(p), "dim" if status == "completed" else "red")

    def _activity(self, event: EventRecord, p: dict[str, Any]) -> None:
        if self._json:
            self._json_line(
                "activity", event, turn_id=p.get("turn_id"), activity_id=p.get("activity_id"),
                kind=p.get("kind"), summary=p.get("summary"), status=p.get("status"),
            )  # fmt: skip
            return
        status = f" ({p['status']})" if p.get("status") else ""
        self._line(f"· {p.get('kind')}: {_short(str(p.get('summary', '')), 100)}{status}", "dim")

    # --- the end ----------------------------------------------------------------------------

    def end(self, status: EndStatus, exit_code: int, cursor: int | None, at: str) -> None:
        """The last output: in JSON an `end` line; as text, only the end of a streamed line."""
        if self._json:
            self._json_line("end", None, sequence=cursor, at=at, status=status, exit_code=exit_code)
        else:
            self._line_end()
        self.flush()


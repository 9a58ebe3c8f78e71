"""Output of `t3 run` when stdout is not a terminal: one line per state change.

- plain (`LineRenderer(json_mode=False)`): `2026-11-22T20:01:02Z 7f3a1b2c turn started`,
  `... turn completed in 1.2s`, `... queued turn failed: <reason>` — no colour, no escapes, so cron
  mail and pipes stay readable;
- JSON lines (`json_mode=True`): one object per state change with stable keys
  (`at`, `thread_id`, `event`, `sequence`, `turn_id`, `queue_item_id`, `status`, `error`,
  `message`); reactor notices have `event = "reactor.notice"`.

`queue_item_id` is filled on every event of a turn that came from the queue (turn started,
completed, ...), not only on the queue's own events: the renderer remembers each active turn's
item from the events and snapshots that name it, and forgets it when the turn ends.

Every line is flushed as it is written, so a follower (`tail -f`, a test) sees it at once.
The rich live view for terminals is in `t3cli.reactor.live`.
"""

from __future__ import annotations

import json
import time
from typing import Any, TextIO

from t3cli.contracts.events import EventRecord
from t3cli.reactor.observer import NullObserver, describe
from t3cli.store.reactor_queries import ThreadSnapshot


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _at(record: EventRecord) -> str:
    # occurred_at is `YYYY-MM-DDTHH:MM:SS.mmmZ`; a line shows whole seconds.
    return record.occurred_at[:19] + "Z"


class LineRenderer(NullObserver):
    def __init__(self, out: TextIO, *, json_mode: bool = False) -> None:
        self._out = out
        self._json = json_mode
        self._items: dict[str, str] = {}  # active turn id -> its queued item id

    def _write(self, line: str) -> None:
        try:
            self._out.write(line + "\n")
            self._out.flush()
        except (BrokenPipeError, ValueError):
            pass  # the reader went away; the reactor keeps working

    def on_snapshot(self, snapshot: ThreadSnapshot) -> None:
        turn = snapshot.active_turn
        if turn is not None and turn.queue_item_id is not None:
            self._items[turn.turn_id] = turn.queue_item_id

    def on_turn_launched(self, thread_id: str, turn_id: str, queue_item_id: str | None) -> None:
        if queue_item_id is not None:
            self._items[turn_id] = queue_item_id

    def _queue_item_id(self, record: EventRecord) -> str | None:
        p = record.payload
        turn_id, item = p.get("turn_id"), p.get("queue_item_id")
        if isinstance(turn_id, str):
            if isinstance(item, str) and record.type in (
                "thread.turn-start-requested", "thread.queued-turn-send-started"
            ):  # fmt: skip
                self._items[turn_id] = item
            item = item or self._items.get(turn_id)
            if record.type == "thread.turn-completed":
                self._items.pop(turn_id, None)
        return item if isinstance(item, str) else None

    def on_event(self, record: EventRecord) -> None:
        queue_item_id = self._queue_item_id(record)
        text = describe(record)
        if text is None:
            return
        if not self._json:
            self._write(f"{_at(record)} {record.stream_id[:8]} {text}")
            return
        p = record.payload
        obj: dict[str, Any] = {
            "at": record.occurred_at,
            "thread_id": record.stream_id,
            "event": record.type,
            "sequence": record.sequence,
            "turn_id": p.get("turn_id"),
            "queue_item_id": queue_item_id,
            "status": p.get("status"),
            "error": p.get("error") or p.get("reason"),
            "message": text,
        }
        self._write(json.dumps(obj, ensure_ascii=False))

    def on_notice(self, message: str) -> None:
        if self._json:
            self._write(json.dumps({"at": _now(), "event": "reactor.notice", "message": message}))
        else:
            self._write(f"{_now()} reactor {message}")

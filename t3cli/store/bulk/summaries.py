"""The fold of the `thread_summaries` table: mirrors `store.projectors.summaries`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from t3cli.store.bulk._base import Fold, Payload, Unsupported, _key, _opt, _req
from t3cli.store.projectors.summaries import (
    PREVIEW_CHARS,
    THREAD_SUMMARIES,
    _preview,
    extend_preview,
)


class SummariesFold(Fold):
    projector = THREAD_SUMMARIES
    columns = {
        "thread_summaries": (
            "thread_id", "project_id", "title", "provider", "preview", "preview_message_id",
            "message_count", "turn_count", "queue_depth", "input_tokens", "output_tokens",
            "cost_usd", "deleted", "last_activity_at", "last_activity_sequence",
        )
    }  # fmt: skip

    def __init__(self) -> None:
        self.rows: dict[str, list[Any]] = {}

    def handlers(self) -> dict[str, Callable[[int, str, Payload], None]]:
        return {
            "thread.created": self.created,
            "thread.updated": self.updated,
            "thread.deleted": self.deleted,
            "thread.archived": self.touch,
            "thread.unarchived": self.touch,
            "thread.message-sent": self.message,
            "thread.turn-start-requested": self.turn_requested,
            "thread.turn-started": self.touch,
            "thread.turn-completed": self.turn_completed,
            "thread.activity-appended": self.touch,
            "thread.turn-queued": self.depth(+1),
            "thread.queued-turn-resolved": self.depth(-1),
            "thread.queued-turn-cancelled": self.depth(-1),
        }

    def _row(self, seq: int, at: str, p: Payload) -> list[Any] | None:
        row = self.rows.get(_key(p, "thread_id"))
        if row is not None:
            row[13] = at
            row[14] = seq
        return row

    def created(self, seq: int, at: str, p: Payload) -> None:
        tid = _key(p, "thread_id")
        if tid in self.rows:
            raise Unsupported("duplicate thread")
        self.rows[tid] = [
            tid, _req(p, "project_id"), _req(p, "title"), _req(p, "provider"), "", None,
            0, 0, 0, 0, 0, 0.0, 0, at, seq,
        ]  # fmt: skip

    def touch(self, seq: int, at: str, p: Payload) -> None:
        self._row(seq, at, p)

    def updated(self, seq: int, at: str, p: Payload) -> None:
        title = _opt(p, "title")
        row = self._row(seq, at, p)
        if row is not None and title is not None:
            row[2] = title

    def deleted(self, seq: int, at: str, p: Payload) -> None:
        row = self._row(seq, at, p)
        if row is not None:
            row[12] = 1
            row[8] = 0

    def message(self, seq: int, at: str, p: Payload) -> None:
        text = p["text"]
        if type(text) is not str:
            raise Unsupported("text")
        mid = _key(p, "message_id")
        if p.get("chunk", 0) == 0:
            preview = _preview(text)
            row = self._row(seq, at, p)
            if row is not None:
                row[6] += 1
                row[4] = preview
                row[5] = mid
            return
        row = self._row(seq, at, p)
        if row is not None and row[5] == mid:
            preview = row[4]
            if "\x00" in preview or "\x00" in text[: PREVIEW_CHARS * 2]:  # SQLite's length()
                raise Unsupported("NUL in preview")  # stops at a NUL
            if len(preview) < PREVIEW_CHARS:
                row[4] = extend_preview(preview, text)

    def turn_requested(self, seq: int, at: str, p: Payload) -> None:
        row = self._row(seq, at, p)
        if row is not None:
            row[7] += 1

    def turn_completed(self, seq: int, at: str, p: Payload) -> None:
        added = (p.get("input_tokens") or 0, p.get("output_tokens") or 0)
        cost = p.get("cost_usd") or 0.0
        if type(added[0]) is not int or type(added[1]) is not int or type(cost) not in (int, float):
            raise Unsupported("usage")
        row = self._row(seq, at, p)
        if row is not None:
            row[9] += added[0]
            row[10] += added[1]
            row[11] += cost

    def depth(self, delta: int) -> Callable[[int, str, Payload], None]:
        def handler(seq: int, at: str, p: Payload) -> None:
            row = self._row(seq, at, p)
            if row is not None:
                row[8] = max(0, row[8] + delta)

        return handler

    def tables(self) -> dict[str, list[list[Any]]]:
        return {"thread_summaries": list(self.rows.values())}

"""The folds of the `messages` and `activities` tables: mirror `store.projectors.transcript`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from t3cli.store.bulk._base import Fold, Payload, Unsupported, _key, _nullable, _opt, _req
from t3cli.store.projectors.core import ACTIVITIES, MESSAGES
from t3cli.store.projectors.transcript import INLINE_CHARS, _encode_detail

MEMO_LIMIT = 4096
_MEMO_TYPES = frozenset((str, int, bool, type(None)))


class MessagesFold(Fold):
    projector = MESSAGES
    columns = {
        "messages": (
            "message_id", "thread_id", "sequence", "role", "text", "turn_id", "queue_item_id",
            "complete", "created_at", "updated_at", "spilled",
        ),
        "message_chunks": ("message_id", "n", "sequence"),
    }  # fmt: skip

    def __init__(self) -> None:
        self.rows: dict[str, list[Any]] = {}
        self.chunks: list[list[Any]] = []

    def handlers(self) -> dict[str, Callable[[int, str, Payload], None]]:
        return {
            "thread.message-sent": self.sent,
            "thread.turn-start-requested": self.turn_requested,
        }

    def sent(self, seq: int, at: str, p: Payload) -> None:
        mid, text = _key(p, "message_id"), p["text"]
        if type(text) is not str:
            raise Unsupported("text")
        tid, role = _req(p, "thread_id"), _req(p, "role")
        turn_id, item = _opt(p, "turn_id"), _opt(p, "queue_item_id")
        complete = 1 if p.get("complete", True) else 0
        row = self.rows.get(mid)
        if row is None:
            self.rows[mid] = [mid, tid, seq, role, text, turn_id, item, complete, at, at, 0]
            return
        row[7] = complete
        row[9] = at
        if not row[10] and len(row[4]) + len(text) <= INLINE_CHARS:
            row[4] += text
            return
        self.chunks.append([mid, row[10], seq])
        row[10] += 1

    def turn_requested(self, seq: int, at: str, p: Payload) -> None:
        if p.get("queue_item_id") is not None:
            turn_id = _nullable(p, "turn_id")
            row = self.rows.get(_key(p, "message_id"))
            if row is not None:
                row[5] = turn_id

    def tables(self) -> dict[str, list[list[Any]]]:
        return {"messages": list(self.rows.values()), "message_chunks": self.chunks}


class ActivitiesFold(Fold):
    projector = ACTIVITIES
    columns = {
        "activities": (
            "activity_id", "thread_id", "turn_id", "sequence", "kind", "summary", "status",
            "detail", "created_at",
        )
    }  # fmt: skip

    def __init__(self) -> None:
        self.rows: dict[str, list[Any]] = {}
        # Encoded details of flat objects, keyed by (key, type, value) items: activities of
        # the same kind repeat their details, and encoding is the fold's main cost. The type
        # keeps 1, 1.0 and True apart; floats are left out (0.0 == -0.0 encode differently).
        self.details: dict[tuple[tuple[str, type, Any], ...], str] = {}

    def handlers(self) -> dict[str, Callable[[int, str, Payload], None]]:
        return {"thread.activity-appended": self.appended}

    def detail(self, value: Any) -> str:
        if type(value) is not dict:
            return _encode_detail(value)
        items = []
        for k, v in value.items():
            kind = type(v)
            if kind not in _MEMO_TYPES:
                return _encode_detail(value)
            items.append((k, kind, v))
        key = tuple(items)
        encoded = self.details.get(key)
        if encoded is None:
            encoded = _encode_detail(value)
            if len(self.details) < MEMO_LIMIT:
                self.details[key] = encoded
        return encoded

    def appended(self, seq: int, at: str, p: Payload) -> None:
        aid = _key(p, "activity_id")
        tid, turn_id, kind = _req(p, "thread_id"), _req(p, "turn_id"), _req(p, "kind")
        summary, status = _req(p, "summary"), _opt(p, "status")
        detail = self.detail(p.get("detail") or {})
        row = self.rows.get(aid)
        if row is None:
            self.rows[aid] = [aid, tid, turn_id, seq, kind, summary, status, detail, at]
            return
        row[5] = summary
        row[6] = status
        row[7] = detail

    def tables(self) -> dict[str, list[list[Any]]]:
        return {"activities": list(self.rows.values())}

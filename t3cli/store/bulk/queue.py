"""The fold of the `queued_turns` table: mirrors `store.projectors.queue`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from t3cli.store.bulk._base import Fold, Payload, Unsupported, _key, _nullable, _req
from t3cli.store.projectors.core import QUEUED_TURNS


class QueueFold(Fold):
    """Positions are dense and 1-based per thread after every handler (insert at max + 1, a
    removal closes the gap, a move renumbers), so each thread's queue is kept as an ordered
    list of item ids and `position` is written as index + 1."""

    projector = QUEUED_TURNS
    columns = {
        "queued_turns": (
            "queue_item_id", "thread_id", "message_id", "position", "status",
            "failure_reason", "attempts", "turn_id", "queued_sequence", "queued_at",
            "updated_at",
        )
    }  # fmt: skip

    def __init__(self) -> None:
        self.rows: dict[str, list[Any]] = {}
        self.queues: dict[str, list[str]] = {}

    def handlers(self) -> dict[str, Callable[[int, str, Payload], None]]:
        return {
            "thread.turn-queued": self.queued,
            "thread.queued-turn-send-started": self.send_started,
            "thread.queued-turn-resolved": self.remove,
            "thread.queued-turn-cancelled": self.remove,
            "thread.queued-turn-send-failed": self.send_failed,
            "thread.queued-turn-requeued": self.requeued,
            "thread.queued-turn-moved": self.moved,
            "thread.deleted": self.thread_deleted,
        }

    def queued(self, seq: int, at: str, p: Payload) -> None:
        item, tid = _key(p, "queue_item_id"), _key(p, "thread_id")
        if item in self.rows:
            raise Unsupported("duplicate queue item")
        self.rows[item] = [
            item, tid, _req(p, "message_id"), 0, "pending", None, 0, None, seq, at, at,
        ]  # fmt: skip
        self.queues.setdefault(tid, []).append(item)

    def send_started(self, seq: int, at: str, p: Payload) -> None:
        turn_id = _nullable(p, "turn_id")
        row = self.rows.get(_key(p, "queue_item_id"))
        if row is not None:
            row[4] = "sending"
            row[7] = turn_id
            row[6] += 1
            row[5] = None
            row[10] = at

    def remove(self, seq: int, at: str, p: Payload) -> None:
        item, tid = _key(p, "queue_item_id"), _key(p, "thread_id")
        row = self.rows.pop(item, None)
        if row is None:
            return
        if row[1] != tid:  # the handler would close a gap in another thread's queue
            raise Unsupported("queue item of another thread")
        self.queues[tid].remove(item)

    def send_failed(self, seq: int, at: str, p: Payload) -> None:
        reason = _nullable(p, "reason")
        row = self.rows.get(_key(p, "queue_item_id"))
        if row is not None:
            row[4] = "failed"
            row[5] = reason
            row[10] = at

    def requeued(self, seq: int, at: str, p: Payload) -> None:
        row = self.rows.get(_key(p, "queue_item_id"))
        if row is not None:
            row[4] = "pending"
            row[10] = at

    def moved(self, seq: int, at: str, p: Payload) -> None:
        item, tid = _key(p, "queue_item_id"), _key(p, "thread_id")
        ids = self.queues.get(tid)
        if not ids or item not in ids:
            return
        to = p["to_position"]
        if type(to) is not int:
            raise Unsupported("to_position")
        ids.remove(item)
        ids.insert(max(0, min(len(ids), to - 1)), item)
        self.rows[item][10] = at

    def thread_deleted(self, seq: int, at: str, p: Payload) -> None:
        for item in self.queues.pop(_key(p, "thread_id"), ()):
            del self.rows[item]

    def tables(self) -> dict[str, list[list[Any]]]:
        for ids in self.queues.values():
            for index, item in enumerate(ids, 1):
                self.rows[item][3] = index
        return {"queued_turns": list(self.rows.values())}

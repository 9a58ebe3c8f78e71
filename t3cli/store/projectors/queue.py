"""`queued_turns` projector: the per-thread FIFO.

Positions are dense, 1-based and per thread: an item leaving the queue (resolved, cancelled)
closes the gap, and a move renumbers the thread's queue. Every update is O(queue length) at most,
never O(thread history).
"""

from __future__ import annotations

import sqlite3

from t3cli.contracts.events import EventRecord
from t3cli.store.projectors.base import Projector


def _queued(conn: sqlite3.Connection, ev: EventRecord) -> None:
    p = ev.payload
    conn.execute(
        "INSERT INTO queued_turns (queue_item_id, thread_id, message_id, position, status,"
        " queued_sequence, queued_at, updated_at)"
        " VALUES (?, ?, ?, (SELECT coalesce(max(position), 0) + 1 FROM queued_turns"
        " WHERE thread_id = ?), 'pending', ?, ?, ?)",
        (p["queue_item_id"], p["thread_id"], p["message_id"], p["thread_id"], ev.sequence,
         ev.occurred_at, ev.occurred_at),
    )  # fmt: skip


def _send_started(conn: sqlite3.Connection, ev: EventRecord) -> None:
    p = ev.payload
    conn.execute(
        "UPDATE queued_turns SET status = 'sending', turn_id = ?, attempts = attempts + 1,"
        " failure_reason = NULL, updated_at = ? WHERE queue_item_id = ?",
        (p["turn_id"], ev.occurred_at, p["queue_item_id"]),
    )


def _remove(conn: sqlite3.Connection, ev: EventRecord) -> None:
    p = ev.payload
    row = conn.execute(
        "DELETE FROM queued_turns WHERE queue_item_id = ? RETURNING position",
        (p["queue_item_id"],),
    ).fetchone()
    if row is None:
        return
    conn.execute(
        "UPDATE queued_turns SET position = position - 1 WHERE thread_id = ? AND position > ?",
        (p["thread_id"], row[0]),
    )


def _send_failed(conn: sqlite3.Connection, ev: EventRecord) -> None:
    p = ev.payload
    conn.execute(
        "UPDATE queued_turns SET status = 'failed', failure_reason = ?, updated_at = ?"
        " WHERE queue_item_id = ?",
        (p["reason"], ev.occurred_at, p["queue_item_id"]),
    )


def _requeued(conn: sqlite3.Connection, ev: EventRecord) -> None:
    conn.execute(
        "UPDATE queued_turns SET status = 'pending', updated_at = ? WHERE queue_item_id = ?",
        (ev.occurred_at, ev.payload["queue_item_id"]),
    )


def _moved(conn: sqlite3.Connection, ev: EventRecord) -> None:
    p = ev.payload
    ids = [
        row[0]
        for row in conn.execute(
            "SELECT queue_item_id FROM queued_turns WHERE thread_id = ? ORDER BY position",
            (p["thread_id"],),
        ).fetchall()
    ]
    if p["queue_item_id"] not in ids:
        return
    ids.remove(p["queue_item_id"])
    ids.insert(max(0, min(len(ids), p["to_position"] - 1)), p["queue_item_id"])
    conn.executemany(
        "UPDATE queued_turns SET position = ? WHERE queue_item_id = ?",
        [(index + 1, item_id) for index, item_id in enumerate(ids)],
    )
    conn.execute(
        "UPDATE queued_turns SET updated_at = ? WHERE queue_item_id = ?",
        (ev.occurred_at, p["queue_item_id"]),
    )


def _thread_deleted(conn: sqlite3.Connection, ev: EventRecord) -> None:
    conn.execute("DELETE FROM queued_turns WHERE thread_id = ?", (ev.payload["thread_id"],))


QUEUED_TURNS = Projector(
    name="queued_turns",
    version=1,
    tables=("queued_turns",),
    keys={"queued_turns": "queue_item_id"},
    handlers={
        "thread.turn-queued": _queued,
        "thread.queued-turn-send-started": _send_started,
        "thread.queued-turn-resolved": _remove,
        "thread.queued-turn-cancelled": _remove,
        "thread.queued-turn-send-failed": _send_failed,
        "thread.queued-turn-requeued": _requeued,
        "thread.queued-turn-moved": _moved,
        "thread.deleted": _thread_deleted,
    },
)

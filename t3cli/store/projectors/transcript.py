"""`messages` and `activities` projectors: the transcript.

A coalesced assistant chunk whose `message_id` already exists is appended to that message in one
upsert, so a streamed reply costs one row update per persisted chunk, never a rescan.
"""

from __future__ import annotations

import json
import sqlite3

from t3cli.contracts.events import EventRecord
from t3cli.store.projectors.base import Projector


def _message_sent(conn: sqlite3.Connection, ev: EventRecord) -> None:
    p = ev.payload
    conn.execute(
        "INSERT INTO messages (message_id, thread_id, sequence, role, text, turn_id, queue_item_id,"
        " complete, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (message_id) DO UPDATE SET text = text || excluded.text,"
        " complete = excluded.complete, updated_at = excluded.updated_at",
        (
            p["message_id"],
            p["thread_id"],
            ev.sequence,
            p["role"],
            p["text"],
            p.get("turn_id"),
            p.get("queue_item_id"),
            1 if p.get("complete", True) else 0,
            ev.occurred_at,
            ev.occurred_at,
        ),
    )


def _turn_requested(conn: sqlite3.Connection, ev: EventRecord) -> None:
    # A queued message learns its turn when the item is sent. Keyed by the message id the
    # request carries (a primary-key update): matching on queue_item_id scanned every message.
    p = ev.payload
    if p.get("queue_item_id") is not None:
        conn.execute(
            "UPDATE messages SET turn_id = ? WHERE message_id = ?", (p["turn_id"], p["message_id"])
        )


MESSAGES = Projector(
    name="messages",
    # 2: the sent turn is recorded from thread.turn-start-requested, by message id.
    version=2,
    tables=("messages",),
    keys={"messages": "message_id"},
    handlers={
        "thread.message-sent": _message_sent,
        "thread.turn-start-requested": _turn_requested,
    },
)


# `json.dumps(detail, sort_keys=True, ensure_ascii=False)`, without building an encoder per call.
_encode_detail = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode


def _activity(conn: sqlite3.Connection, ev: EventRecord) -> None:
    p = ev.payload
    conn.execute(
        "INSERT INTO activities (activity_id, thread_id, turn_id, sequence, kind, summary,"
        " status, detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        # The same activity reported again (started, then completed) updates its row.
        " ON CONFLICT (activity_id) DO UPDATE SET summary = excluded.summary,"
        " status = excluded.status, detail = excluded.detail",
        (
            p["activity_id"],
            p["thread_id"],
            p["turn_id"],
            ev.sequence,
            p["kind"],
            p["summary"],
            p.get("status"),
            _encode_detail(p.get("detail") or {}),
            ev.occurred_at,
        ),
    )


ACTIVITIES = Projector(
    name="activities",
    version=1,
    tables=("activities",),
    keys={"activities": "activity_id"},
    handlers={"thread.activity-appended": _activity},
)

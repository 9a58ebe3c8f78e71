"""`messages` and `activities` projectors: the transcript.

A coalesced assistant chunk whose `message_id` already exists extends that message. Its text
stays inline in `messages.text` while that stays within `INLINE_CHARS`; past that, chunks are
recorded by reference in `message_chunks(message_id, n, sequence)` — the event at `sequence`
holds the text of the message's n-th spilled chunk — and `messages.spilled` counts them. So a
streamed reply costs O(chunk) per persisted chunk, never a rewrite of what came before, and a
long reply's text is stored once, in the log. `store.message_text` reads the whole text back.
"""

from __future__ import annotations

import json
import sqlite3

from t3cli.contracts.events import EventRecord
from t3cli.store.projectors.base import Projector

INLINE_CHARS = 65_536


def _message_sent(conn: sqlite3.Connection, ev: EventRecord) -> None:
    p = ev.payload
    message_id, text = p["message_id"], p["text"]
    complete = 1 if p.get("complete", True) else 0
    row = conn.execute(
        "SELECT spilled, CASE WHEN spilled = 0 THEN text END FROM messages WHERE message_id = ?",
        (message_id,),
    ).fetchone()
    if row is None:
        conn.execute(
            "INSERT INTO messages (message_id, thread_id, sequence, role, text, turn_id,"
            " queue_item_id, complete, created_at, updated_at, spilled)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
            (
                message_id,
                p["thread_id"],
                ev.sequence,
                p["role"],
                text,
                p.get("turn_id"),
                p.get("queue_item_id"),
                complete,
                ev.occurred_at,
                ev.occurred_at,
            ),
        )
        return
    spilled, inline = row
    if not spilled and len(inline) + len(text) <= INLINE_CHARS:
        conn.execute(
            "UPDATE messages SET text = ?, complete = ?, updated_at = ? WHERE message_id = ?",
            (inline + text, complete, ev.occurred_at, message_id),
        )
        return
    conn.execute(
        "UPDATE messages SET spilled = spilled + 1, complete = ?, updated_at = ?"
        " WHERE message_id = ?",
        (complete, ev.occurred_at, message_id),
    )
    conn.execute(
        "INSERT INTO message_chunks (message_id, n, sequence) VALUES (?, ?, ?)",
        (message_id, spilled, ev.sequence),
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
    # 3: long texts spill into `message_chunks` (by reference) past INLINE_CHARS.
    version=3,
    tables=("messages", "message_chunks"),
    keys={"messages": "message_id", "message_chunks": "sequence"},
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

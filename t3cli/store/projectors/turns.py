"""`sessions` and `turns` projectors."""

from __future__ import annotations

import sqlite3

from t3cli.contracts.events import EventRecord
from t3cli.store.projectors.base import Projector


def _session_set(conn: sqlite3.Connection, ev: EventRecord) -> None:
    p = ev.payload
    conn.execute(
        "INSERT INTO sessions (thread_id, status, provider, provider_session_id, error, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (thread_id) DO UPDATE SET status = excluded.status,"
        " provider = coalesce(excluded.provider, provider),"
        " provider_session_id = coalesce(excluded.provider_session_id, provider_session_id),"
        " error = excluded.error, stop_requested = 0, updated_at = excluded.updated_at",
        (
            p["thread_id"],
            p["status"],
            p.get("provider"),
            p.get("provider_session_id"),
            p.get("error"),
            ev.occurred_at,
        ),
    )


def _session_stop_requested(conn: sqlite3.Connection, ev: EventRecord) -> None:
    conn.execute(
        "UPDATE sessions SET stop_requested = 1, updated_at = ? WHERE thread_id = ?",
        (ev.occurred_at, ev.payload["thread_id"]),
    )


SESSIONS = Projector(
    name="sessions",
    version=1,
    tables=("sessions",),
    keys={"sessions": "thread_id"},
    handlers={
        "thread.session-set": _session_set,
        "thread.session-stop-requested": _session_stop_requested,
    },
)


def _turn_requested(conn: sqlite3.Connection, ev: EventRecord) -> None:
    p = ev.payload
    conn.execute(
        "INSERT INTO turns (turn_id, thread_id, message_id, queue_item_id, status,"
        " requested_sequence, requested_at) VALUES (?, ?, ?, ?, 'requested', ?, ?)",
        (
            p["turn_id"],
            p["thread_id"],
            p["message_id"],
            p.get("queue_item_id"),
            ev.sequence,
            ev.occurred_at,
        ),
    )


def _turn_started(conn: sqlite3.Connection, ev: EventRecord) -> None:
    p = ev.payload
    conn.execute(
        "UPDATE turns SET status = 'running', started_at = ?,"
        " provider_session_id = coalesce(?, provider_session_id) WHERE turn_id = ?",
        (ev.occurred_at, p.get("provider_session_id"), p["turn_id"]),
    )


def _turn_completed(conn: sqlite3.Connection, ev: EventRecord) -> None:
    p = ev.payload
    conn.execute(
        "UPDATE turns SET status = ?, error = ?, input_tokens = ?, output_tokens = ?,"
        " cached_input_tokens = ?, cost_usd = ?, duration_ms = ?, completed_at = ?"
        " WHERE turn_id = ?",
        (
            p["status"],
            p.get("error"),
            p.get("input_tokens"),
            p.get("output_tokens"),
            p.get("cached_input_tokens"),
            p.get("cost_usd"),
            p.get("duration_ms"),
            ev.occurred_at,
            p["turn_id"],
        ),
    )


def _interrupt_requested(conn: sqlite3.Connection, ev: EventRecord) -> None:
    conn.execute(
        "UPDATE turns SET interrupt_requested = 1 WHERE turn_id = ?", (ev.payload["turn_id"],)
    )


TURNS = Projector(
    name="turns",
    version=1,
    tables=("turns",),
    keys={"turns": "turn_id"},
    handlers={
        "thread.turn-start-requested": _turn_requested,
        "thread.turn-started": _turn_started,
        "thread.turn-completed": _turn_completed,
        "thread.turn-interrupt-requested": _interrupt_requested,
    },
)

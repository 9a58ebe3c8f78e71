"""`projects` and `threads` projectors.

`threads` keeps, besides identity and flags, O(1)-maintained counters of the thread's queue
(`pending_count`, `sending_count`, `failed_count`) and its active turn, so that a thread's status
is one row read and `t3 threads --status` filters in SQL.
"""

from __future__ import annotations

import json
import sqlite3

from t3cli.contracts.events import EventRecord
from t3cli.store.projectors.base import Projector


def _project_created(conn: sqlite3.Connection, ev: EventRecord) -> None:
    p = ev.payload
    conn.execute(
        "INSERT INTO projects (project_id, path, title, default_provider, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            p["project_id"],
            p["path"],
            p["title"],
            p["default_provider"],
            ev.occurred_at,
            ev.occurred_at,
        ),
    )


def _project_updated(conn: sqlite3.Connection, ev: EventRecord) -> None:
    p = ev.payload
    conn.execute(
        "UPDATE projects SET title = coalesce(?, title),"
        " default_provider = coalesce(?, default_provider), updated_at = ? WHERE project_id = ?",
        (p.get("title"), p.get("default_provider"), ev.occurred_at, p["project_id"]),
    )


PROJECTS = Projector(
    name="projects",
    version=1,
    tables=("projects",),
    keys={"projects": "project_id"},
    handlers={"project.created": _project_created, "project.updated": _project_updated},
)


def _thread_created(conn: sqlite3.Connection, ev: EventRecord) -> None:
    p = ev.payload
    conn.execute(
        "INSERT INTO threads (thread_id, project_id, provider, model, title, created_sequence,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            p["thread_id"],
            p["project_id"],
            p["provider"],
            p.get("model"),
            p["title"],
            ev.sequence,
            ev.occurred_at,
            ev.occurred_at,
        ),
    )


def _thread_updated(conn: sqlite3.Connection, ev: EventRecord) -> None:
    p = ev.payload
    options = p.get("provider_options")
    conn.execute(
        "UPDATE threads SET title = coalesce(?, title), model = coalesce(?, model),"
        " provider_options = coalesce(?, provider_options), updated_at = ? WHERE thread_id = ?",
        (
            p.get("title"),
            p.get("model"),
            json.dumps(options, sort_keys=True) if options is not None else None,
            ev.occurred_at,
            p["thread_id"],
        ),
    )


def _flag(column: str, value: int):  # type: ignore[no-untyped-def]
    sql = f"UPDATE threads SET {column} = ?, updated_at = ? WHERE thread_id = ?"

    def handler(conn: sqlite3.Connection, ev: EventRecord) -> None:
        conn.execute(sql, (value, ev.occurred_at, ev.payload["thread_id"]))

    return handler


def _counter(sql_set: str):  # type: ignore[no-untyped-def]
    sql = f"UPDATE threads SET {sql_set}, updated_at = ? WHERE thread_id = ?"

    def handler(conn: sqlite3.Connection, ev: EventRecord) -> None:
        conn.execute(sql, (ev.occurred_at, ev.payload["thread_id"]))

    return handler


def _thread_deleted(conn: sqlite3.Connection, ev: EventRecord) -> None:
    # Queued turns go with a deleted thread (the decider required --force for any).
    conn.execute(
        "UPDATE threads SET deleted = 1, pending_count = 0, sending_count = 0, failed_count = 0,"
        " updated_at = ? WHERE thread_id = ?",
        (ev.occurred_at, ev.payload["thread_id"]),
    )


def _turn_requested(conn: sqlite3.Connection, ev: EventRecord) -> None:
    conn.execute(
        "UPDATE threads SET active_turn_id = ?, active_turn_status = 'requested', updated_at = ?"
        " WHERE thread_id = ?",
        (ev.payload["turn_id"], ev.occurred_at, ev.payload["thread_id"]),
    )


def _turn_started(conn: sqlite3.Connection, ev: EventRecord) -> None:
    conn.execute(
        "UPDATE threads SET active_turn_status = 'running', updated_at = ?"
        " WHERE thread_id = ? AND active_turn_id = ?",
        (ev.occurred_at, ev.payload["thread_id"], ev.payload["turn_id"]),
    )


def _turn_completed(conn: sqlite3.Connection, ev: EventRecord) -> None:
    conn.execute(
        "UPDATE threads SET active_turn_id = NULL, active_turn_status = NULL, updated_at = ?"
        " WHERE thread_id = ? AND active_turn_id = ?",
        (ev.occurred_at, ev.payload["thread_id"], ev.payload["turn_id"]),
    )


def _cancelled(conn: sqlite3.Connection, ev: EventRecord) -> None:
    column = "failed_count" if ev.payload.get("from_status") == "failed" else "pending_count"
    conn.execute(
        f"UPDATE threads SET {column} = {column} - 1, updated_at = ? WHERE thread_id = ?",
        (ev.occurred_at, ev.payload["thread_id"]),
    )


THREADS = Projector(
    name="threads",
    version=1,
    tables=("threads",),
    keys={"threads": "thread_id"},
    handlers={
        "thread.created": _thread_created,
        "thread.updated": _thread_updated,
        "thread.archived": _flag("archived", 1),
        "thread.unarchived": _flag("archived", 0),
        "thread.deleted": _thread_deleted,
        "thread.turn-start-requested": _turn_requested,
        "thread.turn-started": _turn_started,
        "thread.turn-completed": _turn_completed,
        "thread.turn-queued": _counter("pending_count = pending_count + 1"),
        "thread.queued-turn-send-started": _counter(
            "pending_count = pending_count - 1, sending_count = sending_count + 1"
        ),
        "thread.queued-turn-resolved": _counter("sending_count = sending_count - 1"),
        "thread.queued-turn-send-failed": _counter(
            "sending_count = sending_count - 1, failed_count = failed_count + 1"
        ),
        "thread.queued-turn-requeued": _counter(
            "failed_count = failed_count - 1, pending_count = pending_count + 1"
        ),
        "thread.queued-turn-cancelled": _cancelled,
    },
)

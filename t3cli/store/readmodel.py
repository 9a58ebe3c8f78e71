"""The command read model: what a reactor needs to drive threads, loaded from projections.

`bootstrap(conn)` reads threads, sessions, queued turns and active turns from the core projection
tables (catching them up first if, and only if, they lag) — never messages or activities, and never
the log before the projectors' cursors. Its cost is O(threads + queued items + active turns),
independent of the log's length.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

from t3cli.store import eventlog, pipeline
from t3cli.store.db import database_path, translate
from t3cli.store.projectors import CORE_PROJECTORS


@dataclass(slots=True)
class ThreadInfo:
    thread_id: str
    project_id: str
    cwd: str
    provider: str
    model: str | None
    title: str
    archived: bool
    deleted: bool


@dataclass(slots=True)
class SessionInfo:
    thread_id: str
    status: str
    provider_session_id: str | None
    stop_requested: bool


@dataclass(slots=True)
class QueuedTurnInfo:
    queue_item_id: str
    thread_id: str
    message_id: str
    position: int
    status: str
    attempts: int
    turn_id: str | None
    failure_reason: str | None


@dataclass(slots=True)
class ActiveTurnInfo:
    turn_id: str
    thread_id: str
    message_id: str
    queue_item_id: str | None
    status: str
    interrupt_requested: bool
    requested_sequence: int


@dataclass(slots=True)
class ReadModel:
    head: int  # every projection read reflects the log up to here
    threads: dict[str, ThreadInfo] = field(default_factory=dict)
    sessions: dict[str, SessionInfo] = field(default_factory=dict)
    queues: dict[str, list[QueuedTurnInfo]] = field(default_factory=dict)  # by thread, by position
    active_turns: dict[str, ActiveTurnInfo] = field(default_factory=dict)  # by thread


def bootstrap(conn: sqlite3.Connection, *, thread_ids: set[str] | None = None) -> ReadModel:
    """Load the read model (optionally for some threads only) as of the current log head."""
    try:
        if pipeline.lagging(conn, CORE_PROJECTORS):
            pipeline.catch_up(conn, CORE_PROJECTORS)
        conn.execute("BEGIN")  # one snapshot for every read below
        try:
            return _load(conn, thread_ids)
        finally:
            conn.execute("COMMIT")
    except sqlite3.Error as exc:
        raise translate(exc, database_path(conn)) from None


def _load(conn: sqlite3.Connection, thread_ids: set[str] | None) -> ReadModel:
    model = ReadModel(head=eventlog.head(conn))
    # A reactor scoped to some threads (`t3 send`, `t3 run --thread`) reads only their rows: the
    # filter runs in SQL over the primary keys and indexes, not in Python over every thread.
    params: tuple[str, ...] = ()
    if thread_ids is not None:
        params = (json.dumps(sorted(thread_ids)),)

    def scope(column: str) -> str:
        if thread_ids is None:
            return ""
        return f" AND {column} IN (SELECT value FROM json_each(?))"

    for row in conn.execute(
        "SELECT t.thread_id, t.project_id, p.path, t.provider, t.model, t.title, t.archived,"
        " t.deleted FROM threads t JOIN projects p ON p.project_id = t.project_id"
        " WHERE t.deleted = 0" + scope("t.thread_id"),
        params,
    ).fetchall():
        model.threads[row[0]] = ThreadInfo(
            row[0], row[1], row[2], row[3], row[4], row[5], bool(row[6]), bool(row[7])
        )
    for row in conn.execute(
        "SELECT thread_id, status, provider_session_id, stop_requested FROM sessions"
        " WHERE 1" + scope("thread_id"),
        params,
    ).fetchall():
        model.sessions[row[0]] = SessionInfo(row[0], row[1], row[2], bool(row[3]))
    for row in conn.execute(
        "SELECT queue_item_id, thread_id, message_id, position, status, attempts, turn_id,"
        " failure_reason FROM queued_turns WHERE 1"
        + scope("thread_id")
        + " ORDER BY thread_id, position",
        params,
    ).fetchall():
        model.queues.setdefault(row[1], []).append(QueuedTurnInfo(*row))
    for row in conn.execute(
        "SELECT turn_id, thread_id, message_id, queue_item_id, status, interrupt_requested,"
        " requested_sequence FROM turns WHERE status IN ('requested', 'running')"
        + scope("thread_id"),
        params,
    ).fetchall():
        model.active_turns[row[1]] = ActiveTurnInfo(
            row[0], row[1], row[2], row[3], row[4], bool(row[5]), row[6]
        )
    return model

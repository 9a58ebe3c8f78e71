"""Read queries the reactor needs, over the core projections.

Every query here is an indexed lookup or a scan bounded by what is *pending* (queued items, active
turns, live sessions) — never by a thread's history or the log's length. `thread_snapshot` reads
inside one snapshot (a short read transaction, closed before returning), so the reactor decides on
a consistent view of one thread.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from t3cli.store.message_text import whole as whole_text

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class QueueItemRow:
    queue_item_id: str
    message_id: str
    status: str  # pending | sending | failed
    position: int
    attempts: int
    turn_id: str | None
    failure_reason: str | None


@dataclass(frozen=True, slots=True)
class TurnRow:
    turn_id: str
    thread_id: str
    message_id: str
    queue_item_id: str | None
    status: str
    interrupt_requested: bool
    error: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None
    duration_ms: int | None = None
    requested_sequence: int = 0


@dataclass(frozen=True, slots=True)
class ThreadSnapshot:
    """One thread as the reactor sees it: identity, session, queue and active turn."""

    thread_id: str
    project_id: str
    cwd: str
    provider: str
    model: str | None
    title: str
    archived: bool
    deleted: bool
    session_status: str | None
    provider_session_id: str | None
    stop_requested: bool
    queue: tuple[QueueItemRow, ...]
    active_turn: TurnRow | None

    @property
    def head(self) -> QueueItemRow | None:
        return self.queue[0] if self.queue else None

    @property
    def sending(self) -> QueueItemRow | None:
        return next((item for item in self.queue if item.status == "sending"), None)

    @property
    def pending_count(self) -> int:
        return sum(1 for item in self.queue if item.status == "pending")


_TURN_COLUMNS = (
    "turn_id, thread_id, message_id, queue_item_id, status, interrupt_requested, error,"
    " input_tokens, output_tokens, cost_usd, duration_ms, requested_sequence"
)


def _turn(row: tuple[object, ...]) -> TurnRow:
    return TurnRow(
        turn_id=str(row[0]),
        thread_id=str(row[1]),
        message_id=str(row[2]),
        queue_item_id=row[3] if row[3] is None else str(row[3]),
        status=str(row[4]),
        interrupt_requested=bool(row[5]),
        error=row[6] if row[6] is None else str(row[6]),
        input_tokens=row[7],  # type: ignore[arg-type]
        output_tokens=row[8],  # type: ignore[arg-type]
        cost_usd=row[9],  # type: ignore[arg-type]
        duration_ms=row[10],  # type: ignore[arg-type]
        requested_sequence=int(row[11]),  # type: ignore[call-overload]
    )


def thread_snapshot(conn: sqlite3.Connection, thread_id: str) -> ThreadSnapshot | None:
    """The thread's current state in one consistent read, or None if it does not exist."""
    conn.execute("BEGIN")
    try:
        row = conn.execute(
            "SELECT t.project_id, p.path, t.provider, t.model, t.title, t.archived, t.deleted,"
            " s.status, s.provider_session_id, s.stop_requested FROM threads t"
            " JOIN projects p ON p.project_id = t.project_id"
            " LEFT JOIN sessions s ON s.thread_id = t.thread_id WHERE t.thread_id = ?",
            (thread_id,),
        ).fetchone()
        if row is None:
            return None
        queue = tuple(
            QueueItemRow(*item)
            for item in conn.execute(
                "SELECT queue_item_id, message_id, status, position, attempts, turn_id,"
                " failure_reason FROM queued_turns WHERE thread_id = ? ORDER BY position",
                (thread_id,),
            ).fetchall()
        )
        active = conn.execute(
            f"SELECT {_TURN_COLUMNS} FROM turns WHERE thread_id = ?"
            " AND status IN ('requested', 'running') LIMIT 1",
            (thread_id,),
        ).fetchone()
    finally:
        conn.execute("COMMIT")
    return ThreadSnapshot(
        thread_id=thread_id,
        project_id=row[0],
        cwd=row[1],
        provider=row[2],
        model=row[3],
        title=row[4],
        archived=bool(row[5]),
        deleted=bool(row[6]),
        session_status=row[7],
        provider_session_id=row[8],
        stop_requested=bool(row[9]),
        queue=queue,
        active_turn=_turn(active) if active else None,
    )


def turn(conn: sqlite3.Connection, turn_id: str) -> TurnRow | None:
    """One turn by id (primary key)."""
    row = conn.execute(
        f"SELECT {_TURN_COLUMNS} FROM turns WHERE turn_id = ?", (turn_id,)
    ).fetchone()
    return _turn(row) if row else None


def latest_turn_of_item(conn: sqlite3.Connection, queue_item_id: str) -> TurnRow | None:
    """The most recent turn sent for a queued item (used once by a follower, not on hot paths)."""
    row = conn.execute(
        f"SELECT {_TURN_COLUMNS} FROM turns WHERE queue_item_id = ?"
        " ORDER BY requested_sequence DESC LIMIT 1",
        (queue_item_id,),
    ).fetchone()
    return _turn(row) if row else None


def queue_item(conn: sqlite3.Connection, queue_item_id: str) -> tuple[str, int, str | None] | None:
    """(status, queued_sequence, turn_id) of a queued item still in its queue, else None."""
    row = conn.execute(
        "SELECT status, queued_sequence, turn_id FROM queued_turns WHERE queue_item_id = ?",
        (queue_item_id,),
    ).fetchone()
    return (str(row[0]), int(row[1]), row[2]) if row else None


def message_text(conn: sqlite3.Connection, message_id: str) -> str | None:
    """The full text of a message (primary key)."""
    return whole_text(conn, message_id)


def agent_groups(conn: sqlite3.Connection, turn: TurnRow) -> list[dict[str, Any]]:
    """The process groups recorded for `turn`'s agent (`thread.turn-agent-launched` payloads;
    normally one), read from the log: the thread's events after the turn was requested, through
    the (stream, sequence) index — at recovery only, never on a hot path."""
    rows = conn.execute(
        "SELECT payload FROM events WHERE stream_id = ? AND sequence > ?"
        " AND type = 'thread.turn-agent-launched' ORDER BY sequence",
        (turn.thread_id, turn.requested_sequence),
    ).fetchall()
    payloads = [json.loads(row[0]) for row in rows]
    return [p for p in payloads if p.get("turn_id") == turn.turn_id]


def project_threads(conn: sqlite3.Connection, project_id: str) -> set[str]:
    """Ids of the project's non-deleted threads (indexed by project)."""
    rows = conn.execute(
        "SELECT thread_id FROM threads WHERE project_id = ? AND deleted = 0", (project_id,)
    ).fetchall()
    return {row[0] for row in rows}


def _scoped(
    conn: sqlite3.Connection,
    candidates: set[str],
    thread_ids: Collection[str] | None,
    project_id: str | None,
) -> set[str]:
    if thread_ids is not None:
        candidates &= set(thread_ids)
    if not candidates:
        return candidates
    kept: set[str] = set()
    ordered = sorted(candidates)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        sql = f"SELECT thread_id FROM threads WHERE deleted = 0 AND thread_id IN ({marks})"
        params: list[object] = list(chunk)
        if project_id is not None:
            sql += " AND project_id = ?"
            params.append(project_id)
        kept.update(row[0] for row in conn.execute(sql, params).fetchall())
    return kept


def threads_with_eligible_work(
    conn: sqlite3.Connection,
    *,
    thread_ids: Collection[str] | None = None,
    project_id: str | None = None,
) -> set[str]:
    """Threads (in scope) that a reactor would act on now: an active turn, an item being sent,
    or a `pending` head item (a `failed` head blocks its thread, so that thread is not here).
    Archived threads are left out: nothing can be sent on them."""
    rows = conn.execute(
        "SELECT thread_id FROM turns WHERE status IN ('requested', 'running')"
        " UNION SELECT thread_id FROM queued_turns WHERE status = 'sending'"
        " UNION SELECT thread_id FROM queued_turns WHERE status = 'pending' AND position = 1"
    ).fetchall()
    found = _scoped(conn, {row[0] for row in rows}, thread_ids, project_id)
    if not found:
        return found
    archived = _archived(conn, found)
    return found - archived


def _archived(conn: sqlite3.Connection, thread_ids: set[str]) -> set[str]:
    out: set[str] = set()
    ordered = sorted(thread_ids)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT thread_id FROM threads WHERE archived = 1 AND thread_id IN ({marks})", chunk
        ).fetchall()
        out.update(row[0] for row in rows)
    return out


def threads_needing_a_reactor(
    conn: sqlite3.Connection,
    *,
    thread_ids: Collection[str] | None = None,
    project_id: str | None = None,
) -> set[str]:
    """Eligible work (above) plus sessions that a reactor must settle: left `starting` or
    `running`, or asked to stop."""
    rows = conn.execute(
        "SELECT thread_id FROM sessions WHERE status IN ('starting', 'running')"
        " OR (stop_requested = 1 AND status != 'stopped')"
    ).fetchall()
    sessions = _scoped(conn, {row[0] for row in rows}, thread_ids, project_id)
    return sessions | threads_with_eligible_work(conn, thread_ids=thread_ids, project_id=project_id)


def oldest_work_first(conn: sqlite3.Connection, thread_ids: Collection[str]) -> list[str]:
    """`thread_ids` ordered by how long their work has waited: the sequence of the oldest active
    turn's request, item being sent or pending head item (0 — first — for a thread whose only
    work is a session to settle). Ties by thread id."""
    since = dict.fromkeys(thread_ids, 0)
    found: dict[str, int] = {}
    ordered = sorted(since)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT thread_id, min(requested_sequence) FROM turns WHERE thread_id IN ({marks})"
            " AND status IN ('requested', 'running') GROUP BY thread_id"
            f" UNION ALL SELECT thread_id, min(queued_sequence) FROM queued_turns"
            f" WHERE thread_id IN ({marks}) AND (status = 'sending'"
            " OR (status = 'pending' AND position = 1)) GROUP BY thread_id",
            (*chunk, *chunk),
        ).fetchall()
        for thread_id, sequence in rows:
            found[thread_id] = min(found.get(thread_id, sequence), sequence)
    since.update(found)
    return sorted(since, key=lambda t: (since[t], t))


def live_sessions(
    conn: sqlite3.Connection,
    *,
    thread_ids: Collection[str] | None = None,
    project_id: str | None = None,
) -> set[str]:
    """Threads (in scope) whose session is `starting`, `running` or `ready`: the ones a reactor
    records as `stopped` when it exits."""
    rows = conn.execute(
        "SELECT thread_id FROM sessions WHERE status IN ('starting', 'running', 'ready')"
    ).fetchall()
    return _scoped(conn, {row[0] for row in rows}, thread_ids, project_id)


@dataclass(frozen=True, slots=True)
class TurnLaunch:
    """What launching a `requested` turn needs, read in one statement (`turn_launch`).
    `cwd`/`provider` are None if the thread (or its project) is missing; `text` is None if the
    message is missing."""

    turn_id: str
    thread_id: str
    status: str
    queue_item_id: str | None
    message_id: str
    cwd: str | None
    provider: str | None
    model: str | None
    provider_session_id: str | None
    text: str | None


def turn_launch(conn: sqlite3.Connection, turn_id: str) -> TurnLaunch | None:
    """The turn, its thread's launch settings and its message text in one read (one statement,
    hence one consistent snapshot), or None if the turn does not exist. Primary-key lookups."""
    row = conn.execute(
        "SELECT tu.thread_id, tu.status, tu.queue_item_id, tu.message_id, p.path, t.provider,"
        " t.model, s.provider_session_id, m.text FROM turns tu"
        " LEFT JOIN threads t ON t.thread_id = tu.thread_id"
        " LEFT JOIN projects p ON p.project_id = t.project_id"
        " LEFT JOIN sessions s ON s.thread_id = tu.thread_id"
        " LEFT JOIN messages m ON m.message_id = tu.message_id"
        " WHERE tu.turn_id = ?",
        (turn_id,),
    ).fetchone()
    if row is None:
        return None
    return TurnLaunch(
        turn_id=turn_id,
        thread_id=str(row[0]),
        status=str(row[1]),
        queue_item_id=row[2],
        message_id=str(row[3]),
        cwd=row[4] if row[4] is None or row[5] is None else str(row[4]),
        provider=row[5] if row[4] is None or row[5] is None else str(row[5]),
        model=row[6],
        provider_session_id=row[7],
        text=row[8] if row[8] is None else str(row[8]),
    )

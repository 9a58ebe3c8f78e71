"""The read side: every query the CLI runs, over the projections and the log.

Guarantees:
- Read-only: nothing here writes (the one exception a reader may need, catching the asynchronous
  `thread_summaries` projector up, is `store.barrier.ensure_projected`, which callers invoke first).
- Every function fetches its rows fully and closes its cursor, so no reader pins the WAL.
- Deleted threads are never returned. Archived threads only where asked for.
- A thread's `status` is derived in SQL from the core `threads` projection (always current):
  archived → `archived`; active turn requested → `starting`, running → `running`; a failed queued
  item → `blocked`; pending or sending items → `queued`; otherwise `idle`.
"""

from __future__ import annotations

import sqlite3
from typing import NamedTuple

from t3cli.contracts.events import EventRecord
from t3cli.store import eventlog, message_text

THREAD_STATUSES = ("idle", "starting", "running", "queued", "blocked", "archived")

_STATUS_SQL = (
    "CASE WHEN t.archived THEN 'archived'"
    " WHEN t.active_turn_status = 'requested' THEN 'starting'"
    " WHEN t.active_turn_status = 'running' THEN 'running'"
    " WHEN t.failed_count > 0 THEN 'blocked'"
    " WHEN t.pending_count + t.sending_count > 0 THEN 'queued'"
    " ELSE 'idle' END"
)


class ProjectRow(NamedTuple):
    project_id: str
    path: str
    title: str
    default_provider: str
    created_at: str
    thread_count: int


class ThreadRef(NamedTuple):
    """Just enough of a thread to address it (and to list it as a candidate)."""

    thread_id: str
    title: str
    archived: bool


class ThreadRow(NamedTuple):
    thread_id: str
    project_id: str
    project_path: str | None
    title: str
    provider: str
    model: str | None
    status: str
    session_status: str | None
    queue_depth: int
    archived: bool
    created_at: str
    last_activity_at: str
    last_activity_sequence: int
    preview: str
    message_count: int
    turn_count: int
    input_tokens: int
    output_tokens: int
    cost_usd: float


class MessageRow(NamedTuple):
    message_id: str
    role: str
    text: str
    turn_id: str | None
    queue_item_id: str | None
    complete: bool
    created_at: str
    sequence: int


class TurnRow(NamedTuple):
    turn_id: str
    status: str
    queue_item_id: str | None
    message_id: str
    requested_at: str
    started_at: str | None
    completed_at: str | None
    duration_ms: int | None
    input_tokens: int | None
    output_tokens: int | None
    cached_input_tokens: int | None
    cost_usd: float | None
    error: str | None


class QueueRow(NamedTuple):
    queue_item_id: str
    thread_id: str
    position: int
    status: str
    text: str
    failure_reason: str | None
    attempts: int
    turn_id: str | None
    queued_at: str
    message_id: str


# --- projects ----------------------------------------------------------------------------------

_PROJECT_SELECT = (
    "SELECT p.project_id, p.path, p.title, p.default_provider, p.created_at,"
    " (SELECT count(*) FROM threads t WHERE t.project_id = p.project_id AND NOT t.deleted)"
    " FROM projects p"
)


def list_projects(conn: sqlite3.Connection) -> list[ProjectRow]:
    """Every registered project, ordered by path."""
    rows = conn.execute(f"{_PROJECT_SELECT} ORDER BY p.path").fetchall()
    return [ProjectRow(*row) for row in rows]


def project_by_path(conn: sqlite3.Connection, path: str) -> ProjectRow | None:
    """The project registered at exactly `path` (absolute). One unique-index lookup."""
    row = conn.execute(f"{_PROJECT_SELECT} WHERE p.path = ?", (path,)).fetchone()
    return ProjectRow(*row) if row else None


def find_project(conn: sqlite3.Connection, ref: str) -> ProjectRow | None:
    """The project whose absolute path, id or exact title is `ref` (first match in that order)."""
    for where in ("p.path = ?", "p.project_id = ?", "p.title = ?"):
        row = conn.execute(f"{_PROJECT_SELECT} WHERE {where} ORDER BY p.path LIMIT 1", (ref,))
        found = row.fetchone()
        if found is not None:
            return ProjectRow(*found)
    return None


# --- resolving thread references ---------------------------------------------------------------


def _is_hex(text: str) -> bool:
    return bool(text) and all(ch in "0123456789abcdef" for ch in text)


def thread_by_id(conn: sqlite3.Connection, thread_id: str) -> ThreadRef | None:
    """The (non-deleted) thread with exactly this id. One primary-key lookup."""
    row = conn.execute(
        "SELECT thread_id, title, archived FROM threads WHERE thread_id = ? AND NOT deleted",
        (thread_id,),
    ).fetchone()
    return ThreadRef(row[0], row[1], bool(row[2])) if row else None


def thread_provider(conn: sqlite3.Connection, thread_id: str) -> str | None:
    """The provider name a thread is bound to (None for an unknown thread). One key lookup."""
    row = conn.execute("SELECT provider FROM threads WHERE thread_id = ?", (thread_id,)).fetchone()
    return str(row[0]) if row else None


def command_recorded(conn: sqlite3.Connection, command_id: str) -> bool:
    """Whether a command with this id was already accepted or rejected (its receipt exists)."""
    return eventlog.get_receipt(conn, command_id) is not None


def recorded_command_type(conn: sqlite3.Connection, command_id: str) -> str | None:
    """The type (`thread.turn.queue`, ...) of the command recorded under this id, if any."""
    row = conn.execute(
        "SELECT command_type FROM command_receipts WHERE command_id = ?", (command_id,)
    ).fetchone()
    return str(row[0]) if row else None


def command_thread(conn: sqlite3.Connection, command_id: str) -> ThreadRef | None:
    """The thread an already-recorded command (by its id) addressed, even if since deleted;
    None for an unknown command id or one that addressed no thread."""
    receipt = eventlog.get_receipt(conn, command_id)
    if receipt is None:
        return None
    row = conn.execute(
        "SELECT t.thread_id, t.title, t.archived FROM command_receipts r"
        " JOIN threads t ON t.thread_id = r.stream_id WHERE r.command_id = ?",
        (command_id,),
    ).fetchone()
    return ThreadRef(row[0], row[1], bool(row[2])) if row else None


def threads_matching(conn: sqlite3.Connection, ref: str, limit: int = 20) -> list[ThreadRef]:
    """Non-deleted threads whose id starts with `ref` or whose title is exactly `ref`, at most
    `limit` of them, most recently created first. Index range scans only."""
    found: dict[str, ThreadRef] = {}
    prefix = ref.lower()
    if _is_hex(prefix):
        # Ids are lowercase hex, so every id starting with `prefix` sorts below `prefix + "g"`.
        rows = conn.execute(
            "SELECT thread_id, title, archived FROM threads WHERE thread_id >= ?"
            " AND thread_id < ? AND NOT deleted ORDER BY created_sequence DESC LIMIT ?",
            (prefix, prefix + "g", limit),
        ).fetchall()
        found.update({row[0]: ThreadRef(row[0], row[1], bool(row[2])) for row in rows})
    rows = conn.execute(
        "SELECT thread_id, title, archived FROM threads WHERE title = ? AND NOT deleted"
        " ORDER BY created_sequence DESC LIMIT ?",
        (ref, limit),
    ).fetchall()
    found.update({row[0]: ThreadRef(row[0], row[1], bool(row[2])) for row in rows})
    return list(found.values())[:limit]


def last_active_thread(conn: sqlite3.Connection) -> ThreadRef | None:
    """The non-deleted, non-archived thread with the most recent activity (by the
    `thread_summaries` projection: call `ensure_projected` first for read-your-writes)."""
    row = conn.execute(
        "SELECT t.thread_id, t.title, t.archived FROM thread_summaries s"
        " JOIN threads t ON t.thread_id = s.thread_id"
        " WHERE NOT t.deleted AND NOT t.archived"
        " ORDER BY s.last_activity_sequence DESC LIMIT 1"
    ).fetchone()
    return ThreadRef(row[0], row[1], bool(row[2])) if row else None


_UNPROJECTED_SCAN = 1000  # at most this many newest events looked at by `thread_completions`


def thread_completions(
    conn: sqlite3.Connection, incomplete: str, limit: int = 50
) -> list[ThreadRef]:
    """Candidates for completing a THREAD: non-deleted threads whose id starts with `incomplete`
    (case-insensitively) or whose title does (ASCII case-insensitively), at most `limit`, most
    recently active first.

    For read-only connections (TAB completion), which cannot catch the asynchronous
    `thread_summaries` projection up: activity it has not applied yet counts too (from the newest
    1,000 events at most), and a thread it has not reached yet ranks by its creation."""
    prefix = incomplete.lower()
    pattern = incomplete.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    where = "t.title LIKE ? ESCAPE '\\'"
    params: list[object] = [_UNPROJECTED_SCAN, pattern]
    if _is_hex(prefix):
        where += " OR (t.thread_id >= ? AND t.thread_id < ?)"
        params += [prefix, prefix + "g"]
    params.append(limit)
    # NOT INDEXED: a rowid range over the newest events, never a walk of `events_stream`.
    rows = conn.execute(
        "WITH unprojected AS (SELECT stream_id, max(sequence) AS sequence FROM events NOT INDEXED"
        " WHERE stream_kind = 'thread' AND sequence > max("
        "  coalesce((SELECT last_applied_sequence FROM projection_state"
        "   WHERE projector = 'thread_summaries'), 0),"
        "  coalesce((SELECT max(sequence) FROM events), 0) - ?)"
        " GROUP BY stream_id)"
        " SELECT t.thread_id, t.title, t.archived FROM threads t"
        " LEFT JOIN thread_summaries s ON s.thread_id = t.thread_id"
        " LEFT JOIN unprojected u ON u.stream_id = t.thread_id"
        f" WHERE NOT t.deleted AND ({where}) ORDER BY"
        " coalesce(u.sequence, s.last_activity_sequence, t.created_sequence) DESC LIMIT ?",
        params,
    ).fetchall()
    return [ThreadRef(row[0], row[1], bool(row[2])) for row in rows]


# --- threads -----------------------------------------------------------------------------------

_THREAD_COLUMNS = (
    "SELECT t.thread_id, t.project_id, p.path, t.title, t.provider, t.model,"
    f" {_STATUS_SQL} AS status, ses.status,"
    " t.pending_count + t.sending_count + t.failed_count, t.archived, t.created_at,"
    " coalesce(s.last_activity_at, t.created_at), coalesce(s.last_activity_sequence,"
    " t.created_sequence) AS activity, rtrim(coalesce(s.preview, ''), ' '),"
    " coalesce(s.message_count, 0),"
    " coalesce(s.turn_count, 0), coalesce(s.input_tokens, 0), coalesce(s.output_tokens, 0),"
    " coalesce(s.cost_usd, 0.0)"
)
_THREAD_JOINS = (
    " LEFT JOIN projects p ON p.project_id = t.project_id"
    " LEFT JOIN sessions ses ON ses.thread_id = t.thread_id"
)
_THREAD_SELECT = (
    f"{_THREAD_COLUMNS} FROM threads t"
    f" LEFT JOIN thread_summaries s ON s.thread_id = t.thread_id{_THREAD_JOINS}"
)
# Listing walks `thread_summaries_activity` backwards and stops after LIMIT rows: a page costs
# O(limit), not a scan and sort of every thread (25 ms -> 0.2 ms at 10,000 threads).
_LISTED_THREADS = (
    f"{_THREAD_COLUMNS} FROM thread_summaries s"
    f" JOIN threads t ON t.thread_id = s.thread_id{_THREAD_JOINS}"
)


def _thread_row(row: tuple[object, ...]) -> ThreadRow:
    values = list(row)
    values[9] = bool(values[9])
    return ThreadRow(*values)  # type: ignore[arg-type]


def list_threads(
    conn: sqlite3.Connection,
    *,
    include_archived: bool = False,
    project_id: str | None = None,
    status: str | None = None,
    limit: int = 50,
    before: int | None = None,
) -> list[ThreadRow]:
    """Threads ordered by last activity, most recent first; at most `limit` rows.

    Reads the `thread_summaries` projection (call `barrier.ensure_projected` first, as
    `last_active_thread` does): a thread it has not reached yet is not listed.
    Keyset pagination: `before` is the `last_activity_sequence` of the last row of the previous
    page (each thread's last activity is a distinct event, so the order is total and pages
    neither skip nor repeat rows that did not change in between)."""
    where = ["NOT t.deleted"]
    params: list[object] = []
    if not include_archived and status != "archived":
        where.append("NOT t.archived")
    if project_id is not None:
        where.append("t.project_id = ?")
        params.append(project_id)
    if status is not None:
        where.append(f"{_STATUS_SQL} = ?")
        params.append(status)
    if before is not None:
        where.append("s.last_activity_sequence < ?")
        params.append(before)
    params.append(limit)
    rows = conn.execute(
        f"{_LISTED_THREADS} WHERE {' AND '.join(where)}"
        " ORDER BY s.last_activity_sequence DESC LIMIT ?",
        params,
    ).fetchall()
    return [_thread_row(row) for row in rows]


def get_thread(conn: sqlite3.Connection, thread_id: str) -> ThreadRow | None:
    """One non-deleted thread with its derived status and summary."""
    row = conn.execute(
        f"{_THREAD_SELECT} WHERE t.thread_id = ? AND NOT t.deleted", (thread_id,)
    ).fetchone()
    return _thread_row(row) if row else None


def thread_messages(
    conn: sqlite3.Connection, thread_id: str, *, last: int | None = None
) -> list[MessageRow]:
    """The transcript as the agent saw it: the messages sent to the agent and its replies, a
    queued message where its turn was sent (not where it was queued), so replies follow their
    instructions. A message still waiting in the queue, or cancelled before it was sent, is not
    in the transcript: it belongs to the queue (`queue_items`). A streamed message sits where
    its first chunk arrived. With `last`, only the last `last` messages (still in order)."""
    order = "coalesce(t.requested_sequence, m.sequence) {0}, m.sequence {0}"
    sql = (
        "SELECT m.message_id, m.role, m.text, m.turn_id, m.queue_item_id, m.complete,"
        " m.created_at, m.sequence, m.spilled FROM messages m"
        " LEFT JOIN turns t ON t.turn_id = m.turn_id AND m.role = 'user'"
        # A user message with a queue item but no turn was never sent.
        " WHERE m.thread_id = ? AND NOT (m.role = 'user' AND m.turn_id IS NULL"
        " AND m.queue_item_id IS NOT NULL)"
    )
    if last is None:
        rows = conn.execute(f"{sql} ORDER BY {order.format('')}", (thread_id,)).fetchall()
    else:
        rows = conn.execute(
            f"{sql} ORDER BY {order.format('DESC')} LIMIT ?", (thread_id, max(0, last))
        ).fetchall()
        rows.reverse()
    # A long reply's later chunks are stored once, in the log (`store.message_text`).
    whole = message_text.whole_texts(conn, ((r[0], r[2], r[8]) for r in rows))
    return [
        MessageRow(r[0], r[1], whole.get(r[0], r[2]), r[3], r[4], bool(r[5]), r[6], r[7])
        for r in rows
    ]


def thread_turns(conn: sqlite3.Connection, thread_id: str) -> list[TurnRow]:
    """The thread's turns in the order they were requested."""
    rows = conn.execute(
        "SELECT turn_id, status, queue_item_id, message_id, requested_at, started_at,"
        " completed_at, duration_ms, input_tokens, output_tokens, cached_input_tokens, cost_usd,"
        " error FROM turns WHERE thread_id = ? ORDER BY requested_sequence",
        (thread_id,),
    ).fetchall()
    return [TurnRow(*row) for row in rows]


# --- the queue ---------------------------------------------------------------------------------


def blocked_threads(conn: sqlite3.Connection, project_id: str | None = None) -> list[ThreadRef]:
    """Non-deleted, non-archived threads (of one project, if given) holding a failed queued
    item, in the order they were created: what `t3 retry --all` retries. A scan of `threads`
    (one row per thread), never of the queue or the log."""
    sql = (
        "SELECT thread_id, title, archived FROM threads"
        " WHERE failed_count > 0 AND NOT deleted AND NOT archived"
    )
    params: tuple[object, ...] = ()
    if project_id is not None:
        sql += " AND project_id = ?"
        params = (project_id,)
    rows = conn.execute(f"{sql} ORDER BY created_sequence", params).fetchall()
    return [ThreadRef(row[0], row[1], bool(row[2])) for row in rows]



def queue_items(conn: sqlite3.Connection, thread_id: str | None = None) -> list[QueueRow]:
    """Queued turns (pending, sending, failed) with their message text, FIFO order per thread.
    Without `thread_id`: every non-deleted thread's queue, threads in order of their oldest item."""
    sql = (
        "SELECT q.queue_item_id, q.thread_id, q.position, q.status, coalesce(m.text, ''),"
        " q.failure_reason, q.attempts, q.turn_id, q.queued_at, q.message_id"
        " FROM queued_turns q JOIN threads t ON t.thread_id = q.thread_id"
        " LEFT JOIN messages m ON m.message_id = q.message_id WHERE NOT t.deleted"
    )
    params: tuple[object, ...] = ()
    if thread_id is not None:
        sql += " AND q.thread_id = ? ORDER BY q.position"
        params = (thread_id,)
    else:
        sql += (
            " ORDER BY (SELECT min(queued_sequence) FROM queued_turns o"
            " WHERE o.thread_id = q.thread_id), q.thread_id, q.position"
        )
    return [QueueRow(*row) for row in conn.execute(sql, params).fetchall()]


# --- the log -----------------------------------------------------------------------------------


def read_events(
    conn: sqlite3.Connection,
    after: int,
    *,
    limit: int = 1000,
    until: int | None = None,
    stream_id: str | None = None,
    type_glob: str | None = None,
) -> list[EventRecord]:
    """Up to `limit` events with `sequence > after` (and `<= until`), in sequence order,
    optionally only one stream's and only types matching `type_glob` (shell-style: `*`, `?`,
    `[...]`; case-sensitive). Events of types this version does not know are returned as stored."""
    return eventlog.read_after(
        conn, after, limit, until=until, stream_id=stream_id, type_glob=type_glob
    )


def log_head(conn: sqlite3.Connection) -> int:
    """The highest sequence in the log (0 when empty)."""
    return eventlog.head(conn)


def data_version(conn: sqlite3.Connection) -> int:
    """SQLite's `PRAGMA data_version`: changes whenever another connection commits. A cheap
    "has anything happened?" poll for followers."""
    return int(conn.execute("PRAGMA data_version").fetchone()[0])

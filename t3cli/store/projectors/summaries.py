"""`thread_summaries`: derived per-thread metadata for listings, off the append path.

Title, a capped preview of the latest message, message and turn counts, queue depth, token and
cost totals, last activity. Every handler is O(1) in the thread's length: a counter bump or a
single-row update — never a query over the thread's messages or activities. The preview is capped
at `PREVIEW_CHARS`, so listing cost does not grow with message size.

The preview is the message with every run of whitespace made one space, its start trimmed. A
message streamed in chunks previews exactly as the whole message would: a chunk may end or begin
between two words, so the stored preview keeps one trailing space when the text so far ended in
whitespace, and the next chunk's leading whitespace is dropped after it (version 2; version 1
stripped every chunk and glued `explain the` + ` build` into `explain thebuild`). Readers trim it.
"""

from __future__ import annotations

import re
import sqlite3

from t3cli.contracts.events import EventRecord
from t3cli.store.projectors.base import Projector

PREVIEW_CHARS = 280
_WHITESPACE = re.compile(r"\s+")


def _flat(text: str) -> str:
    """`text` (its first `2 * PREVIEW_CHARS` characters) with each whitespace run made one space,
    both ends kept: whether a chunk begins or ends between two words matters."""
    return _WHITESPACE.sub(" ", text[: PREVIEW_CHARS * 2])


def _preview(text: str) -> str:
    """The preview of a message's first chunk."""
    return _flat(text).lstrip(" ")[:PREVIEW_CHARS]


def extend_preview(preview: str, chunk: str) -> str:
    """`preview` followed by a later chunk of the same message (the fold's rule; the projector
    does the same in SQL): one space where either side had whitespace, capped."""
    more = _flat(chunk)
    if not preview or preview.endswith(" "):
        more = more.lstrip(" ")
    return (preview + more)[:PREVIEW_CHARS]


def _touch(
    conn: sqlite3.Connection, ev: EventRecord, extra: str = "", params: tuple[object, ...] = ()
) -> None:
    sets = "last_activity_at = ?, last_activity_sequence = ?"
    if extra:
        sets = f"{extra}, {sets}"
    conn.execute(
        f"UPDATE thread_summaries SET {sets} WHERE thread_id = ?",
        (*params, ev.occurred_at, ev.sequence, ev.payload["thread_id"]),
    )


def _created(conn: sqlite3.Connection, ev: EventRecord) -> None:
    p = ev.payload
    conn.execute(
        "INSERT INTO thread_summaries (thread_id, project_id, title, provider, last_activity_at,"
        " last_activity_sequence) VALUES (?, ?, ?, ?, ?, ?)",
        (p["thread_id"], p["project_id"], p["title"], p["provider"], ev.occurred_at, ev.sequence),
    )


def _updated(conn: sqlite3.Connection, ev: EventRecord) -> None:
    _touch(conn, ev, "title = coalesce(?, title)", (ev.payload.get("title"),))


def _deleted(conn: sqlite3.Connection, ev: EventRecord) -> None:
    _touch(conn, ev, "deleted = 1, queue_depth = 0")


def _message(conn: sqlite3.Connection, ev: EventRecord) -> None:
    p = ev.payload
    if p.get("chunk", 0) == 0:
        _touch(
            conn,
            ev,
            "message_count = message_count + 1, preview = ?, preview_message_id = ?",
            (_preview(p["text"]), p["message_id"]),
        )
        return
    # A later chunk extends the preview only while it is the previewed message and not yet full
    # (`extend_preview`: its leading space is dropped after a preview that is empty or already
    # ends in one).
    more = _flat(p["text"])
    conn.execute(
        "UPDATE thread_summaries SET preview = CASE WHEN preview_message_id = ?"
        " AND length(preview) < ? THEN substr(preview || CASE WHEN preview = ''"
        " OR substr(preview, -1) = ' ' THEN ? ELSE ? END, 1, ?) ELSE preview END,"
        " last_activity_at = ?, last_activity_sequence = ? WHERE thread_id = ?",
        (
            p["message_id"],
            PREVIEW_CHARS,
            more.lstrip(" "),
            more,
            PREVIEW_CHARS,
            ev.occurred_at,
            ev.sequence,
            p["thread_id"],
        ),
    )


def _turn_requested(conn: sqlite3.Connection, ev: EventRecord) -> None:
    _touch(conn, ev, "turn_count = turn_count + 1")


def _turn_completed(conn: sqlite3.Connection, ev: EventRecord) -> None:
    p = ev.payload
    _touch(
        conn,
        ev,
        "input_tokens = input_tokens + ?, output_tokens = output_tokens + ?,"
        " cost_usd = cost_usd + ?",
        (p.get("input_tokens") or 0, p.get("output_tokens") or 0, p.get("cost_usd") or 0.0),
    )


def _depth(delta: int):  # type: ignore[no-untyped-def]
    def handler(conn: sqlite3.Connection, ev: EventRecord) -> None:
        _touch(conn, ev, "queue_depth = max(0, queue_depth + ?)", (delta,))

    return handler


def _activity_only(conn: sqlite3.Connection, ev: EventRecord) -> None:
    _touch(conn, ev)


THREAD_SUMMARIES = Projector(
    name="thread_summaries",
    version=2,  # 2: chunked previews keep the space between chunks
    tables=("thread_summaries",),
    keys={"thread_summaries": "thread_id"},
    handlers={
        "thread.created": _created,
        "thread.updated": _updated,
        "thread.deleted": _deleted,
        "thread.archived": _activity_only,
        "thread.unarchived": _activity_only,
        "thread.message-sent": _message,
        "thread.turn-start-requested": _turn_requested,
        "thread.turn-started": _activity_only,
        "thread.turn-completed": _turn_completed,
        "thread.activity-appended": _activity_only,
        "thread.turn-queued": _depth(+1),
        "thread.queued-turn-resolved": _depth(-1),
        "thread.queued-turn-cancelled": _depth(-1),
    },
)

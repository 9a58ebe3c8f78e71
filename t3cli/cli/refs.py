"""Resolving what a user typed into a thread or a queued item.

THREAD forms, tried in this order:
- `@last`: the non-archived thread with the most recent activity (not the most recently created);
- a full id (32 hex characters): that thread;
- otherwise every thread whose id starts with the text, or whose title is exactly the text: one
  match resolves; none is "not found" (exit 4); several are ambiguous (exit 2), and the message
  lists the candidates (id prefix and title) so the user can pick a longer prefix.

ITEM forms (within one thread's queue): a 1-based position (`1` is the head; up to 4 digits) or
an id prefix of at least 4 characters.

Deleted threads never resolve. Resolution is read-only and uses index lookups only, except
`@last`, which first catches the `thread_summaries` projection up (read-your-writes).
"""

from __future__ import annotations

import sqlite3

from t3cli.errors import NotFound, T3Error, UsageError
from t3cli.store import queries
from t3cli.store.queries import ProjectRow, QueueRow, ThreadRef

LAST = "@last"
SHOWN_CANDIDATES = 10
MAX_POSITION_DIGITS = 4
MIN_ITEM_PREFIX = 4
_ID_LENGTH = 32


def _candidates(matches: list[ThreadRef]) -> str:
    lines = [
        f"  {m.thread_id[:8]}  {m.title}{'  (archived)' if m.archived else ''}"
        for m in matches[:SHOWN_CANDIDATES]
    ]
    if len(matches) > SHOWN_CANDIDATES:
        lines.append("  ...")
    return "\n".join(lines)


def resolve_thread(conn: sqlite3.Connection, ref: str) -> ThreadRef:
    """The one thread `ref` names. Raises `NotFound` (exit 4) or `UsageError` (exit 2)."""
    text = ref.strip()
    if not text:
        raise UsageError(
            "the thread reference is empty", hint="give an id, id prefix, title or @last"
        )
    if text == LAST:
        from t3cli.store.barrier import ensure_projected

        ensure_projected(conn)
        last = queries.last_active_thread(conn)
        if last is None:
            raise NotFound("there are no active threads yet", hint="`t3 new` creates one")
        return last
    if len(text) == _ID_LENGTH:
        exact = queries.thread_by_id(conn, text.lower())
        if exact is not None:
            return exact
    matches = queries.threads_matching(conn, text, limit=SHOWN_CANDIDATES + 1)
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotFound(
            f"no thread matches {text!r}",
            hint="`t3 threads --all` lists threads; a THREAD is an id, a unique id prefix,"
            " an exact title, or @last",
        )
    more = "+" if len(matches) > SHOWN_CANDIDATES else ""
    raise UsageError(
        f"{text!r} matches {min(len(matches), SHOWN_CANDIDATES)}{more} threads:\n"
        + _candidates(matches),
        hint="give a longer id prefix",
    )


def resolve_target(conn: sqlite3.Connection, ref: str, command_id: str | None) -> ThreadRef:
    """The thread a write command acts on. A `--command-id` that was already recorded names the
    thread it acted on then — so a retry replays the original outcome even after `@last` moved
    on, the thread was renamed, or it was deleted by that very command — unless `ref` now names
    another thread: then that one, and the command id's fingerprint refuses the mismatch."""
    if command_id:
        recorded = queries.command_thread(conn, command_id)
        if recorded is not None:
            if _names(ref, recorded):
                return recorded
            try:
                return resolve_thread(conn, ref)
            except T3Error:
                return recorded  # nothing else answers to `ref`: the recorded thread it is
    return resolve_thread(conn, ref)


def _names(ref: str, thread: ThreadRef) -> bool:
    """Whether `ref` can mean `thread` (deleted or not): `@last`, an id prefix, or its title."""
    text = ref.strip()
    if text in (LAST, thread.title):
        return True
    return bool(text) and thread.thread_id.startswith(text.lower())


def resolve_item_id(
    conn: sqlite3.Connection, thread: ThreadRef, ref: str, command_id: str | None
) -> str:
    """The id of the queued item `ref` names, for a write command. For a retried, already
    recorded `--command-id` it returns "" without looking: the item may be gone since (that
    command cancelled it), and the engine replays the recorded outcome before reading it."""
    if command_id and queries.command_recorded(conn, command_id):
        return ""
    return resolve_item(conn, thread, ref).queue_item_id


def resolve_item(conn: sqlite3.Connection, thread: ThreadRef, ref: str) -> QueueRow:
    """The queued item `ref` names in `thread`'s queue.

    A number of up to 4 digits is a position and only a position — never also an id prefix, so
    `t3 queue cancel T 7` in a 3-item queue fails instead of cancelling an item whose id happens
    to start with 7. Anything else is an id prefix of at least 4 characters."""
    text = ref.strip().lower()
    items = queries.queue_items(conn, thread.thread_id)
    where = f"thread {thread.thread_id[:8]}'s queue"
    hint = f"`t3 queue list {thread.thread_id[:8]}` shows positions and ids"
    if text.isdigit() and len(text) <= MAX_POSITION_DIGITS:
        at = [item for item in items if item.position == int(text)]
        if not at:
            raise NotFound(f"no position {text} in {where} ({len(items)} item(s))", hint=hint)
        return at[0]
    if len(text) < MIN_ITEM_PREFIX:
        raise UsageError(
            f"{ref!r} is neither a position nor an item id prefix",
            hint=f"give a position (1 is the head) or {MIN_ITEM_PREFIX}+ characters of an id",
        )
    matches = [item for item in items if item.queue_item_id.startswith(text)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotFound(f"no queued item {ref!r} in {where}", hint=hint)
    listed = "\n".join(f"  {m.position}  {m.queue_item_id[:8]}  {m.status}" for m in matches)
    raise UsageError(
        f"{ref!r} matches {len(matches)} items in {where}:\n{listed}",
        hint="give a position or a longer id prefix",
    )


def resolve_project(conn: sqlite3.Connection, ref: str) -> ProjectRow:
    """The project `ref` names: its absolute path, id or exact title, else the directory `ref`
    is (relative or with `~`). Raises `NotFound` (exit 4)."""
    from pathlib import Path

    found = queries.find_project(conn, ref)
    if found is None:
        found = queries.find_project(conn, str(Path(ref).expanduser().resolve()))
    if found is None:
        raise NotFound(f"no project {ref!r}", hint="`t3 projects` lists registered projects")
    return found

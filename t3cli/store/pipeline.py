"""Catch-up, cursors and barriers for projectors.

Guarantees:
- A projector's cursor (`projection_state.last_applied_sequence`) is written in the same
  transaction as the rows it covers, and only moves forward (a trigger refuses anything else).
- `catch_up` applies **every** event after each cursor, in batches, until the log is exhausted —
  there is no cap on how far behind a projector may be.
- A projector that has no cursor yet, or whose `version` changed, is cleared and rebuilt from
  sequence 0 by itself. Inside one transaction (`catch_up_in_transaction`, hence `t3 replay`)
  such a rebuild from zero takes the fast path of `store.bulk` (the same rows, folded in memory
  and written once); the handlers remain the semantics of record and take over whenever the
  fast path cannot mirror them exactly.
- Outside a transaction, each batch commits on its own, so a long catch-up never holds the write
  lock for long; inside one (the append path), everything joins the caller's transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # a cheap dataclass at run time; see t3cli.contracts._record
    from t3cli.contracts._record import record as dataclass

from t3cli.contracts.events import EventRecord
from t3cli.contracts.ids import utc_now
from t3cli.store import bulk, eventlog
from t3cli.store.db import write_transaction
from t3cli.store.projectors import Projector
from t3cli.store.projectors.base import Handler

BATCH_SIZE = 5000
Progress = Callable[[int, int], None]  # (applied so far, total to apply)


class CursorRegression(Exception):
    """A cursor write would not move forward."""


@dataclass(frozen=True)
class Cursor:
    last_applied_sequence: int
    version: int


def read_cursors(conn: sqlite3.Connection) -> dict[str, Cursor]:
    rows = conn.execute(
        "SELECT projector, last_applied_sequence, version FROM projection_state"
    ).fetchall()
    return {name: Cursor(seq, version) for name, seq, version in rows}


@contextmanager
def _forward_only(subject: str, sequence: int) -> Iterator[None]:
    """Raise the database's refusal of a cursor write that does not move forward (the
    `projection_cursor_forward` trigger) as `CursorRegression` naming `subject`."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        if "forward" in str(exc):
            raise CursorRegression(
                f"{subject} may only move forward (asked for {sequence})"
            ) from None
        raise


def advance_cursor(conn: sqlite3.Connection, projector: Projector, sequence: int) -> None:
    """Move `projector`'s cursor to `sequence`.
    Raises `CursorRegression` unless it moves forward."""
    with _forward_only(f"cursor of {projector.name}", sequence):
        conn.execute(
            "INSERT INTO projection_state (projector, last_applied_sequence, version, updated_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (projector) DO UPDATE SET"
            " last_applied_sequence = excluded.last_applied_sequence,"
            " version = excluded.version, updated_at = excluded.updated_at",
            (projector.name, sequence, projector.version, utc_now()),
        )


def advance_cursors(
    conn: sqlite3.Connection, projectors: Sequence[Projector], sequence: int
) -> None:
    """Move every one of `projectors`' cursors to `sequence`, in one statement when they all
    have one (the append path: once per command). Raises `CursorRegression` unless each moves
    forward; a projector without a cursor row (or of another version) gets one written."""
    names = [projector.name for projector in projectors]
    marks = ", ".join("?" * len(names))
    with _forward_only(f"cursors of {', '.join(names)}", sequence):
        moved = conn.execute(
            "UPDATE projection_state SET last_applied_sequence = ?, updated_at = ?"
            f" WHERE projector IN ({marks}) AND version = CASE projector"
            + "".join(" WHEN ? THEN ?" for _ in projectors)
            + " END",
            (
                sequence,
                utc_now(),
                *names,
                *(value for p in projectors for value in (p.name, p.version)),
            ),
        ).rowcount
    if moved != len(projectors):  # some had no cursor, or another version: one by one
        current = read_cursors(conn)
        for projector in projectors:
            cursor = current.get(projector.name)
            if cursor != Cursor(sequence, projector.version):
                advance_cursor(conn, projector, sequence)


def _reset(conn: sqlite3.Connection, projector: Projector) -> None:
    projector.reset(conn)
    conn.execute("DELETE FROM projection_state WHERE projector = ?", (projector.name,))
    conn.execute(
        "INSERT INTO projection_state (projector, last_applied_sequence, version, updated_at)"
        " VALUES (?, 0, ?, ?)",
        (projector.name, projector.version, utc_now()),
    )


def prepare(conn: sqlite3.Connection, projectors: Sequence[Projector]) -> dict[str, int]:
    """Within a write transaction: reset projectors that are new or whose version changed, and
    return every projector's cursor."""
    cursors = read_cursors(conn)
    out: dict[str, int] = {}
    for projector in projectors:
        cursor = cursors.get(projector.name)
        if cursor is None or cursor.version != projector.version:
            _reset(conn, projector)
            out[projector.name] = 0
        else:
            out[projector.name] = cursor.last_applied_sequence
    return out


def apply_events(
    conn: sqlite3.Connection,
    projectors: Sequence[Projector],
    events: Sequence[EventRecord],
    cursors: dict[str, int],
) -> None:
    """Apply `events` (in order) to each projector that has not seen them, then advance those
    projectors' cursors to the last event. Must run inside a write transaction."""
    if not events:
        return
    first, last = events[0].sequence, events[-1].sequence
    behind = [p for p in projectors if cursors[p.name] < last]
    whole = [p for p in behind if cursors[p.name] < first]
    if whole:
        # One pass over the batch for every projector that needs all of it (the usual case):
        # each event goes to its handlers, in projector order. A projector reads and writes only
        # its own tables, so interleaving them per event leaves every row as applying them one
        # after the other would; it saves a loop over the batch per projector.
        routes: dict[str, list[Handler]] = {}
        for projector in whole:
            for event_type, handler in projector.handlers.items():
                routes.setdefault(event_type, []).append(handler)
        for event in events:
            for handler in routes.get(event.type, ()):
                handler(conn, event)
    for projector in behind:
        if projector in whole:
            continue
        start = cursors[projector.name]
        handlers = projector.handlers
        for event in events:
            if event.sequence > start:
                found = handlers.get(event.type)
                if found is not None:
                    found(conn, event)
    for projector in behind:
        advance_cursor(conn, projector, last)
        cursors[projector.name] = last


def lagging(conn: sqlite3.Connection, projectors: Sequence[Projector]) -> bool:
    """True when any of `projectors` is behind the log head, new, or of another version.
    Two indexed reads: cheap enough for every append."""
    head = eventlog.head(conn)
    cursors = read_cursors(conn)
    for projector in projectors:
        cursor = cursors.get(projector.name)
        if cursor is None or cursor.version != projector.version:
            return True
        if cursor.last_applied_sequence < head:
            return True
    return False


def catch_up_in_transaction(
    conn: sqlite3.Connection,
    projectors: Sequence[Projector],
    *,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> int:
    """Bring `projectors` to the log head inside the caller's write transaction.
    Returns the number of events read."""
    cursors = prepare(conn, projectors)
    low = min(cursors.values(), default=0)
    head = eventlog.head(conn)
    total = max(0, head - low)
    done = 0
    fresh = [p for p in projectors if cursors[p.name] == 0]
    if fresh and head > 0:
        done = rebuild_from_zero(conn, conn, fresh, cursors, {p.name: head for p in fresh},
                                 progress=progress, total=total)  # fmt: skip
        low = min(cursors.values(), default=0)
        if low < head:  # some projectors are left to the handlers: they read the log again
            done = 0
    for batch in eventlog.iter_after(conn, low, batch_size=batch_size, until=head):
        apply_events(conn, projectors, batch, cursors)
        done += len(batch)
        if progress is not None:
            progress(min(done, total), total)
    return done


def rebuild_from_zero(
    read: sqlite3.Connection,
    write: sqlite3.Connection,
    projectors: Sequence[Projector],
    cursors: dict[str, int],
    limits: dict[str, int],
    *,
    progress: Progress | None = None,
    total: int | None = None,
) -> int:
    """Inside `write`'s write transaction, rebuild `projectors` (cursors at 0, tables empty) from
    `read`'s events up to `limits[name]` by the fast path where it applies, advancing their
    cursors in `cursors` and in `write`. Projectors it leaves alone keep cursor 0 for the
    handlers. Returns the number of events read (0 if nothing was rebuilt)."""
    outcome = bulk.rebuild(read, write, projectors, limits, progress=progress, total=total)
    for projector in outcome.rebuilt:
        last = outcome.applied.get(projector.name, 0)
        if last > cursors[projector.name]:
            advance_cursor(write, projector, last)
            cursors[projector.name] = last
    return outcome.read


def catch_up(
    conn: sqlite3.Connection,
    projectors: Sequence[Projector],
    *,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> int:
    """Bring `projectors` to the log head, committing one batch per transaction.
    Safe to run concurrently from several processes: each batch re-reads the cursors under the
    write lock. Returns the number of events applied."""
    applied = 0
    total: int | None = None
    while True:
        with write_transaction(conn):
            cursors = prepare(conn, projectors)
            low = min(cursors.values(), default=0)
            batch, full = eventlog.read_page(conn, low, batch_size)
            if total is None:
                total = max(0, eventlog.head(conn) - low)
            apply_events(conn, projectors, batch, cursors)
        applied += len(batch)
        if progress is not None:
            progress(min(applied, total), total)
        if not full:
            return applied


def projected_up_to(conn: sqlite3.Connection, projector: Projector) -> int:
    """The sequence `projector` has applied (0 if it has no cursor)."""
    row = conn.execute(
        "SELECT last_applied_sequence, version FROM projection_state WHERE projector = ?",
        (projector.name,),
    ).fetchone()
    if row is None or row[1] != projector.version:
        return 0
    return int(row[0])

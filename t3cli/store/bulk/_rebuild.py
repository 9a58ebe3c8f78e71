"""The driver of the fast full rebuild: which projectors have a fold (`FOLDS`), reading the log
into the folds (`fold_log`), writing their rows (`write_rows`) and falling back to the
handlers on any failure (`rebuild`).

The log is read in sequence order with only the columns the handlers use, and only the events
some projector handles are decoded; the final rows are written once per table with
`executemany`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from t3cli.contracts.events import EVENT_TYPES
from t3cli.store import eventlog
from t3cli.store.bulk._base import Fold, Payload, Progress, Unsupported
from t3cli.store.bulk.queue import QueueFold
from t3cli.store.bulk.summaries import SummariesFold
from t3cli.store.bulk.threads import ProjectsFold, ThreadsFold
from t3cli.store.bulk.transcript import ActivitiesFold, MessagesFold
from t3cli.store.bulk.turns import SessionsFold, TurnsFold
from t3cli.store.projectors.base import Projector

READ_BATCH = 20_000


FOLDS: dict[int, type[Fold]] = {
    id(fold.projector): fold
    for fold in (
        ProjectsFold, ThreadsFold, SessionsFold, TurnsFold, QueueFold, MessagesFold,
        ActivitiesFold, SummariesFold,
    )
}  # fmt: skip


def supported(projector: Projector) -> bool:
    """True when `projector` has a fold (the very projector object, hence the same version)."""
    fold = FOLDS.get(id(projector))
    return fold is not None and fold.projector is projector


def _upcast_payload(conn: sqlite3.Connection, seq: int) -> Payload:
    # A payload of an older schema version: read it through the log's own path (rare).
    record = eventlog.read_after(conn, seq - 1, 1)[0]
    payload: Payload = record.payload
    return payload


_raw_decode = json.JSONDecoder().raw_decode
# A batch also ends once its payloads reach this size: long streamed replies put tens of KB in
# each event, and 20,000 of them at once would be a gigabyte.
_BATCH_BYTES = 32 * 1024 * 1024
_FETCH = 1000


def _read_batch(read: sqlite3.Connection, last: int, until: int) -> list[Any]:
    """Up to READ_BATCH events after `last` (at most `until`), fewer once `_BATCH_BYTES` of
    payload was read; the statement is closed before returning."""
    cursor = read.execute(
        "SELECT sequence, type, payload, schema_version, occurred_at FROM events"
        " WHERE sequence > ? AND sequence <= ? ORDER BY sequence LIMIT ?",
        (last, until, READ_BATCH),
    )
    rows: list[Any] = []
    size = 0
    try:
        while size < _BATCH_BYTES:
            block = cursor.fetchmany(_FETCH)
            rows += block
            if len(block) < _FETCH:
                break
            size += sum(len(row[2]) for row in block)
    finally:
        cursor.close()
    return rows


def fold_log(
    read: sqlite3.Connection,
    projectors: Sequence[Projector],
    limits: dict[str, int],
    *,
    progress: Progress | None = None,
    total: int | None = None,
) -> tuple[list[Fold], int, dict[str, int]]:
    """Fold every event with `sequence <= limits[name]` into each projector's fold.
    Returns the folds, the number of events read and, per projector, the last sequence read
    for it (0 if none). Raises `Unsupported` (or whatever the handlers would also raise)."""
    folds = [FOLDS[id(p)]() for p in projectors]
    until = max(limits.values(), default=0)
    # Per event type: the schema version below which a payload is upcast, and the handlers of
    # every fold in projector order (each with its limit, unless every limit covers the log).
    current = {name: cls.SCHEMA_VERSION for name, cls in EVENT_TYPES.items()}
    limited = any(limits[fold.projector.name] < until for fold in folds)
    routes: dict[str, tuple[int, list[Any]]] = {}
    for fold in folds:
        limit = limits[fold.projector.name]
        for event_type, handler in fold.handlers().items():
            entry = routes.setdefault(event_type, (current.get(event_type, 0), []))
            entry[1].append((limit, handler) if limited else handler)
    last = 0
    done = 0
    decode = _raw_decode
    while last < until:
        rows = _read_batch(read, last, until)
        if not rows:
            break
        for seq, type_, text, version, at in rows:
            route = routes.get(type_)
            if route is None:
                continue
            if version < route[0]:
                payload = _upcast_payload(read, seq)
            else:
                payload, end = decode(text)
                if end != len(text):
                    raise Unsupported("payload with trailing text")
            if type(payload) is not dict:
                raise Unsupported("payload")
            if limited:
                for limit, handler in route[1]:
                    if seq <= limit:
                        handler(seq, at, payload)
            else:
                for handler in route[1]:
                    handler(seq, at, payload)
        last = rows[-1][0]
        done += len(rows)
        if progress is not None:
            progress(done, total if total is not None else done)
    applied = {p.name: min(last, limits[p.name]) for p in projectors}
    if done:
        # The last sequence each projector saw: its limit, or the last event read below it.
        for p in projectors:
            if limits[p.name] < last:
                row = read.execute(
                    "SELECT max(sequence) FROM events WHERE sequence <= ?", (limits[p.name],)
                ).fetchone()
                applied[p.name] = int(row[0] or 0)
    return folds, done, applied


def write_rows(conn: sqlite3.Connection, folds: Sequence[Fold]) -> None:
    """Insert every fold's rows into its (empty) tables."""
    for fold in folds:
        for table, rows in fold.tables().items():
            columns = fold.columns[table]
            conn.executemany(
                f"INSERT INTO {table} ({', '.join(columns)})"
                f" VALUES ({', '.join('?' * len(columns))})",
                rows,
            )


class Outcome:
    """What `rebuild` did: the projectors it rebuilt (the others are left to the handlers), the
    events it read, the last sequence applied per projector, and why it fell back, if it did."""

    __slots__ = ("applied", "fallback", "read", "rebuilt")

    def __init__(self) -> None:
        self.rebuilt: list[Projector] = []
        self.read = 0
        self.applied: dict[str, int] = {}
        self.fallback: str | None = None


# The latest rebuild's outcome (for tests and diagnostics): LAST[0].
LAST: list[Outcome] = [Outcome()]


def rebuild(
    read: sqlite3.Connection,
    write: sqlite3.Connection,
    projectors: Sequence[Projector],
    limits: dict[str, int],
    *,
    progress: Progress | None = None,
    total: int | None = None,
) -> Outcome:
    """Rebuild the supported ones of `projectors` (their tables empty, inside `write`'s write
    transaction) from the events of `read` up to each one's limit. Cursors are the caller's.
    On any failure their tables are emptied again and nothing is reported as rebuilt, so the
    caller's handlers run instead, with the outcome they always had."""
    outcome = Outcome()
    LAST[0] = outcome
    chosen = [p for p in projectors if supported(p)]
    if not chosen:
        return outcome
    try:
        folds, outcome.read, outcome.applied = fold_log(
            read, chosen, limits, progress=progress, total=total
        )
        write_rows(write, folds)
    except Exception as exc:  # the handlers decide; see `store.bulk`'s docstring
        outcome.fallback = f"{type(exc).__name__}: {exc}"
        outcome.read, outcome.applied = 0, {}
        for projector in chosen:
            projector.reset(write)
        return outcome
    outcome.rebuilt = chosen
    return outcome

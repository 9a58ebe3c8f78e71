"""Replay: rebuild every projection from the log, or prove the live ones equal a rebuild.

`rebuild` clears all projections and re-applies the whole log in one write transaction, so readers
see either the old projections or the complete new ones. Both `rebuild` and `check`'s scratch
rebuild take the fast path of `store.bulk` (rows folded in memory, written once per table), which
falls back to the per-event handlers whenever it cannot mirror them exactly. `check` rebuilds
into a scratch database and compares row by row with the live projections in one read snapshot;
it never writes to live rows (it first lets lagging asynchronous projectors catch up, which is
their normal operation).
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from t3cli.store import eventlog, pipeline
from t3cli.store.db import connect, database_path, translate, write_transaction
from t3cli.store.projectors import ALL_PROJECTORS, ASYNC_PROJECTORS, Projector

MAX_REPORTED = 50
# A full replay rewrites every projection page in one transaction. SQLite's default page cache
# (2 MiB) makes that spill dirty pages and re-read them all along (measured: a third slower at a
# million events); the cache is allocated as used and given back afterwards.
REPLAY_CACHE_KIB = 256 * 1024


@dataclass(slots=True)
class Difference:
    table: str
    key: str
    live: dict[str, Any] | None  # None: row missing from the live projection
    rebuilt: dict[str, Any] | None  # None: row missing from the rebuild

    def describe(self) -> str:
        if self.live is None:
            return f"{self.table}[{self.key}]: missing from live projection"
        if self.rebuilt is None:
            return f"{self.table}[{self.key}]: in live projection but not in a rebuild"
        changed = [
            f"{col}: live={self.live[col]!r} rebuilt={self.rebuilt.get(col)!r}"
            for col in self.live
            if self.live[col] != self.rebuilt.get(col)
        ]
        return f"{self.table}[{self.key}]: " + "; ".join(changed)


@dataclass(slots=True)
class CheckReport:
    head: int
    tables: dict[str, int] = field(default_factory=dict)  # rows compared per table
    differences: list[Difference] = field(default_factory=list)
    difference_count: int = 0

    @property
    def ok(self) -> bool:
        return self.difference_count == 0


def rebuild(
    conn: sqlite3.Connection,
    projectors: tuple[Projector, ...] = ALL_PROJECTORS,
    progress: pipeline.Progress | None = None,
) -> int:
    """Clear and rebuild `projectors` from sequence 0, atomically. Returns events replayed."""
    try:
        with _large_cache(conn), write_transaction(conn):
            for projector in projectors:
                projector.reset(conn)
                conn.execute("DELETE FROM projection_state WHERE projector = ?", (projector.name,))
            return pipeline.catch_up_in_transaction(conn, projectors, progress=progress)
    except sqlite3.Error as exc:
        raise translate(exc, database_path(conn)) from None


@contextmanager
def _large_cache(conn: sqlite3.Connection) -> Iterator[None]:
    previous = conn.execute("PRAGMA cache_size").fetchone()[0]
    conn.execute(f"PRAGMA cache_size = -{REPLAY_CACHE_KIB}")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA cache_size = {int(previous)}")


def _rows(conn: sqlite3.Connection, table: str, key: str) -> list[sqlite3.Row]:
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(f"SELECT * FROM {table} ORDER BY {key}").fetchall()
    finally:
        conn.row_factory = None


def _compare(
    report: CheckReport, table: str, key: str, live: list[sqlite3.Row], rebuilt: list[sqlite3.Row]
) -> None:
    report.tables[table] = len(live)
    i = j = 0
    while i < len(live) or j < len(rebuilt):
        a = dict(live[i]) if i < len(live) else None
        b = dict(rebuilt[j]) if j < len(rebuilt) else None
        if a is not None and b is not None and a[key] == b[key]:
            if a != b:
                _note(report, Difference(table, str(a[key]), a, b))
            i += 1
            j += 1
        elif b is None or (a is not None and a[key] < b[key]):
            _note(report, Difference(table, str(a[key]) if a else "?", a, None))
            i += 1
        else:
            _note(report, Difference(table, str(b[key]), None, b))
            j += 1


def _note(report: CheckReport, difference: Difference) -> None:
    report.difference_count += 1
    if len(report.differences) < MAX_REPORTED:
        report.differences.append(difference)


def check(
    conn: sqlite3.Connection,
    projectors: tuple[Projector, ...] = ALL_PROJECTORS,
    progress: pipeline.Progress | None = None,
    scratch_dir: Path | None = None,
) -> CheckReport:
    """Rebuild into a scratch database and compare with the live projections row by row.

    Each projector is rebuilt exactly up to its own live cursor, inside one read snapshot of the
    live database, so concurrent writers cannot produce false differences."""
    pipeline.catch_up(conn, [p for p in projectors if p in ASYNC_PROJECTORS])
    with tempfile.TemporaryDirectory(dir=scratch_dir, prefix="t3-replay-check-") as tmp:
        scratch = connect(Path(tmp) / "scratch.db", durability="normal")
        scratch.execute(f"PRAGMA cache_size = -{REPLAY_CACHE_KIB}")
        try:
            conn.execute("BEGIN")  # a read snapshot: every SELECT below sees the same state
            try:
                head = eventlog.head(conn)
                live_cursors = {
                    name: cur.last_applied_sequence
                    for name, cur in pipeline.read_cursors(conn).items()
                }
                report = CheckReport(head=head)
                with write_transaction(scratch):
                    cursors = pipeline.prepare(scratch, projectors)
                    limits = {p.name: live_cursors.get(p.name, 0) for p in projectors}
                    pipeline.rebuild_from_zero(
                        conn, scratch, projectors, cursors, limits, progress=progress, total=head
                    )
                    rest = [p for p in projectors if cursors[p.name] == 0 and limits[p.name] > 0]
                    done = 0
                    for batch in eventlog.iter_after(conn, 0, until=head) if rest else ():
                        for projector in rest:
                            limit = live_cursors.get(projector.name, 0)
                            events = [ev for ev in batch if ev.sequence <= limit]
                            pipeline.apply_events(scratch, [projector], events, cursors)
                        done += len(batch)
                        if progress is not None:
                            progress(done, head)
                for projector in projectors:
                    for table in projector.tables:
                        key = projector.keys[table]
                        _compare(
                            report, table, key, _rows(conn, table, key), _rows(scratch, table, key)
                        )
            finally:
                conn.execute("COMMIT")
        finally:
            scratch.close()
    return report

"""Large logs from `core_bench.build_log`, with their projections, cached by size.

`core_bench.build_log` (the core benchmark's builder) writes a realistic log fast: every thread
created, then round-robin queued turns through their whole life (13 events each: messages,
activities, assistant chunks, completion, resolution), then a tail of pending items on every
thread and running turns on some — inserted directly as event rows. Here the projections are then
rebuilt with `replay.rebuild` (the code under test), so the database is what t3cli would have
after writing that log itself, and the result is kept under `bench/out/<key>/t3.db` (or
`$T3_BENCH_OUT`), written under a temporary name and renamed when complete. The key holds the
sizes, the schema version and a digest of the builder's source, so a changed builder or schema
never reuses a stale file.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from bench import core_bench
from t3cli.store import replay
from t3cli.store.db import connect
from t3cli.store.schema import SCHEMA_VERSION

OUT = Path(__file__).resolve().parent / "out"


def out_dir() -> Path:
    """Where built logs are cached: `$T3_BENCH_OUT`, else `bench/out/`."""
    return Path(os.environ.get("T3_BENCH_OUT") or OUT)


def _builder_digest() -> str:
    parts = (core_bench.build_log, core_bench._cycle, core_bench._LogWriter)
    source = "".join(inspect.getsource(part) for part in parts)
    return hashlib.sha256(source.encode()).hexdigest()[:10]


@dataclass(frozen=True, slots=True)
class LogSpec:
    """At least `events` events over `threads` threads (see `core_bench.build_log`)."""

    threads: int
    events: int

    @property
    def key(self) -> str:
        return f"log-{self.threads}t-{self.events}e-schema{SCHEMA_VERSION}-{_builder_digest()}"


@dataclass(frozen=True, slots=True)
class BuiltLog:
    home: Path  # a T3_HOME: holds t3.db
    spec: LogSpec
    head: int  # events in the log
    thread_ids: tuple[str, ...]  # in creation order
    build_s: float  # 0.0 when taken from the cache

    @property
    def db(self) -> Path:
        return self.home / "t3.db"

    def describe(self) -> dict[str, object]:
        return {
            "threads": self.spec.threads,
            "events": self.head,
            "key": self.spec.key,
            "build_s": round(self.build_s, 1),
        }


def cached(spec: LogSpec) -> bool:
    return (out_dir() / spec.key / "t3.db").exists()


def _build(db: Path, spec: LogSpec) -> None:
    core_bench.build_log(db, spec.events, spec.threads)
    conn = connect(db, durability="normal")
    try:
        replay.rebuild(conn)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def build_log(spec: LogSpec) -> BuiltLog:
    """The database for `spec`, projections current: from the cache, or built now (and cached)."""
    home = out_dir() / spec.key
    db = home / "t3.db"
    build_s = 0.0
    if not db.exists():
        began = time.perf_counter()
        scratch = home.with_name(f".{spec.key}.partial")
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True, mode=0o700)
        _build(scratch / "t3.db", spec)
        for leftover in ("t3.db-wal", "t3.db-shm"):
            (scratch / leftover).unlink(missing_ok=True)
        scratch.rename(home)
        build_s = time.perf_counter() - began
    conn = sqlite3.connect(db)
    try:
        head = conn.execute("SELECT coalesce(max(sequence), 0) FROM events").fetchone()[0]
        rows = conn.execute("SELECT thread_id FROM threads ORDER BY created_sequence").fetchall()
    finally:
        conn.close()
    return BuiltLog(home, spec, int(head), tuple(row[0] for row in rows), build_s)

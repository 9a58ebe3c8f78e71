"""Benchmark of the core: append, batch append, full rebuild, bootstrap.

    python bench/core_bench.py [--events N] [--json] [--dir DIR]

Measures, in one run on this machine:

- `raw_commit_per_s`: plain SQLite, one row per `BEGIN IMMEDIATE` transaction, with the pragmas
  t3cli uses (WAL, synchronous=FULL) — the floor any durable append stands on;
- `append_single_per_s` / `append_vs_raw_commit`: `Engine.dispatch` of one `thread.turn.queue`
  per transaction, interleaved with the raw commits so both see the same disk and load;
- `append_batch_per_s`: `Engine.dispatch_many` of 100 commands per transaction;
- `replay_events_per_s`: `replay.rebuild` of every projection over a log of N events (default
  1,000,000), a realistic mix of a queued turn's whole life, inserted directly as event rows;
- `bootstrap_ms_small` / `bootstrap_ms_large`: `readmodel.bootstrap` for the same 1,000 threads
  at a 10,000-event and at an N-event log (`bootstrap_growth` is their ratio), and
  `bootstrap_vs_full_replay` = bootstrap time / full rebuild time at N events.

Each metric is a function taking its size (`measure_replay(events)`, ...) that returns a dict, so
another script can run them one by one. Nothing here is a pass/fail test; `bench/README.md`
records the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(REPO))

from t3cli.contracts import commands as c  # noqa: E402
from t3cli.contracts._record import fields_of  # noqa: E402
from t3cli.contracts.events import EVENT_TYPES  # noqa: E402
from t3cli.contracts.ids import derived_id, new_id  # noqa: E402
from t3cli.engine import Engine  # noqa: E402
from t3cli.store import readmodel, replay  # noqa: E402
from t3cli.store.db import connect, write_transaction  # noqa: E402

PROJECT_PATH = "/tmp/t3-bench-project"
PROJECT_ID = derived_id("project", PROJECT_PATH)
EVENT_ROW_JSON_BYTES = 220  # about the size of a queued message's events


# --- helpers -------------------------------------------------------------------------------------


@contextmanager
def scratch_dir(parent: Path | None) -> Iterator[Path]:
    """A private directory for one measurement's database files, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="t3-bench-", dir=parent))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }


def _engine_with_threads(path: Path, threads: int) -> Engine:
    engine = Engine(connect(path))
    engine.dispatch(
        c.ProjectCreate(
            command_id=new_id(), project_id=PROJECT_ID, path=PROJECT_PATH, title="bench",
            default_provider="echo",
        )
    )  # fmt: skip
    thread_ids = [new_id() for _ in range(threads)]
    results = engine.dispatch_many(
        [
            c.ThreadCreate(
                command_id=new_id(), thread_id=t, project_id=PROJECT_ID, provider="echo",
                title=f"bench {t[:8]}",
            )
            for t in thread_ids
        ]
    )  # fmt: skip
    assert not any(isinstance(r, Exception) for r in results)
    engine.thread_ids = thread_ids  # type: ignore[attr-defined]
    return engine


def _queue(thread_id: str) -> c.TurnQueue:
    return c.TurnQueue(
        command_id=new_id(), thread_id=thread_id, queue_item_id=new_id(), message_id=new_id(),
        text="run the test suite and fix whatever fails, then summarise what you changed",
    )  # fmt: skip


# --- (a) raw commits and (b) single-command dispatch ------------------------------------------


def _raw_connection(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
    return conn


def _raw_commits(conn: sqlite3.Connection, count: int) -> float:
    payload = "x" * EVENT_ROW_JSON_BYTES
    start = time.perf_counter()
    for _ in range(count):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO rows (payload) VALUES (?)", (payload,))
        conn.execute("COMMIT")
    return time.perf_counter() - start


def measure_raw_commit(commits: int, *, directory: Path | None = None) -> dict[str, Any]:
    """Plain SQLite: one row per BEGIN IMMEDIATE transaction, WAL, synchronous=FULL."""
    with scratch_dir(directory) as tmp:
        conn = _raw_connection(tmp / "raw.db")
        _raw_commits(conn, min(200, commits))  # warm up
        seconds = _raw_commits(conn, commits)
        conn.close()
    return {"raw_commit_per_s": commits / seconds, "raw_commits": commits}


def measure_append_single(
    commands: int, *, threads: int = 500, rounds: int = 10, directory: Path | None = None
) -> dict[str, Any]:
    """`Engine.dispatch` of one TurnQueue per transaction, against raw commits measured in
    alternating rounds (same disk, same background load). Queues stay short: the commands are
    spread over `threads` threads."""
    per_round = max(1, commands // rounds)
    with scratch_dir(directory) as tmp:
        raw = _raw_connection(tmp / "raw.db")
        engine = _engine_with_threads(tmp / "t3.db", threads)
        thread_ids: list[str] = engine.thread_ids  # type: ignore[attr-defined]
        for n in range(min(200, commands)):  # warm up both
            engine.dispatch(_queue(thread_ids[n % threads]))
        _raw_commits(raw, min(200, commands))
        raw_seconds = dispatch_seconds = 0.0
        done = 0
        for _ in range(rounds):
            raw_seconds += _raw_commits(raw, per_round)
            batch = [_queue(thread_ids[(done + k) % threads]) for k in range(per_round)]
            start = time.perf_counter()
            for command in batch:
                engine.dispatch(command)
            dispatch_seconds += time.perf_counter() - start
            done += per_round
        # What each commit writes: WAL frames (pages) per transaction, checkpoints held off.
        raw_pages = _wal_pages_per_commit(raw, tmp / "raw.db", lambda: _raw_commits(raw, 1))
        engine_pages = _wal_pages_per_commit(
            engine.conn, tmp / "t3.db", lambda: engine.dispatch(_queue(thread_ids[0]))
        )
        raw.close()
        engine.conn.close()
    raw_per_s = done / raw_seconds
    append_per_s = done / dispatch_seconds
    return {
        "append_single_per_s": append_per_s,
        "raw_commit_per_s": raw_per_s,
        "append_vs_raw_commit": raw_per_s / append_per_s,
        "append_commands": done,
        "wal_pages_per_raw_commit": raw_pages,
        "wal_pages_per_dispatch": engine_pages,
    }


def _wal_pages_per_commit(
    conn: sqlite3.Connection, path: Path, commit_once: Callable[[], object], commits: int = 50
) -> float:
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = int(conn.execute("PRAGMA page_size").fetchone()[0])
    wal = Path(f"{path}-wal")
    before = wal.stat().st_size if wal.exists() else 0
    for _ in range(commits):
        commit_once()
    frames = (wal.stat().st_size - max(before, 32)) / (page + 24)
    conn.execute("PRAGMA wal_autocheckpoint = 1000")
    return frames / commits


def measure_raw_commit_pages(
    commits: int, *, tables: int = 16, directory: Path | None = None
) -> dict[str, Any]:
    """Plain SQLite again, but each transaction inserts one row into each of `tables` tables:
    the cost of a commit that writes as many pages as a dispatch does, with no Python logic."""
    with scratch_dir(directory) as tmp:
        conn = _raw_connection(tmp / "raw.db")
        for n in range(tables):
            conn.execute(f"CREATE TABLE t{n} (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
        payload = "x" * EVENT_ROW_JSON_BYTES

        def run(count: int) -> float:
            start = time.perf_counter()
            for _ in range(count):
                conn.execute("BEGIN IMMEDIATE")
                for n in range(tables):
                    conn.execute(f"INSERT INTO t{n} (payload) VALUES (?)", (payload,))
                conn.execute("COMMIT")
            return time.perf_counter() - start

        run(min(200, commits))
        seconds = run(commits)
        conn.close()
    return {f"raw_commit_{tables}_tables_per_s": commits / seconds}


# --- (c) batch append ----------------------------------------------------------------------------


def measure_append_batch(
    commands: int, *, batch: int = 100, threads: int = 500, directory: Path | None = None
) -> dict[str, Any]:
    """`Engine.dispatch_many` of `batch` TurnQueue commands per transaction."""
    with scratch_dir(directory) as tmp:
        engine = _engine_with_threads(tmp / "t3.db", threads)
        thread_ids: list[str] = engine.thread_ids  # type: ignore[attr-defined]
        all_commands = [_queue(thread_ids[n % threads]) for n in range(commands)]
        engine.dispatch_many(all_commands[:batch])  # warm up
        start = time.perf_counter()
        for first in range(batch, commands, batch):
            engine.dispatch_many(all_commands[first : first + batch])
        seconds = time.perf_counter() - start
        engine.conn.close()
    done = commands - batch
    return {"append_batch_per_s": done / seconds, "batch_commands": done, "batch_size": batch}


# --- a realistic log, inserted as rows ------------------------------------------------------------

_INSERT = (
    "INSERT INTO events (event_id, stream_kind, stream_id, stream_version, type, payload,"
    " schema_version, command_id, causation_event_id, correlation_id, actor, occurred_at)"
    " VALUES (?, ?, ?, ?, ?, ?, 1, ?, NULL, ?, ?, ?)"
)


class _LogWriter:
    """Turns (type, payload) pairs into event rows with contiguous stream versions, and inserts
    them in large transactions (this is how the log is built fast; it is not measured)."""

    def __init__(self, conn: sqlite3.Connection, chunk: int = 100_000) -> None:
        self.conn = conn
        self.chunk = chunk
        self.rows: list[tuple[object, ...]] = []
        self.versions: dict[str, int] = {}
        self.count = 0
        self.checked: set[str] = set()

    def add(self, type_: str, payload: dict[str, Any], actor: str = "reactor") -> None:
        if type_ not in self.checked:  # the payload shape is the contract's, exactly
            assert list(payload) == list(fields_of(EVENT_TYPES[type_])), type_
            self.checked.add(type_)
        stream_kind = "project" if type_.startswith("project.") else "thread"
        stream_id = payload["project_id"] if stream_kind == "project" else payload["thread_id"]
        version = self.versions.get(stream_id, 0) + 1
        self.versions[stream_id] = version
        self.count += 1
        n = self.count
        seconds = 1_800_000_000 + n // 10
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{n % 1000:03d}Z"
        event_id = f"{n:032x}"
        self.rows.append(
            (event_id, stream_kind, stream_id, version, type_,
             json.dumps(payload, separators=(",", ":")), event_id, event_id, actor, stamp)
        )  # fmt: skip
        if len(self.rows) >= self.chunk:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            with write_transaction(self.conn):
                self.conn.executemany(_INSERT, self.rows)
            self.rows = []


def _cycle(log: _LogWriter, thread_id: str, n: int, *, finish: bool = True) -> None:
    """One queued turn's life: queued, sent, started, 3 activities, 3 assistant chunks,
    completed, resolved (13 events). `finish=False` leaves the turn running."""
    item, turn, user_message, reply = (f"{kind}-{thread_id[:12]}-{n}" for kind in "itmr")
    log.add(
        "thread.message-sent",
        {
            "thread_id": thread_id,
            "message_id": user_message,
            "role": "user",
            "text": f"step {n}: run the test suite and fix whatever fails, then summarise",
            "turn_id": None,
            "queue_item_id": item,
            "complete": True,
            "chunk": 0,
        },
        actor="user",
    )
    log.add(
        "thread.turn-queued",
        {"thread_id": thread_id, "queue_item_id": item, "message_id": user_message},
        actor="user",
    )
    log.add(
        "thread.queued-turn-send-started",
        {"thread_id": thread_id, "queue_item_id": item, "turn_id": turn},
    )
    log.add(
        "thread.turn-start-requested",
        {
            "thread_id": thread_id,
            "turn_id": turn,
            "message_id": user_message,
            "queue_item_id": item,
        },
    )
    log.add(
        "thread.turn-started",
        {"thread_id": thread_id, "turn_id": turn, "provider_session_id": f"s-{thread_id[:8]}"},
    )
    if not finish:
        return
    for k in range(3):
        log.add(
            "thread.activity-appended",
            {
                "thread_id": thread_id,
                "turn_id": turn,
                "activity_id": f"a-{turn}-{k}",
                "kind": "command",
                "summary": f"ran pytest -x (pass {k})",
                "status": "completed",
                "detail": {"exit_code": 0, "duration_ms": 1200 + k},
            },
        )
    for k in range(3):
        log.add(
            "thread.message-sent",
            {
                "thread_id": thread_id,
                "message_id": reply,
                "role": "assistant",
                "text": f"Chunk {k} of the reply: fixed the failing assertion in test_io. ",
                "turn_id": turn,
                "queue_item_id": None,
                "complete": k == 2,
                "chunk": k,
            },
        )
    log.add(
        "thread.turn-completed",
        {
            "thread_id": thread_id,
            "turn_id": turn,
            "status": "completed",
            "error": None,
            "input_tokens": 1200,
            "output_tokens": 340,
            "cached_input_tokens": 800,
            "cost_usd": 0.0123,
            "duration_ms": 5400,
            "reported_usage": None,
            "session_usage": None,
            "provider_session_id": None,
        },
    )
    log.add("thread.queued-turn-resolved", {
        "thread_id": thread_id, "queue_item_id": item, "turn_id": turn})  # fmt: skip


CYCLE_EVENTS = 13
TAIL_PENDING = 2  # items left pending per thread
TAIL_RUNNING = 50  # threads left with a running turn


def build_log(path: Path, events: int, threads: int = 1000) -> dict[str, Any]:
    """A log of at least `events` events over `threads` threads: every thread created, then
    round-robin resolved queued turns, then a tail of pending items on every thread and running
    turns on some. Projections are left empty (a rebuild makes them)."""
    conn = connect(path, durability="normal")
    start = time.perf_counter()
    log = _LogWriter(conn)
    log.add("project.created", {
        "project_id": PROJECT_ID, "path": PROJECT_PATH, "title": "bench",
        "default_provider": "echo"}, actor="user")  # fmt: skip
    thread_ids = [derived_id("bench-thread", str(n)) for n in range(threads)]
    for thread_id in thread_ids:
        log.add("thread.created", {
            "thread_id": thread_id, "project_id": PROJECT_ID, "provider": "echo",
            "title": f"bench thread {thread_id[:8]}", "model": None}, actor="user")  # fmt: skip
    tail = threads * TAIL_PENDING * 2 + min(TAIL_RUNNING, threads) * 5
    n = 0
    while log.count + tail < events:
        _cycle(log, thread_ids[n % threads], n)
        n += 1
    for k, thread_id in enumerate(thread_ids):
        if k < TAIL_RUNNING:
            _cycle(log, thread_id, n + k, finish=False)
        for p in range(TAIL_PENDING):
            item, message = f"pending-{thread_id[:12]}-{p}", f"pm-{thread_id[:12]}-{p}"
            log.add(
                "thread.message-sent",
                {
                    "thread_id": thread_id,
                    "message_id": message,
                    "role": "user",
                    "text": "then update the changelog",
                    "turn_id": None,
                    "queue_item_id": item,
                    "complete": True,
                    "chunk": 0,
                },
                actor="user",
            )
            log.add("thread.turn-queued", {
                "thread_id": thread_id, "queue_item_id": item, "message_id": message},
                actor="user")  # fmt: skip
    log.flush()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return {"events": log.count, "threads": threads, "build_s": time.perf_counter() - start}


# --- (d) rebuild and (e) bootstrap ---------------------------------------------------------------


def _rebuild(path: Path) -> tuple[int, float]:
    conn = connect(path)
    start = time.perf_counter()
    replayed = replay.rebuild(conn)
    seconds = time.perf_counter() - start
    conn.close()
    return replayed, seconds


def measure_replay(
    events: int, *, threads: int = 1000, directory: Path | None = None, keep: Path | None = None
) -> dict[str, Any]:
    """`replay.rebuild` of every projection over a log of `events` events.
    With `keep`, the rebuilt database is left at that path (for `measure_bootstrap`)."""
    with scratch_dir(directory) as tmp:
        path = tmp / "t3.db"
        built = build_log(path, events, threads)
        replayed, seconds = _rebuild(path)
        assert replayed == built["events"], (replayed, built)
        if keep is not None:
            shutil.move(str(path), keep)
    return {
        "replay_events_per_s": replayed / seconds,
        "replay_ms": seconds * 1000,
        "events": replayed,
        "threads": threads,
        "build_s": built["build_s"],
    }


def _bootstrap_ms(path: Path, runs: int = 7) -> tuple[float, readmodel.ReadModel]:
    times = []
    model = None
    for _ in range(runs):
        conn = connect(path)
        start = time.perf_counter()
        model = readmodel.bootstrap(conn)
        times.append(time.perf_counter() - start)
        conn.close()
    assert model is not None
    return statistics.median(times) * 1000, model


def measure_bootstrap(
    events_large: int,
    *,
    events_small: int = 10_000,
    threads: int = 1000,
    directory: Path | None = None,
    large_db: Path | None = None,
    replay_ms: float | None = None,
) -> dict[str, Any]:
    """`readmodel.bootstrap` for the same threads at a small and a large log (median of 7 runs,
    each on a fresh connection, projections current). Pass `large_db`/`replay_ms` from
    `measure_replay(keep=...)` to reuse its log instead of building and replaying it again."""
    with scratch_dir(directory) as tmp:
        small = tmp / "small.db"
        build_log(small, events_small, threads)
        _rebuild(small)
        if large_db is None:
            large_db = tmp / "large.db"
            build_log(large_db, events_large, threads)
            events_large, seconds = _rebuild(large_db)
            replay_ms = seconds * 1000
        small_ms, small_model = _bootstrap_ms(small)
        large_ms, large_model = _bootstrap_ms(large_db)
    # The same threads, queues and running turns at both sizes: only the log's length differs.
    assert len(small_model.threads) == len(large_model.threads) == threads
    assert sum(map(len, small_model.queues.values())) == sum(map(len, large_model.queues.values()))
    assert len(small_model.active_turns) == len(large_model.active_turns)
    assert replay_ms is not None
    return {
        "bootstrap_ms_small": small_ms,
        "bootstrap_ms_large": large_ms,
        "bootstrap_growth": large_ms / small_ms,
        "bootstrap_vs_full_replay": large_ms / replay_ms,
        "bootstrap_events_small": events_small,
        "bootstrap_events_large": events_large,
        "bootstrap_threads": threads,
    }


# --- the whole run --------------------------------------------------------------------------------


def run_all(
    events: int = 1_000_000,
    *,
    append_commands: int = 3000,
    batch_commands: int = 20_000,
    directory: Path | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    def say(text: str) -> None:
        if progress:
            print(text, file=sys.stderr, flush=True)

    results: dict[str, Any] = {"machine": machine(), "date": time.strftime("%Y-%m-%d")}
    say(f"append: {append_commands} single-command dispatches vs raw commits ...")
    results.update(measure_append_single(append_commands, directory=directory))
    results.update(measure_raw_commit_pages(append_commands // 3, directory=directory))
    say(f"append: {batch_commands} commands in batches of 100 ...")
    results.update(measure_append_batch(batch_commands, directory=directory))
    with scratch_dir(directory) as tmp:
        say(f"replay: building a {events:,}-event log and rebuilding every projection ...")
        replayed = measure_replay(events, directory=tmp, keep=tmp / "large.db")
        results.update(replayed)
        say("bootstrap: 1,000 threads at 10,000 events and at the large log ...")
        results.update(
            measure_bootstrap(
                events, directory=tmp, large_db=tmp / "large.db", replay_ms=replayed["replay_ms"]
            )
        )
    return results


GOALS = {
    "append_vs_raw_commit": ("<=", 2.0),
    "replay_events_per_s": (">=", 100_000),
    "bootstrap_growth": ("<=", 1.5),
    "bootstrap_vs_full_replay": ("<=", 0.05),
}


def table(results: dict[str, Any]) -> str:
    rows = [
        ("raw SQLite commit (1 row/tx, WAL, FULL)", f"{results['raw_commit_per_s']:,.0f} /s", ""),
        ("Engine.dispatch, 1 command/tx", f"{results['append_single_per_s']:,.0f} /s", ""),
        ("  time per dispatch / raw commit", f"{results['append_vs_raw_commit']:.2f}x",
         "append_vs_raw_commit"),
        ("  WAL pages written per raw commit / per dispatch",
         f"{results['wal_pages_per_raw_commit']:.1f} / {results['wal_pages_per_dispatch']:.1f}",
         ""),
        ("raw SQLite commit, 1 row in each of 16 tables/tx",
         f"{results['raw_commit_16_tables_per_s']:,.0f} /s", ""),
        ("dispatch_many, 100 commands/tx", f"{results['append_batch_per_s']:,.0f} /s", ""),
        (f"replay.rebuild, {results['events']:,} events",
         f"{results['replay_events_per_s']:,.0f} events/s", "replay_events_per_s"),
        (f"bootstrap, {results['bootstrap_threads']:,} threads, "
         f"{results['bootstrap_events_small']:,} events",
         f"{results['bootstrap_ms_small']:.1f} ms", ""),
        (f"bootstrap, same threads, {results['bootstrap_events_large']:,} events",
         f"{results['bootstrap_ms_large']:.1f} ms", ""),
        ("  growth large/small", f"{results['bootstrap_growth']:.2f}x", "bootstrap_growth"),
        ("  bootstrap / full replay", f"{results['bootstrap_vs_full_replay']:.4f}",
         "bootstrap_vs_full_replay"),
    ]  # fmt: skip
    lines = []
    for label, value, key in rows:
        goal = ""
        if key in GOALS:
            op, limit = GOALS[key]
            met = results[key] <= limit if op == "<=" else results[key] >= limit
            goal = f"goal {op} {limit:,} {'met' if met else 'MISSED'}"
        lines.append(f"{label:<52} {value:>20}   {goal}")
    m = results["machine"]
    lines.append(
        f"\n{results['date']} · {m['nproc']} CPUs · {m['cpu']} · Python {m['python']}"
        f" · SQLite {m['sqlite']}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="log size for the rebuild")
    parser.add_argument("--append", type=int, default=3000, help="single-command dispatches")
    parser.add_argument("--batch", type=int, default=20_000, help="commands for dispatch_many")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the databases")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    results = run_all(
        args.events, append_commands=args.append, batch_commands=args.batch, directory=args.dir
    )
    print(json.dumps(results, sort_keys=True) if args.json else table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

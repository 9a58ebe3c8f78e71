"""Store benchmarks: reactor bootstrap, full replay, and the cost of one append.

- `bootstrap_ms(db)`: median wall time of `readmodel.bootstrap(conn)` — what a reactor (`t3 run`,
  `t3 send`) loads before it drives anything — on a connection opened just before (SQLite's page
  cache cold, the OS file cache warm). Opening the connection is not included (constant).
- `replay_s(db)`: wall time of `replay.rebuild` (clear every projection, re-apply the whole log in
  one transaction) — what `t3 replay` does; the same code catches up a projector from zero.
- `append_vs_raw(...)`: `Engine.dispatch` of one `thread.turn.queue` command (what `t3 queue`
  commits: decide, append 2 events, update the core projections and cursors, write the receipt,
  commit) against a raw `BEGIN IMMEDIATE; INSERT one row; COMMIT` — both on connections from
  `store.db.connect` with `durability="full"` (WAL, synchronous=FULL, as the CLI), in blocks that
  alternate so that load on the machine hits both alike. Per-commit times are medians.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from t3cli.contracts import commands as c
from t3cli.contracts.ids import new_id
from t3cli.engine import Engine
from t3cli.store import replay
from t3cli.store.db import connect, write_transaction
from t3cli.store.readmodel import bootstrap

_BLOCK = 25  # commits per alternating block


def bootstrap_ms(db: Path, runs: int) -> float:
    """Median ms of `readmodel.bootstrap` on a fresh connection (see module docstring)."""
    samples = []
    for _ in range(runs):
        conn = connect(db, durability="normal", create=False)
        try:
            began = time.perf_counter()
            model = bootstrap(conn)
            samples.append((time.perf_counter() - began) * 1000)
            assert model.threads, "a bootstrap benchmark needs threads"
        finally:
            conn.close()
    return statistics.median(samples)


def replay_s(db: Path) -> tuple[int, float]:
    """(events replayed, seconds) for one full `replay.rebuild` of `db` (in place: the result
    equals what was there)."""
    conn = connect(db, durability="normal", create=False)
    try:
        began = time.perf_counter()
        events = replay.rebuild(conn)
        return events, time.perf_counter() - began
    finally:
        conn.close()


@dataclass(frozen=True, slots=True)
class AppendResult:
    dispatch_ms: float  # median per dispatch
    raw_ms: float  # median per raw one-row commit
    commits: int

    @property
    def per_s(self) -> float:
        return 1000 / self.dispatch_ms

    @property
    def ratio(self) -> float:
        return self.dispatch_ms / self.raw_ms


def _setup_threads(engine: Engine, count: int) -> list[str]:
    path = "/tmp/t3-bench-append"
    project_id = new_id()
    engine.dispatch(
        c.ProjectCreate(
            command_id=new_id(), project_id=project_id, path=path, title="append",
            default_provider="echo",
        )
    )  # fmt: skip
    ids = [new_id() for _ in range(count)]
    engine.dispatch_many([
        c.ThreadCreate(command_id=new_id(), thread_id=t, project_id=project_id, provider="echo",
                       title=f"append {n}")
        for n, t in enumerate(ids)
    ])  # fmt: skip
    return ids


def _queue_command(thread_id: str, text: str) -> c.TurnQueue:
    return c.TurnQueue(
        command_id=new_id(), thread_id=thread_id, queue_item_id=new_id(), message_id=new_id(),
        text=text,
    )  # fmt: skip


def _timed(fn: Callable[..., object], *args: object) -> float:
    began = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - began) * 1000


def append_vs_raw(commits: int, threads: int = 100) -> AppendResult:
    """Median ms of one `t3 queue`-like dispatch and of one raw one-row commit (same pragmas),
    measured in alternating blocks on fresh databases (see module docstring)."""
    text = "please run the tests and fix what fails, then summarise the change in two lines"
    with tempfile.TemporaryDirectory(prefix="t3-bench-append-") as tmp:
        conn = connect(Path(tmp) / "t3.db", durability="full")
        raw = connect(Path(tmp) / "raw.db", durability="full")
        try:
            engine = Engine(conn)
            ids = _setup_threads(engine, threads)
            raw.execute("CREATE TABLE raw_rows (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
            row = json.dumps({"thread_id": ids[0], "message_id": new_id(), "text": text})
            commands = [_queue_command(ids[n % threads], text) for n in range(commits)]

            def raw_commit() -> None:
                with write_transaction(raw):
                    raw.execute("INSERT INTO raw_rows (payload) VALUES (?)", (row,))

            dispatch_ms: list[float] = []
            raw_ms: list[float] = []
            for start in range(0, commits, _BLOCK):
                for command in commands[start : start + _BLOCK]:
                    dispatch_ms.append(_timed(engine.dispatch, command))
                for _ in range(min(_BLOCK, commits - start)):
                    raw_ms.append(_timed(raw_commit))
        finally:
            conn.close()
            raw.close()
    return AppendResult(statistics.median(dispatch_ms), statistics.median(raw_ms), commits)

"""The core metrics, through `bench/core_bench.py`'s per-metric functions.

- append: `core_bench.measure_append_single` — `Engine.dispatch` of one `thread.turn.queue` per
  transaction against a raw one-row commit (same pragmas: WAL, synchronous=FULL), in alternating
  rounds; gives `append_single_per_s` and `append_vs_raw_commit`.
- replay: `replay.rebuild` of every projection, timed, on the cached large log (the same operation
  `core_bench.measure_replay` times on a freshly built one; here the log comes from the cache).
- bootstrap: `core_bench.measure_bootstrap` — `readmodel.bootstrap` (median of 7, fresh
  connection each) for the same threads at a small log it builds and at the cached large log,
  and its ratio to the full replay just measured.
"""

from __future__ import annotations

import time
from typing import Any

from bench import core_bench
from bench._logcache import BuiltLog
from t3cli.store import replay
from t3cli.store.db import connect


def append(commits: int) -> dict[str, Any]:
    return core_bench.measure_append_single(commits)


def replay_s(built: BuiltLog) -> tuple[int, float]:
    """(events replayed, seconds) of one full `replay.rebuild` of the log, in place (the result
    equals what was there)."""
    conn = connect(built.db, durability="normal", create=False)
    try:
        began = time.perf_counter()
        events = replay.rebuild(conn)
        return events, time.perf_counter() - began
    finally:
        conn.close()


def bootstrap(large: BuiltLog, events_small: int, replay_ms: float) -> dict[str, Any]:
    return core_bench.measure_bootstrap(
        large.head,
        events_small=events_small,
        threads=large.spec.threads,
        large_db=large.db,
        replay_ms=replay_ms,
    )

"""Head-of-line blocking: how long an eligible turn waits to start while another thread hangs.

Setup: a fresh T3_HOME with T threads (default 100) on the `busy` echo provider (each reply takes
200 ms; a message containing `HANG` hangs until interrupted) and `max_concurrent = T`, so every
thread may be active at once. A real `t3 run` runs as a subprocess. Thread 0 gets a `HANG`
message first; once its turn has started (the agent is hung), this process queues N turns on
the other threads — one `Engine.dispatch` each with `durability="full"`, as `t3 queue` does — at a
steady aggregate rate (default 50/s), on seeded-random threads, so some land on a thread whose
previous turn still runs. When every one has been resolved, `t3 run` gets SIGINT.

Measured **from the events' timestamps** (`occurred_at`, UTC, millisecond resolution), per
started turn of a healthy thread: start = its `thread.turn-started`; eligible = the later of its
`thread.turn-queued` and the previous `thread.turn-completed` of the same thread (the session is
recorded free in that same transaction). Reported: p50, p99 and max of start - eligible.
"""

from __future__ import annotations

import calendar
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import _homes
from bench.cli_startup import t3_command

_DEADLINE_S = 120.0


@dataclass(frozen=True, slots=True)
class HolResult:
    samples: int
    p50_ms: float
    p99_ms: float
    max_ms: float


def _ms(stamp: str) -> int:
    """`2026-11-22T20:09:32.123Z` as milliseconds since the epoch."""
    seconds = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
    return seconds * 1000 + int(stamp[20:23])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def latencies(conn: sqlite3.Connection, hung: str) -> list[float]:
    """Eligible-to-started delays (ms) of every started turn of a thread other than `hung`."""
    queued_at: dict[str, int] = {}
    item_of_turn: dict[str, str] = {}
    completed_at: dict[str, int] = {}
    out: list[float] = []
    for stream_id, kind, payload, at in conn.execute(
        "SELECT stream_id, type, payload, occurred_at FROM events WHERE stream_kind = 'thread'"
        " AND type IN ('thread.turn-queued', 'thread.turn-start-requested',"
        " 'thread.turn-started', 'thread.turn-completed') ORDER BY sequence"
    ):
        if stream_id == hung:
            continue
        p = json.loads(payload)
        if kind == "thread.turn-queued":
            queued_at[p["queue_item_id"]] = _ms(at)
        elif kind == "thread.turn-start-requested" and p.get("queue_item_id"):
            item_of_turn[p["turn_id"]] = p["queue_item_id"]
        elif kind == "thread.turn-started":
            item = item_of_turn.get(p["turn_id"])
            if item is None:
                continue
            eligible = max(queued_at[item], completed_at.get(stream_id, 0))
            out.append(float(_ms(at) - eligible))
        else:
            completed_at[stream_id] = _ms(at)
    return out


def _wait(
    check: Callable[[], bool],
    what: str,
    deadline: float,
    reactor: subprocess.Popen[bytes],
    log: Path,
) -> None:
    """Poll `check`; fail at once (with its stderr) if `t3 run` exited, or at the deadline."""
    while not check():
        if reactor.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            code = reactor.returncode
            raise RuntimeError(f"head-of-line benchmark: t3 run exited ({code}): {tail}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"head-of-line benchmark: timed out waiting for {what}")
        time.sleep(0.05)


def measure(threads: int, turns: int, rate_per_s: float, seed: int = 11) -> HolResult:
    with tempfile.TemporaryDirectory(prefix="t3-bench-hol-") as tmp:
        home = Path(tmp)
        _homes.make_home(home, max_concurrent=threads)
        engine = _homes.open_engine(home, durability="full")
        conn = engine.conn
        reactor: subprocess.Popen[bytes] | None = None
        try:
            ids = _homes.create_threads(engine, threads, provider="busy")
            hung, healthy = ids[0], ids[1:]
            _homes.dispatch_all(engine, _homes.queue_commands([(hung, "HANG here")]))
            env = dict(os.environ, T3_HOME=str(home))
            env.pop("T3_CONFIG", None)
            log = home / "reactor.log"
            with log.open("wb") as stderr:
                reactor = subprocess.Popen(
                    [*t3_command(), "run"], env=env, stdout=subprocess.DEVNULL, stderr=stderr
                )
            deadline = time.monotonic() + _DEADLINE_S
            started = "SELECT count(*) FROM events WHERE type = 'thread.turn-started'"
            _wait(lambda: _homes.count(conn, started) >= 1, "the hung turn", deadline, reactor, log)
            rng = random.Random(seed)
            commands = _homes.queue_commands(
                (rng.choice(healthy), f"turn {n}: please look at module {n % 17}")
                for n in range(turns)
            )
            began = time.monotonic()
            for n, command in enumerate(commands):
                delay = began + n / rate_per_s - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                engine.dispatch(command)
            pending = "SELECT count(*) FROM queued_turns WHERE thread_id != ?"
            _wait(
                lambda: _homes.count(conn, pending, hung) == 0, "every turn", deadline, reactor, log
            )
            reactor.send_signal(signal.SIGINT)
            reactor.wait(timeout=30)
            samples = latencies(conn, hung)
        finally:
            if reactor is not None and reactor.poll() is None:
                reactor.kill()
                reactor.wait()
            conn.close()
    if len(samples) != turns:
        raise RuntimeError(f"head-of-line benchmark: {len(samples)} of {turns} turns started")
    return HolResult(
        len(samples), statistics.median(samples), _percentile(samples, 0.99), max(samples)
    )

"""Leases between reactors: sharing the work, and taking over a dead reactor's threads at the TTL.

- A reactor leases no more threads than it can run now (`--max-concurrent`): work queued before
  two `t3 run` start is shared between them, instead of one leasing every thread and running it
  all while the other idles.
- A thread whose lease another reactor (on another host: its process cannot be checked) let
  expire is taken over when the lease expires, not at the next renewal tick a third of the TTL
  later. (`bench/run.py` measures the delay.)
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

from t3cli.config import Config
from t3cli.engine import Engine
from t3cli.store import leases
from t3cli.store.db import connect
from tests.conftest import create_thread
from tests.reactor.conftest import count, eventually, popen_t3, queue, reactor, run, wait_until

TEXT = "shared work, delivered five characters at a time " * 2  # 100 chars: ~1 s on `slow`


class LeaseWatch:
    """Samples the largest number of leases any one owner holds, from another connection."""

    def __init__(self, db: Path) -> None:
        self._db = db
        self.most = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        conn = connect(self._db)
        try:
            while not self._stop.wait(0.02):
                row = conn.execute(
                    "SELECT max(n) FROM (SELECT count(*) AS n FROM thread_leases GROUP BY owner)"
                ).fetchone()
                self.most = max(self.most, row[0] or 0)
        finally:
            conn.close()

    def __enter__(self) -> LeaseWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def test_work_queued_before_two_reactors_start_is_shared(
    engine: Engine, t3_home: Path, db_path: Path, config: Config
) -> None:
    threads = [create_thread(engine, provider="slow") for _ in range(6)]
    for thread_id in threads:
        for _ in range(3):
            queue(engine, thread_id, TEXT)
    running = "SELECT count(*) FROM turns WHERE status = 'running'"
    with LeaseWatch(db_path) as watch:
        first = popen_t3(t3_home, "run", "--max-concurrent", "2")
        second = None
        try:
            wait_until(lambda: count(engine.conn, running) == 2, what="the first reactor")
            second = popen_t3(t3_home, "run", "--max-concurrent", "2")
            wait_until(
                lambda: count(engine.conn, "SELECT count(*) FROM queued_turns") == 0,
                timeout=120, what="all 18 turns",
            )  # fmt: skip
        finally:
            for proc in (first, second):
                if proc is not None:
                    proc.send_signal(signal.SIGTERM)
    outputs = [proc.communicate(timeout=60)[0] for proc in (first, second) if proc is not None]
    started = [out.count("turn started") for out in outputs]
    assert sum(started) == 18, outputs
    assert min(started) > 0, f"one reactor ran everything while the other idled: {started}"
    assert watch.most <= 2, f"a reactor leased {watch.most} threads with --max-concurrent 2"


def test_an_expired_lease_is_taken_over_at_expiry_not_at_the_next_tick(
    engine: Engine, db_path: Path, config: Config
) -> None:
    thread_id = create_thread(engine)
    queue(engine, thread_id, "held by a reactor on another host")
    ttl = 30.0  # renewal ticks (and the scans that go with them) every 10 s
    leases.acquire(engine.conn, "otherhost:1:gone", [thread_id], ttl_s=1.5)
    done = "SELECT count(*) FROM turns WHERE status = 'completed'"

    async def scenario() -> float:
        async with reactor(db_path, config, lease_ttl_s=ttl):
            began = time.monotonic()
            await eventually(lambda: count(engine.conn, done) == 1, what="the takeover")
            return time.monotonic() - began

    took = run(scenario())
    assert took < ttl / 3, f"taken over after {took:.1f} s: at a tick, not at the expiry"

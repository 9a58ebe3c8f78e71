"""Reactor memory: RSS after L threads each ran one turn, over RSS after S threads (S < L).

The reactor runs in a subprocess (`_rss_driver.py`) so that the RSS read is the reactor's own,
not this benchmark process's. This side only prepares the T3_HOME: a config (echo, delay 0) and
L threads created through the real engine. Both readings come from the same long-running
reactor, after the same kind of work (batches of B threads, drained), so their ratio is what the
reactor keeps per thread it has ever served — ideally nothing (lanes, leases and turn handles are
torn down when a thread is idle).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench import _homes

DRIVER = Path(__file__).resolve().parent / "_rss_driver.py"


@dataclass(frozen=True, slots=True)
class RssResult:
    small_threads: int
    large_threads: int
    rss_small_kb: int
    rss_large_kb: int
    seconds: float

    @property
    def growth(self) -> float:
        return self.rss_large_kb / self.rss_small_kb


def measure(small: int, large: int, batch: int) -> RssResult:
    with tempfile.TemporaryDirectory(prefix="t3-bench-rss-") as tmp:
        home = Path(tmp)
        _homes.make_home(home)
        engine = _homes.open_engine(home)
        try:
            _homes.create_threads(engine, large)
        finally:
            engine.conn.close()
        done = subprocess.run(
            [sys.executable, str(DRIVER), str(home), str(small), str(large), str(batch)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"RSS driver failed ({done.returncode}): {done.stderr[-2000:]}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return RssResult(small, large, data["rss_small_kb"], data["rss_large_kb"], data["seconds"])

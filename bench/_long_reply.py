"""Long replies: time, database growth and `t3 send`'s memory against the size of the reply.

For each size S (MB): a fresh T3_HOME, a `command` provider running `_long_reply_agent.py`,
which prints S MB of plain text (80-byte lines) as fast as it can, and one real `t3 send THREAD
BYTES` subprocess with stdout to /dev/null. Measured per size:

- `seconds`: wall time of the `t3 send` process, and `s_per_mb`: seconds per MB above a run
  whose reply is empty (`t3 send`'s own start-up, the turn's bookkeeping) — flat when the cost
  is linear in the reply;
- `db_growth`: growth of the database files (t3.db plus any -wal) over the reply's bytes, after
  `t3 send` exited (its connections closed, so the WAL was checkpointed);
- `rss_mb`: peak RSS of `t3 send` (`wait4`'s `ru_maxrss`, the process and its waited children:
  the agent itself stays under ~10 MB).

With `repeats` > 1 each size runs that many times and the median run (by time) is kept.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.cli_startup import t3_command

AGENT = Path(__file__).resolve().parent / "_long_reply_agent.py"
MB = 1024 * 1024

CONFIG = f"""
[reactor]

[providers.long]
kind = "command"
argv = [{str(sys.executable)!r}, {str(AGENT)!r}]
input = "arg"
turn_timeout_s = 0
"""


@dataclass(frozen=True, slots=True)
class ReplyRun:
    mb: float
    seconds: float
    db_growth_bytes: int
    rss_kb: int

    @property
    def db_growth(self) -> float:
        return self.db_growth_bytes / (self.mb * MB) if self.mb else 0.0


@dataclass(frozen=True, slots=True)
class LongReplyResult:
    runs: list[ReplyRun]
    baseline_s: float  # the empty reply

    def s_per_mb(self, run: ReplyRun) -> float:
        return (run.seconds - self.baseline_s) / run.mb


def _db_bytes(home: Path) -> int:
    return sum(p.stat().st_size for p in home.glob("t3.db*") if p.name != "t3.db-shm")


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("T3_")}
    env["T3_HOME"] = str(home)
    return env


def _one(size_bytes: int) -> ReplyRun:
    with tempfile.TemporaryDirectory(prefix="t3-bench-reply-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        (home / "config.toml").write_text(CONFIG)
        project = Path(tmp) / "project"
        project.mkdir()
        env = _env(home)
        made = subprocess.run(
            [*t3_command(), "new", "--provider", "long", "--title", "long"],
            cwd=project, env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        thread = made.stdout.strip()
        before = _db_bytes(home)
        began = time.perf_counter()
        with open(os.devnull, "wb") as sink:
            proc = subprocess.Popen(
                [*t3_command(), "send", thread, str(size_bytes)],
                cwd=project, env=env, stdin=subprocess.DEVNULL, stdout=sink,
                stderr=subprocess.PIPE,
            )  # fmt: skip
            assert proc.stderr is not None
            err = proc.stderr.read()
            _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - began
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise RuntimeError(f"t3 send exited {proc.returncode}: {err.decode()[-2000:]}")
        return ReplyRun(size_bytes / MB, seconds, _db_bytes(home) - before, usage.ru_maxrss)


def _median(size_bytes: int, repeats: int) -> ReplyRun:
    runs = sorted((_one(size_bytes) for _ in range(repeats)), key=lambda r: r.seconds)
    return runs[len(runs) // 2]


def measure(sizes_mb: list[float], repeats: int = 1) -> LongReplyResult:
    """One `t3 send` per size (median of `repeats`), and the empty reply as the baseline."""
    baseline = statistics.median(_one(0).seconds for _ in range(repeats))
    runs = [_median(int(mb * MB), repeats) for mb in sizes_mb]
    return LongReplyResult(runs, baseline)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sizes = [float(x) for x in sys.argv[1:]] or [1, 5, 10]
    result = measure(sizes)
    print(f"baseline (empty reply): {result.baseline_s:.2f} s")
    for run in result.runs:
        print(
            f"{run.mb:6.1f} MB: {run.seconds:7.2f} s, {result.s_per_mb(run):.3f} s/MB above the"
            f" baseline, db growth {run.db_growth:.2f}x, peak RSS {run.rss_kb / 1024:.0f} MB"
        )

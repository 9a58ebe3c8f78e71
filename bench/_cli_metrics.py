"""CLI process benchmarks: start-up (from `bench/cli_startup.py`) and `t3 threads` on a big log.

- `startup(runs)`: runs `bench/cli_startup.py --json -n RUNS` as is (a subprocess, so its own
  environment handling applies) and returns its five numbers: `cli_queue_ms`, `python_pass_ms`,
  `complete_ms`, `cli_queue_vs_python`, `complete_vs_python`.
- `threads_list_ms(home, runs)`: median wall time of the whole process
  `t3 threads --json --limit 50` against the database in `home`, measured with
  `cli_startup.median_ms` and the same environment rules as `cli_startup.py` (bytecode caching
  on, caches in a temporary PYTHONPYCACHEPREFIX, one warm-up run), so it compares with
  `cli_queue_ms` from the same run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.cli_startup import median_ms, t3_command

STARTUP = Path(__file__).resolve().parent / "cli_startup.py"


def startup(runs: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, str(STARTUP), "--json", "-n", str(runs)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"cli_startup.py failed ({done.returncode}): {done.stderr[-2000:]}")
    data: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return {key: float(value) for key, value in data.items()}


def threads_list_ms(home: Path, runs: int) -> float:
    """Median ms of `t3 threads --json --limit 50` on `home`'s database (read-only use)."""
    with tempfile.TemporaryDirectory(prefix="t3-bench-pycache-") as pycache:
        env = dict(os.environ, T3_HOME=str(home), PYTHONPYCACHEPREFIX=pycache)
        for name in ("_T3_COMPLETE", "PYTHONDONTWRITEBYTECODE", "T3_CONFIG", "T3_DATABASE"):
            env.pop(name, None)
        argv = [*t3_command(), "threads", "--json", "--limit", "50"]
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
        if len(json.loads(done.stdout)) != 50:
            raise RuntimeError("t3 threads --limit 50 did not list 50 threads")
        return median_ms(argv, env, runs)

"""Start-up benchmark: `t3 queue` and one TAB completion request against `python -c pass`.

Both run the whole program, so their cost is mostly start-up: interpreter, imports, building the
command tree, opening the database. Goals (README, "Start-up cost"): `t3 queue` <= 10x and a
completion <= 8x `python -c pass`, measured in the same run on the same machine.

    python bench/cli_startup.py [-n 20] [--json]

Runs against a fresh temporary T3_HOME holding one thread. Bytecode caching is on, as for an
installed package, even where PYTHONDONTWRITEBYTECODE is set (caches go to a temporary
PYTHONPYCACHEPREFIX, not into the checkout; one warm-up run each fills them);
`--no-bytecode-cache` measures the environment as it is. Prints the median wall time of each
and the two ratios (`--json`: one object with cli_queue_ms, python_pass_ms, complete_ms,
cli_queue_vs_python, complete_vs_python).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def t3_command() -> list[str]:
    exe = shutil.which("t3", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "t3cli"]


def median_ms(argv: list[str], env: dict[str, str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(
            argv, check=False, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        samples.append((time.perf_counter() - start) * 1000)
        if done.returncode != 0:
            raise SystemExit(f"{argv} failed ({done.returncode}): {done.stderr.decode()}")
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-bytecode-cache", action="store_true")
    args = parser.parse_args()
    t3 = t3_command()
    with (
        tempfile.TemporaryDirectory(prefix="t3-bench-") as home,
        tempfile.TemporaryDirectory(prefix="t3-bench-pycache-") as pycache,
    ):
        env = dict(os.environ, T3_HOME=home)
        env.pop("_T3_COMPLETE", None)
        if not args.no_bytecode_cache:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = pycache
        thread_id = subprocess.run(
            [*t3, "new", "--project", home, "--title", "bench"],
            env=env, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        complete_env = dict(env, _T3_COMPLETE="bash_complete", COMP_WORDS="t3 qu", COMP_CWORD="1")
        python = [sys.executable, "-c", "pass"]
        queue = [*t3, "queue", thread_id[:8], "benchmark message"]
        # One warm-up run each fills the file and bytecode caches.
        for argv, run_env in ((python, env), (queue, env), (t3, complete_env)):
            median_ms(argv, run_env, 1)
        python_ms = median_ms(python, env, args.runs)
        queue_ms = median_ms(queue, env, args.runs)
        complete_ms = median_ms(t3, complete_env, args.runs)
    result = {
        "cli_queue_ms": round(queue_ms, 1),
        "python_pass_ms": round(python_ms, 1),
        "complete_ms": round(complete_ms, 1),
        "cli_queue_vs_python": round(queue_ms / python_ms, 2),
        "complete_vs_python": round(complete_ms / python_ms, 2),
    }
    if args.json:
        print(json.dumps(result))
        return
    queue_ratio, complete_ratio = result["cli_queue_vs_python"], result["complete_vs_python"]
    print(f"python -c pass     {python_ms:7.1f} ms")
    print(f"t3 queue           {queue_ms:7.1f} ms   {queue_ratio:.2f}x  (goal <= 10x)")
    print(f"completion (bash)  {complete_ms:7.1f} ms   {complete_ratio:.2f}x  (goal <= 8x)")


if __name__ == "__main__":
    main()

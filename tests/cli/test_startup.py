"""Start-up cost: `t3 queue` and TAB completion must not import the heavy modules.

Measured with `python -X importtime`, which lists every module imported; no timing thresholds
here (those live in bench/cli_startup.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

HEAVY = ("rich", "pydantic", "sqlite_utils", "asyncio", "t3cli.reactor", "t3cli.providers")


def _imported(args: list[str], env: dict[str, str]) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "t3cli", *args],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    modules = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            modules.add(line.rsplit("|", 1)[1].strip())
    assert "t3cli.cli.app" in modules  # the parse found the import list
    return modules


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


@pytest.fixture
def base_env(t3_home) -> dict[str, str]:
    env = dict(os.environ, T3_HOME=str(t3_home))
    env.pop("_T3_COMPLETE", None)
    return env


def test_queue_imports_nothing_heavy(base_env, thread):
    tid = thread("fast")
    modules = _imported(["queue", tid[:8], "quick"], base_env)
    assert "t3cli.engine" in modules  # it really did the work
    assert _heavy(modules) == []


def test_completion_imports_nothing_heavy_nor_the_store(base_env):
    env = dict(base_env, _T3_COMPLETE="bash_complete", COMP_WORDS="t3 qu", COMP_CWORD="1")
    modules = _imported([], env)
    assert _heavy(modules) == []
    assert not any(m.startswith("t3cli.store") for m in modules)


def test_thread_completion_imports_nothing_heavy(base_env, thread):
    tid = thread("fast")
    env = dict(base_env, _T3_COMPLETE="bash_complete", COMP_WORDS="t3 show ", COMP_CWORD="2")
    modules = _imported([], env)
    assert "t3cli.store.queries" in modules  # it really did query
    assert _heavy(modules) == []
    assert not any(m.startswith(("t3cli.store.db", "t3cli.store.barrier")) for m in modules)
    env["COMP_WORDS"] = f"t3 run --thread {tid[:4]}"
    env["COMP_CWORD"] = "3"
    assert _heavy(_imported([], env)) == []

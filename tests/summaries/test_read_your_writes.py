"""Read-your-writes through the real entry point: what `t3 queue` just recorded is visible to the
very next `t3 threads --json` / `t3 show --json`, with or without a `t3 run` reactor (and its
background summaries worker) running. No sleeps between the write and the read.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import t3_executable

T3 = Callable[..., subprocess.CompletedProcess[str]]

CONFIG = """
[reactor]
poll_interval_ms = 20
lease_ttl_s = 3

[providers.echo]
kind = "echo"
hang_pattern = "HANG"
"""


@pytest.fixture
def home(t3_home: Path) -> Path:
    t3_home.mkdir(parents=True, exist_ok=True)
    (t3_home / "config.toml").write_text(CONFIG)
    return t3_home


def _json(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _new_thread(t3: T3, tmp_path: Path, title: str) -> str:
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    return str(_json(t3("new", "--project", str(project), "--title", title, "--json"))["thread_id"])


def _thread(t3: T3, thread_id: str) -> dict[str, Any]:
    rows = [row for row in _json(t3("threads", "--json")) if row["id"] == thread_id]
    assert len(rows) == 1, rows
    return rows[0]


def _queue_and_check(t3: T3, thread_id: str, text: str, depth: int) -> None:
    """`t3 queue`, then at once: `t3 threads --json` counts it, `t3 show --json` lists it."""
    queued = _json(t3("queue", thread_id, text, "--json"))
    row = _thread(t3, thread_id)
    assert row["queue_depth"] == depth, row
    assert row["last_activity_sequence"] >= queued["sequence"], (row, queued)
    shown = _json(t3("show", thread_id, "--json"))
    mine = [q for q in shown["queue"] if q["queue_item_id"] == queued["queue_item_id"]]
    assert len(mine) == 1, shown["queue"]
    assert mine[0]["text"] == text
    assert mine[0]["status"] == "pending"
    # ISO-8601 UTC with milliseconds: string order is time order.
    assert row["last_activity_at"] >= mine[0]["queued_at"], (row, mine[0])
    assert shown["thread"]["queue_depth"] == depth


def test_queue_is_visible_at_once_without_a_reactor(home: Path, t3: T3, tmp_path: Path) -> None:
    thread_id = _new_thread(t3, tmp_path, "no reactor")
    before = _thread(t3, thread_id)
    assert before["queue_depth"] == 0
    _queue_and_check(t3, thread_id, "first instruction", depth=1)
    _queue_and_check(t3, thread_id, "second instruction", depth=2)


def test_queue_is_visible_at_once_while_t3_run_runs(home: Path, t3: T3, tmp_path: Path) -> None:
    thread_id = _new_thread(t3, tmp_path, "with a reactor")
    _queue_and_check(t3, thread_id, "HANG: hold the thread", depth=1)
    env = {**os.environ, "T3_HOME": str(home)}
    runner = subprocess.Popen(
        [*t3_executable(), "run", "--thread", thread_id],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while _thread(t3, thread_id)["status"] != "running":  # the first item is being sent
            assert runner.poll() is None, runner.communicate()
            assert time.monotonic() < deadline, "timed out waiting for the turn to run"
            time.sleep(0.05)
        # The hanging item (sending) still counts; each new one is counted right away.
        _queue_and_check(t3, thread_id, "second, behind the hang", depth=2)
        _queue_and_check(t3, thread_id, "third, behind the hang", depth=3)
        shown = _json(t3("show", thread_id, "--json"))
        assert [q["status"] for q in shown["queue"]] == ["sending", "pending", "pending"]
    finally:
        if runner.poll() is None:
            runner.send_signal(signal.SIGTERM)
        _, err = runner.communicate(timeout=60)
    assert runner.returncode == 143, err

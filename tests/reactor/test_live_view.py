"""The live view under a real terminal (tmux): the table shows up and follows the work."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from t3cli.config import Config
from t3cli.engine import Engine
from tests.conftest import create_thread, t3_executable
from tests.reactor.conftest import count, wait_until

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[list[str]]:
    socket = f"t3-test-{os.getpid()}-{tmp_path.name}"
    base = ["tmux", "-L", socket]
    yield base
    subprocess.run([*base, "kill-server"], capture_output=True, check=False)


def _screen(tmux: list[str]) -> str:
    done = subprocess.run(
        [*tmux, "capture-pane", "-p", "-t", "t3"], capture_output=True, text=True, check=False
    )
    return done.stdout


def _alive(tmux: list[str]) -> bool:
    done = subprocess.run([*tmux, "has-session", "-t", "t3"], capture_output=True, check=False)
    return done.returncode == 0


def test_live_table_updates(engine: Engine, t3_home: Path, config: Config, tmux: list[str]) -> None:
    thread_id = create_thread(engine, title="live-view-thread")
    command = " ".join(
        [
            # The terminal's own size must win over a COLUMNS/LINES inherited from the test run.
            "env -u COLUMNS -u LINES",
            f"T3_HOME={shlex.quote(str(t3_home))}",
            *map(shlex.quote, t3_executable()),
            "run",
        ]
    )
    subprocess.run(
        [*tmux, "new-session", "-d", "-s", "t3", "-x", "160", "-y", "40", command], check=True
    )
    wait_until(lambda: "waiting for work" in _screen(tmux), what="the empty live view")
    queued = subprocess.run(
        [*t3_executable(), "queue", thread_id[:8], "hello from the live view test"],
        env={**os.environ, "T3_HOME": str(t3_home)}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert queued.returncode == 0, queued.stderr
    wait_until(lambda: "live-view-thread" in _screen(tmux), what="the thread's row")
    screen = _screen(tmux)
    for column in ("thread", "provider", "status", "queue", "elapsed", "last message"):
        assert column in screen, screen
    wait_until(
        lambda: count(engine.conn, "SELECT count(*) FROM turns WHERE status = 'completed'") == 1,
        what="the turn",
    )
    wait_until(lambda: "completed" in _screen(tmux), what="the row to show the turn completed")
    assert "hello from the live view test" in _screen(tmux)
    subprocess.run([*tmux, "send-keys", "-t", "t3", "C-c"], check=True)
    wait_until(lambda: not _alive(tmux), what="t3 run to exit on Ctrl-C")
    assert (
        engine.conn.execute(
            "SELECT status FROM sessions WHERE thread_id = ?", (thread_id,)
        ).fetchone()[0]
        == "stopped"
    )

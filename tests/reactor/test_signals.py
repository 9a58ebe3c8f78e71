"""`t3 run` and its signals, as a user sends them: a real process, real SIGINT/SIGTERM, real SQLite.

README "Signals and exit codes": the first SIGINT/SIGTERM stops starting turns; running turns are
interrupted (`--on-exit interrupt`, the default) or allowed to finish (`--on-exit wait`), their
ends recorded; a second signal kills the agents at once (ends still recorded); sessions are then
recorded `stopped`. Exit 130 for SIGINT, 143 for SIGTERM. Deadlines are generous; nothing here
asserts a duration.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from t3cli.engine import Engine
from tests.conftest import create_thread
from tests.reactor.conftest import (
    CONFIG,
    count,
    popen_t3,
    queue,
    turn_statuses,
    wait_until,
)

T3 = Callable[..., subprocess.CompletedProcess[str]]

# 4-character deltas, 0.1 s before each: a 54-character message takes ~1.4 s.
PACED_CONFIG = """
[providers.paced]
kind = "echo"
chunk_chars = 4
delay_s = 0.1
hang_pattern = "HANG"
"""
PACED_TEXT = "paced reply, " * 3 + "exactly as sent"


@pytest.fixture
def paced_home(t3_home: Path) -> Path:
    t3_home.mkdir(parents=True, exist_ok=True)
    (t3_home / "config.toml").write_text(CONFIG + PACED_CONFIG)
    return t3_home



def _one(engine: Engine, sql: str, *params: object) -> object:
    row = engine.conn.execute(sql, params).fetchone()
    return None if row is None else row[0]



def _started(engine: Engine, thread_id: str) -> bool:
    return count(
        engine.conn,
        "SELECT count(*) FROM events WHERE type = 'thread.turn-started' AND stream_id = ?",
        thread_id,
    ) == 1 and turn_statuses(engine, thread_id) == ["running"]


def _session(engine: Engine, thread_id: str) -> object:
    return _one(engine, "SELECT status FROM sessions WHERE thread_id = ?", thread_id)


def _stop(proc: subprocess.Popen[str]) -> None:
    """Cleanup for a failed test: never leave our `t3 run` behind."""
    if proc.poll() is None:
        proc.kill()
        proc.communicate(timeout=30)


def test_on_exit_wait_lets_the_running_turn_finish(
    engine: Engine, paced_home: Path, t3: T3
) -> None:
    thread_id = create_thread(engine, provider="paced")
    item = queue(engine, thread_id, PACED_TEXT)
    proc = popen_t3(paced_home, "run", "--on-exit", "wait")
    try:
        wait_until(lambda: _started(engine, thread_id), what="the paced turn to start")
        proc.send_signal(signal.SIGTERM)
        # The signal is delivered while the turn is still running: its end is not recorded yet.
        assert turn_statuses(engine, thread_id) == ["running"]
        out, err = proc.communicate(timeout=60)
    finally:
        _stop(proc)
    assert proc.returncode == 143, err
    turn_id, status, error = engine.conn.execute(
        "SELECT turn_id, status, error FROM turns WHERE thread_id = ?", (thread_id,)
    ).fetchone()
    assert (status, error) == ("completed", None)
    # The completed turn resolved its queued item (removed from the queue).
    assert (
        count(engine.conn, "SELECT count(*) FROM queued_turns WHERE queue_item_id = ?", item) == 0
    )
    reply = _one(
        engine,
        "SELECT text FROM messages WHERE turn_id = ? AND role = 'assistant' AND complete = 1",
        turn_id,
    )
    assert reply == PACED_TEXT
    assert _session(engine, thread_id) == "stopped"
    assert count(engine.conn, "SELECT count(*) FROM thread_leases") == 0
    assert "turn completed" in out
    check = t3("replay", "--check")
    assert check.returncode == 0, check.stdout + check.stderr


def test_sigint_interrupts_a_hanging_turn_by_default(
    engine: Engine, paced_home: Path, t3: T3
) -> None:
    thread_id = create_thread(engine)  # echo, hang_pattern = "HANG"
    item = queue(engine, thread_id, "HANG until Ctrl-C")
    proc = popen_t3(paced_home, "run")
    try:
        wait_until(lambda: _started(engine, thread_id), what="the hanging turn to start")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        _stop(proc)
    assert proc.returncode == 130, err
    assert turn_statuses(engine, thread_id) == ["interrupted"]
    status, reason = engine.conn.execute(
        "SELECT status, failure_reason FROM queued_turns WHERE queue_item_id = ?", (item,)
    ).fetchone()
    assert status == "failed"
    assert reason  # a reason is recorded, not an empty string
    assert _session(engine, thread_id) == "stopped"
    assert count(engine.conn, "SELECT count(*) FROM thread_leases") == 0
    assert "turn interrupted" in out
    check = t3("replay", "--check")
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"]
)
def test_second_signal_stops_a_waited_turn_at_once(
    engine: Engine, paced_home: Path, t3: T3, signum: int, code: int
) -> None:
    thread_id = create_thread(engine)
    item = queue(engine, thread_id, "HANG: --on-exit wait would wait for ever")
    proc = popen_t3(paced_home, "run", "--on-exit", "wait")
    try:
        wait_until(lambda: _started(engine, thread_id), what="the hanging turn to start")
        proc.send_signal(signum)
        # --on-exit wait: the first signal leaves the hanging turn running, the process alive.
        time.sleep(0.5)
        assert proc.poll() is None
        assert turn_statuses(engine, thread_id) == ["running"]
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)  # generous: "at once" is not timed here
    finally:
        _stop(proc)
    assert proc.returncode == code, err
    statuses = turn_statuses(engine, thread_id)
    assert statuses == ["interrupted"], statuses  # its end is recorded, not left running
    assert _one(engine, "SELECT completed_at FROM turns WHERE thread_id = ?", thread_id)
    assert _one(engine, "SELECT status FROM queued_turns WHERE queue_item_id = ?", item) == "failed"
    assert _session(engine, thread_id) == "stopped"
    assert count(engine.conn, "SELECT count(*) FROM thread_leases") == 0
    assert "Traceback" not in err
    assert "turn interrupted" in out  # the end was reported, too
    check = t3("replay", "--check")
    assert check.returncode == 0, check.stdout + check.stderr

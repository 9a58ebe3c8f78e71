"""`t3 run` and `t3 send` as a user runs them: real processes, real signals, real SQLite."""

from __future__ import annotations

import json
import re
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

from t3cli.config import Config
from t3cli.contracts import commands as c
from t3cli.contracts.ids import new_id
from t3cli.engine import Engine
from tests.conftest import create_thread
from tests.reactor.conftest import (
    count,
    popen_t3,
    queue,
    start_turn,
    turn_statuses,
    wait_until,
)

T3 = Callable[..., subprocess.CompletedProcess[str]]
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ([0-9a-f]{8}|reactor) \S.*$")




def test_until_idle_exit_0_and_plain_lines(engine: Engine, t3: T3, config: Config) -> None:
    thread_id = create_thread(engine)
    queue(engine, thread_id, "one")
    queue(engine, thread_id, "two")
    done = t3("run", "--until-idle")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines and all(LINE.match(line) for line in lines), lines
    assert "\x1b" not in done.stdout
    assert sum(f"{thread_id[:8]} turn completed in" in line for line in lines) == 2
    assert turn_statuses(engine, thread_id) == ["completed", "completed"]
    assert count(engine.conn, "SELECT count(*) FROM thread_leases") == 0


def test_until_idle_exit_5_when_a_turn_failed(engine: Engine, t3: T3, config: Config) -> None:
    thread_id = create_thread(engine)
    queue(engine, thread_id, "FAIL please")
    queue(engine, thread_id, "blocked behind it")
    done = t3("run", "--until-idle", "--json")
    assert done.returncode == 5, done.stderr
    objects = [json.loads(line) for line in done.stdout.splitlines()]
    events = [o["event"] for o in objects]
    assert "thread.turn-completed" in events
    failed = [o for o in objects if o["event"] == "thread.queued-turn-send-failed"]
    assert failed and "fail_pattern" in failed[0]["error"]
    assert count(engine.conn, "SELECT count(*) FROM queued_turns WHERE status = 'pending'") == 1


def test_run_scoped_to_a_thread(engine: Engine, t3: T3, config: Config) -> None:
    mine = create_thread(engine, title="the one")
    other = create_thread(engine)
    queue(engine, mine, "in scope")
    queue(engine, other, "out of scope")
    done = t3("run", "--until-idle", "--thread", "the one")
    assert done.returncode == 0, done.stderr
    assert turn_statuses(engine, mine) == ["completed"]
    assert turn_statuses(engine, other) == []


def test_sigterm_interrupts_and_records_sessions(
    engine: Engine, t3_home: Path, config: Config
) -> None:
    thread_id = create_thread(engine)
    item = queue(engine, thread_id, "HANG until terminated")
    proc = popen_t3(t3_home, "run")
    try:
        wait_until(lambda: turn_statuses(engine, thread_id) == ["running"], what="turn running")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert turn_statuses(engine, thread_id) == ["interrupted"]
    assert (
        engine.conn.execute(
            "SELECT status FROM sessions WHERE thread_id = ?", (thread_id,)
        ).fetchone()[0]
        == "stopped"
    )
    assert (
        engine.conn.execute(
            "SELECT status FROM queued_turns WHERE queue_item_id = ?", (item,)
        ).fetchone()[0]
        == "failed"
    )
    assert count(engine.conn, "SELECT count(*) FROM thread_leases") == 0
    assert "turn interrupted" in out


def test_send_streams_the_reply(engine: Engine, t3_home: Path, config: Config) -> None:
    thread_id = create_thread(engine, provider="slow")
    text = "streamed " * 40  # 360 characters: ~3.6 s of 5-character deltas
    proc = popen_t3(t3_home, "send", thread_id, text)
    assert proc.stdout is not None
    first = proc.stdout.read(20)  # text arrives while the turn still runs
    assert proc.poll() is None
    assert first == text[:20]
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert first + rest == text + "\n"


def test_send_json_and_failure_codes(engine: Engine, t3: T3, config: Config) -> None:
    thread_id = create_thread(engine)
    done = t3("send", "--json", thread_id, "hello json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "completed"
    assert result["reply"] == "hello json"
    assert result["output_tokens"] == 2
    assert set(result) == {
        "thread_id", "turn_id", "queue_item_id", "status", "reply", "error", "input_tokens",
        "output_tokens", "cost_usd", "duration_ms",
    }  # fmt: skip
    failed = t3("send", thread_id, "FAIL now")
    assert failed.returncode == 5
    assert "fail_pattern" in failed.stderr


def test_send_ctrl_c_interrupts_the_turn(engine: Engine, t3_home: Path, config: Config) -> None:
    thread_id = create_thread(engine)
    proc = popen_t3(t3_home, "send", thread_id, "HANG for ever")
    try:
        wait_until(lambda: turn_statuses(engine, thread_id) == ["running"], what="turn running")
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert turn_statuses(engine, thread_id) == ["interrupted"]
    assert count(engine.conn, "SELECT count(*) FROM thread_leases") == 0


def test_send_queue_if_busy_waits_for_its_turn(engine: Engine, t3: T3, config: Config) -> None:
    thread_id = create_thread(engine)
    queue(engine, thread_id, "queued earlier")  # no reactor runs: the thread is busy
    done = t3("send", "--queue-if-busy", thread_id, "mine")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "mine\n"  # only its own reply is printed
    assert turn_statuses(engine, thread_id) == ["completed", "completed"]


def test_send_follows_the_log_when_t3_run_holds_the_thread(
    engine: Engine, t3_home: Path, config: Config
) -> None:
    thread_id = create_thread(engine)
    start_turn(engine, thread_id, "HANG to hold the thread")  # t3 run drives (and leases) it
    runner = popen_t3(t3_home, "run")
    try:
        wait_until(lambda: turn_statuses(engine, thread_id) == ["running"], what="t3 run drives")
        sender = popen_t3(t3_home, "send", "--queue-if-busy", thread_id, "followed reply")
        wait_until(
            lambda: count(engine.conn, "SELECT count(*) FROM queued_turns") == 1,
            what="the sender to queue its message",
        )
        engine.dispatch(c.TurnInterrupt(command_id=new_id(), thread_id=thread_id))
        out, err = sender.communicate(timeout=60)
        assert sender.returncode == 0, err
        assert out == "followed reply\n"
    finally:
        runner.send_signal(signal.SIGTERM)
        run_out, _ = runner.communicate(timeout=60)
    # t3 run drove both turns; the sender only followed (each turn started exactly once).
    assert run_out.count("turn started") == 2
    assert count(engine.conn, "SELECT count(*) FROM events WHERE type = 'thread.turn-started'") == 2

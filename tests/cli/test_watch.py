"""`t3 watch THREAD` through the real `t3`, with the thread driven by another real process
(`t3 run` or `t3 send`): the tail, the reply as it streams, the exit codes, Ctrl-C."""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import t3_executable

CONFIG = """
[reactor]
lease_ttl_s = 3

[providers.echo]
kind = "echo"
fail_pattern = "FAIL"

[providers.slow]
kind = "echo"
chunk_chars = 4
delay_s = 0.2
"""
LONG = "a reply long enough to stream in many small pieces over several seconds, slowly"


class Process:
    """A background `t3` whose stdout and stderr lines are collected as they come."""

    def __init__(self, home: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [*t3_executable(), *args], env=dict(os.environ, T3_HOME=str(home)),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.out: queue.Queue[str] = queue.Queue()
        self.err: queue.Queue[str] = queue.Queue()
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._pumps = [
            threading.Thread(target=self._pump, args=(stream, sink), daemon=True)
            for stream, sink in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))
        ]
        for pump in self._pumps:
            pump.start()

    @staticmethod
    def _pump(stream: Any, sink: queue.Queue[str]) -> None:
        for line in stream:
            sink.put(line)

    def wait_for(
        self, check: Callable[[str], bool], *, err: bool = False, timeout: float = 60
    ) -> str:
        """The first (new) line of stdout (or stderr) for which `check` holds."""
        source, seen = (self.err, self.stderr) if err else (self.out, self.stdout)
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = source.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no such line in {''.join(seen)!r}") from None
            seen.append(line)
            if check(line):
                return line

    def finish(self, timeout: float = 60) -> int:
        """Wait for the exit; then `stdout`/`stderr` hold every line the process wrote."""
        code = self.proc.wait(timeout=timeout)
        for pump in self._pumps:
            pump.join(timeout=10)
        for source, seen in ((self.out, self.stdout), (self.err, self.stderr)):
            while not source.empty():
                seen.append(source.get())
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def home(t3_home: Path) -> Path:
    t3_home.mkdir(parents=True, exist_ok=True)
    (t3_home / "config.toml").write_text(CONFIG)
    return t3_home


@pytest.fixture
def spawn(home: Path):
    started: list[Process] = []

    def start(*args: str) -> Process:
        process = Process(home, *args)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()


def lines_of(process: Process) -> list[dict[str, Any]]:
    return [json.loads(line) for line in process.stdout]


def turn_status(home: Path, turn_id: str) -> str:
    conn = sqlite3.connect(home / "t3.db")
    try:
        row = conn.execute("SELECT status FROM turns WHERE turn_id = ?", (turn_id,)).fetchone()
        return str(row[0])
    finally:
        conn.close()


def test_watch_prints_the_reply_as_t3_run_streams_it(t3, home, spawn, tmp_path):
    tid = t3("new", "--project", str(tmp_path), "--provider", "slow", LONG).stdout.strip()
    watch = spawn("watch", tid, "--json")
    watch.wait_for(lambda line: json.loads(line)["type"] == "queue")  # the snapshot: ready
    run = spawn("run", "--until-idle")
    first = json.loads(watch.wait_for(lambda line: json.loads(line)["type"] == "text"))
    # Printed while the turn is still running: it follows the log, it does not wait for the end.
    assert turn_status(home, first["turn_id"]) == "running"
    assert watch.finish() == 0
    assert run.finish() == 0
    lines = lines_of(watch)
    types = [line["type"] for line in lines]
    assert types[0] == "queue" and types[-1] == "end"
    sent = next(line for line in lines if line["type"] == "message")
    assert (sent["role"], sent["text"]) == ("user", LONG)
    texts = [line["text"] for line in lines if line["type"] == "text"]
    assert len(texts) >= 2 and "".join(texts) == LONG  # in several persisted chunks
    ends = [line for line in lines if line["type"] == "turn"]
    assert [line["status"] for line in ends] == ["started", "completed"]
    assert lines[-1]["status"] == "idle" and lines[-1]["exit_code"] == 0


def test_watch_follows_turns_t3_send_drives_until_ctrl_c(t3, home, spawn, tmp_path):
    tid = t3("new", "--project", str(tmp_path), "--title", "chat").stdout.strip()
    assert t3("send", tid, "earlier question").returncode == 0
    watch = spawn("watch", tid, "--follow")
    watch.wait_for(lambda line: line == "earlier question\n")  # the tail: ready
    sender = spawn("send", tid, "a new question")
    assert sender.finish() == 0
    watch.wait_for(lambda line: "completed" in line and line.startswith("turn "))
    watch.proc.send_signal(signal.SIGINT)
    assert watch.finish() == 130
    text = "".join(watch.stdout)
    assert text.startswith("user:\nearlier question\n\nassistant:\nearlier question\n")
    assert "\nuser:\na new question\n" in text and "\nassistant:\na new question\n" in text
    assert "Traceback" not in "".join(watch.stderr)


def test_watch_exits_5_when_a_turn_fails_while_watched(t3, home, spawn, tmp_path):
    tid = t3("new", "--project", str(tmp_path), "please FAIL").stdout.strip()
    watch = spawn("watch", tid)
    watch.wait_for(lambda line: line.startswith("queued "))
    spawn("run", "--until-idle")
    assert watch.finish() == 5
    stderr = "".join(watch.stderr)
    assert stderr.startswith("error: turn ") and "failed: echo: message matched" in stderr
    assert f"hint: `t3 show {tid[:8]}`" in stderr
    assert any(line.startswith("queued turn ") and "failed" in line for line in watch.stdout)


def test_watch_exits_3_on_a_thread_blocked_by_a_failed_item(t3, home, tmp_path):
    tid = t3("new", "--project", str(tmp_path), "FAIL first").stdout.strip()
    t3("queue", tid, "then this")
    assert t3("run", "--until-idle").returncode == 5
    out = t3("watch", tid)
    assert out.returncode == 3
    assert out.stderr.startswith(f"error: thread {tid[:8]} is blocked: queued turn ")
    assert f"hint: `t3 retry {tid[:8]}`" in out.stderr
    assert "(failed): FAIL first" in out.stdout and "(pending): then this" in out.stdout


def test_watch_an_idle_thread_prints_the_tail_and_exits_0(t3, home, tmp_path):
    tid = t3("new", "--project", str(tmp_path)).stdout.strip()
    for n in range(3):
        assert t3("send", tid, f"message {n}").returncode == 0
    out = t3("watch", tid, "--tail", "2")
    assert (out.returncode, out.stderr) == (0, "")
    assert out.stdout == "user:\nmessage 2\n\nassistant:\nmessage 2\n"
    assert t3("watch", tid, "-n", "0").stdout == ""
    default = t3("watch", tid, "--json").stdout.splitlines()
    assert [json.loads(line)["type"] for line in default] == ["message"] * 6 + ["end"]


def test_watch_says_when_no_reactor_drives_the_thread(t3, home, spawn, tmp_path):
    tid = t3("new", "--project", str(tmp_path), "waiting for a reactor").stdout.strip()
    watch = spawn("watch", tid)
    note = watch.wait_for(lambda line: line.startswith("note: "), err=True)
    assert f"no reactor is driving thread {tid[:8]}" in note and "`t3 run" in note
    spawn("run", "--until-idle")
    assert watch.finish() == 0
    assert "\nassistant:\nwaiting for a reactor\n" in "".join(watch.stdout)


def test_watch_exits_4_for_an_unknown_or_deleted_thread(t3, home, spawn, tmp_path):
    missing = t3("watch", "ffffffff")
    assert missing.returncode == 4 and missing.stderr.startswith("error: no thread matches")
    tid = t3("new", "--project", str(tmp_path)).stdout.strip()
    assert t3("send", tid, "hello").returncode == 0
    watch = spawn("watch", tid, "--follow")
    watch.wait_for(lambda line: line == "hello\n")
    assert t3("rm", tid).returncode == 0
    assert watch.finish() == 4
    assert f"error: thread {tid[:8]} was deleted" in "".join(watch.stderr)


def test_watch_shows_agent_text_printable_and_json_exact(t3, home, tmp_path):
    nasty = "look\x1b]0;owned\x07 here"
    tid = t3("new", "--project", str(tmp_path)).stdout.strip()
    assert t3("send", tid, nasty).returncode == 0  # echo replies with the message itself
    plain = t3("watch", tid).stdout
    assert "\x1b" not in plain and "\x07" not in plain
    assert "look\\x1b]0;owned\\x07 here" in plain
    lines = [json.loads(line) for line in t3("watch", tid, "--json").stdout.splitlines()]
    assert lines[1]["role"] == "assistant" and lines[1]["text"] == nasty


def test_watch_json_ends_with_an_interrupted_line_on_ctrl_c(t3, home, spawn, tmp_path):
    tid = t3("new", "--project", str(tmp_path)).stdout.strip()
    assert t3("send", tid, "hello").returncode == 0
    watch = spawn("watch", tid, "--follow", "--json")
    watch.wait_for(lambda line: json.loads(line)["role"] == "assistant")
    watch.proc.send_signal(signal.SIGINT)
    assert watch.finish() == 130
    end = json.loads(watch.stdout[-1])
    assert (end["type"], end["status"], end["exit_code"]) == ("end", "interrupted", 130)
    assert "".join(watch.stderr) == ""

"""Delivery integrity when a reactor dies or stalls: whole messages, no orphans, no overlap.

Real `t3 run` processes, real SIGKILL/SIGSTOP, and a fake agent that keeps a ledger of what it
received (`ledger_agent.py`): the message's length, its pid and group, and whether another agent
of the same thread was still alive when it started (an `flock` its whole process group holds).

- The message is complete before the agent exists: an agent that outlives its reactor (it left
  the process group, as a daemonising tool does) still reads all of it, never a pipe's first
  64 KB.
- A SIGKILLed reactor takes its agent and the agent's children with it.
- A reactor that takes over from a stalled one on the same host ends the old agent's process
  group before it re-sends (`--recover resend`), and says it re-sends rather than telling the user
  to retry; from another host it cannot end it, so it does not re-send at all.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from t3cli.reactor.recovery import RESEND_REASON, RETRY_REASON, elsewhere_reason
from tests.reliability.ledger_agent import header
from tests.reliability.support import (
    in_process,
    read_only,
    spawn_t3,
    t3_env,
    wait_until,
    write_config,
)

AGENT = Path(__file__).resolve().parent / "ledger_agent.py"


def ledger_config(ledger: Path, mode: str, *, work_s: str = "0.1", ttl_s: float = 3) -> str:
    return f"""
[reactor]
poll_interval_ms = 20
lease_ttl_s = {ttl_s}

[providers.ledger]
kind = "command"
argv = [{sys.executable!r}, {str(AGENT)!r}]
env = {{ LEDGER_DIR = {str(ledger)!r}, LEDGER_MODE = {mode!r}, LEDGER_WORK_S = {work_s!r} }}
"""


def ledger_lines(ledger: Path) -> list[dict[str, object]]:
    path = ledger / "ledger.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def kill_if_alive(*pids: int) -> None:
    for pid in pids:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def world(
    t3_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, Path]]:
    """(T3_HOME, ledger directory); the current directory is a project; agents are cleaned up."""
    ledger = tmp_path / "ledger"
    ledger.mkdir()
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    yield t3_home, ledger
    for line in ledger_lines(ledger):  # whatever a failed test left behind
        kill_if_alive(int(line["pid"]))  # type: ignore[call-overload]
    for name in ("started", "pids"):
        if (ledger / name).exists():
            kill_if_alive(*map(int, (ledger / name).read_text().split()))


def queue_one(text_bytes: int) -> tuple[str, str, str]:
    """A thread on the ledger provider with one queued message; (thread, item, msg id)."""
    made = in_process("new", "--provider", "ledger", "--title", "ledger")
    assert made.code == 0, made
    thread = made.stdout.strip()
    queued = in_process("queue", thread, header("m1", thread[:8], text_bytes))
    assert queued.code == 0, queued
    return thread, queued.stdout.strip(), "m1"


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
    proc.wait(timeout=60)


def test_an_agent_that_outlives_its_reactor_still_reads_the_whole_message(
    world: tuple[Path, Path], tmp_path: Path
) -> None:
    home, ledger = world
    write_config(home, ledger_config(ledger, "escape"))
    queue_one(99_900)  # well past a pipe's 64 KB
    reactor = spawn_t3(home, "run", out=tmp_path / "run.log")
    try:
        wait_until((ledger / "started").exists, what="the agent to start")
    finally:
        stop(reactor)  # SIGKILL, the instant after the agent started
    (ledger / "go").touch()  # only now does the escaped agent read its stdin
    wait_until(lambda: bool(ledger_lines(ledger)), what="the escaped agent's ledger line")
    [line] = ledger_lines(ledger)
    assert line["expect"] == 99_900 + len(f"ledger msg=m1 thread=xxxxxxxx expect={99_900:05d}\n")
    assert line["received"] == line["expect"], "the agent ran on a truncated message"


def test_a_sigkilled_reactor_takes_its_agent_and_the_agents_children_with_it(
    world: tuple[Path, Path], tmp_path: Path
) -> None:
    home, ledger = world
    write_config(home, ledger_config(ledger, "hang"))
    queue_one(100)
    reactor = spawn_t3(home, "run", out=tmp_path / "run.log")
    try:
        wait_until((ledger / "pids").exists, what="the agent to start")
    finally:
        stop(reactor)
    agent, child = map(int, (ledger / "pids").read_text().split())
    wait_until(lambda: not alive(agent) and not alive(child), 20, "the agent's group to die")


def _take_over_from_a_stalled_reactor(
    home: Path, ledger: Path, tmp_path: Path, first_host: str, second_host: str, deliveries: int
) -> tuple[str, str, list[dict[str, object]]]:
    """Reactor A runs the thread's turn (its agent works for ever), then stalls (SIGSTOP) past
    its lease; reactor B (`--recover resend`) takes the thread over and recovers it. Once the
    ledger holds `deliveries` lines, returns (B's output, the item's failure reason, the
    ledger) — and A is resumed and both are stopped."""
    write_config(home, ledger_config(ledger, "normal", work_s="3600", ttl_s=1))
    _, item, _ = queue_one(100)
    first = spawn_t3(home, "run", out=tmp_path / "a.log", env=t3_env(home, T3_HOST=first_host))
    second: subprocess.Popen[bytes] | None = None
    b_log = tmp_path / "b.log"
    try:
        wait_until(lambda: len(ledger_lines(ledger)) == 1, what="A's agent to get the message")
        first.send_signal(signal.SIGSTOP)
        second = spawn_t3(
            home, "run", "--recover", "resend", out=b_log,
            env=t3_env(home, T3_HOST=second_host),
        )  # fmt: skip
        wait_until(lambda: "recovered" in b_log.read_text(), what="B's recovery")
        wait_until(lambda: len(ledger_lines(ledger)) >= deliveries, what="the deliveries")
        conn = read_only(home / "t3.db")
        try:
            row = conn.execute(
                "SELECT failure_reason FROM queued_turns WHERE queue_item_id = ?", (item,)
            ).fetchone()
        finally:
            conn.close()
        reason = str(row[0]) if row and row[0] else ""
    finally:
        first.send_signal(signal.SIGCONT)
        for proc in (first, second):
            if proc is not None:
                stop(proc, signal.SIGTERM)
    return b_log.read_text(), reason, ledger_lines(ledger)


def test_resend_ends_the_stalled_reactors_agent_before_sending_again(
    world: tuple[Path, Path], tmp_path: Path
) -> None:
    home, ledger = world
    out, _, lines = _take_over_from_a_stalled_reactor(
        home, ledger, tmp_path, "here", "here", deliveries=2
    )
    first, second = lines
    assert second["overlap"] is False, "the re-sent agent ran beside the first one"
    assert not alive(int(first["pid"])), lines  # type: ignore[call-overload]
    assert "ended the agent a stopped reactor left running" in out
    assert RESEND_REASON in out
    assert RETRY_REASON not in out  # it re-sends: it must not tell the user to `t3 retry`


def test_resend_does_not_send_again_what_may_still_run_on_another_host(
    world: tuple[Path, Path], tmp_path: Path
) -> None:
    home, ledger = world
    out, reason, lines = _take_over_from_a_stalled_reactor(
        home, ledger, tmp_path, "alpha", "beta", deliveries=1
    )
    assert reason == elsewhere_reason("alpha"), out
    assert len(lines) == 1, "sent again although its agent may still run on the other host"
    assert "not re-sent: its agent may still run on alpha" in out
    # Once A runs again it finds its lease lost and stops its own agent.
    wait_until(lambda: not alive(int(lines[0]["pid"])), what="A to stop its agent")  # type: ignore[call-overload]

"""Ctrl-C in the live view (issue #13 point 8): the screen says what the reactor waits for and
what a second Ctrl-C does; turns waiting for a slot are left queued."""

from __future__ import annotations

from pathlib import Path

import pytest

from t3cli.engine import Engine
from tests.conftest import create_thread
from tests.reactor.conftest import queue, turn_statuses
from tests.tmux.conftest import WORDS, Terminal, cell, rows, t3_command

pytestmark = pytest.mark.tmux


def test_ctrl_c_with_on_exit_wait_says_it_waits_and_leaves_waiting_turns_queued(
    engine: Engine, home: Path, terminal: Terminal
) -> None:
    threads = [create_thread(engine, provider="slow", title=name) for name in ("one", "two")]
    items = {thread_id: queue(engine, thread_id, WORDS) for thread_id in threads}
    terminal.start(
        t3_command(home, "run", "--max-concurrent", "1", "--on-exit", "wait"),
        width=80, height=24,
    )  # fmt: skip
    # One slot: one turn runs, the other thread waits for it, queued (issue 12: not even sent).
    terminal.wait_for(lambda s: "1 running, 1 queued" in s, "one turn running, one waiting")
    terminal.send("C-c")
    screen = terminal.wait_for(
        lambda s: "stopping: waiting for 1 running turn to finish" in s, "the stopping line"
    )
    assert "Ctrl-C again interrupts it" in screen, screen
    assert "queued turns stay queued" in screen, screen
    terminal.wait_for(lambda s: terminal.exited(), "t3 run to exit once the turn finished")
    assert terminal.exit_status() == 130
    statuses = {thread_id: turn_statuses(engine, thread_id) for thread_id in threads}
    assert sorted(statuses.values()) == [[], ["completed"]], statuses
    (waited,) = [t for t, s in statuses.items() if s == []]
    row = engine.conn.execute(
        "SELECT status FROM queued_turns WHERE queue_item_id = ?", (items[waited],)
    ).fetchone()
    assert row == ("pending",)
    summary = terminal.history()
    assert cell(summary, rows(summary)[waited[:8]], "STATUS") == "queued", summary


def test_a_second_ctrl_c_stops_the_waited_turn(
    engine: Engine, home: Path, terminal: Terminal
) -> None:
    thread_id = create_thread(engine, provider="slow", title="long")
    queue(engine, thread_id, "HANG: would never finish")
    terminal.start(
        t3_command(home, "run", "--on-exit", "wait"), width=80, height=24
    )  # fmt: skip
    terminal.wait_for(lambda s: "1 running" in s, "the running turn")
    terminal.send("C-c")
    terminal.wait_for(lambda s: "Ctrl-C again interrupts it" in s, "the stopping line")
    terminal.send("C-c")
    terminal.wait_for(lambda s: terminal.exited(), "t3 run to stop the turn and exit")
    assert terminal.exit_status() == 130
    assert turn_statuses(engine, thread_id) == ["interrupted"]

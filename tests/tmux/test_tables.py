"""`t3 threads`, `t3 queue list` and `t3 providers` on real terminals of 80, 120 and 200 columns:
the 8-character ids (what the user types next), the status and the queue depth are never cut,
however long titles, messages and failure reasons are (issue #13 point 1)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from t3cli.contracts import commands as c
from t3cli.contracts.ids import new_id
from t3cli.engine import Engine
from tests.conftest import create_thread
from tests.reactor.conftest import queue
from tests.tmux.conftest import Terminal, t3_command

pytestmark = pytest.mark.tmux

LONG = "a rather long piece of text that goes on and on, " * 4
THREAD_ROW = re.compile(
    r"^(?P<id>[0-9a-f]{8})  .*?  (?P<status>idle|queued|blocked)  +(?P<queue>\d*)  "
)
QUEUE_ROW = re.compile(
    r"^(?P<thread>[0-9a-f]{8})  +(?P<pos>\d+)  (?P<item>[0-9a-f]{8})  (?P<status>pending|failed)  "
)


def fail_head(engine: Engine, thread_id: str, item: str) -> None:
    """Make the thread's head item fail, as a reactor would after a failed turn."""
    turn_id = new_id()
    engine.dispatch(
        c.QueuedTurnSendStart(
            command_id=new_id(), actor="reactor", thread_id=thread_id, queue_item_id=item,
            turn_id=turn_id,
        )
    )  # fmt: skip
    engine.dispatch(
        c.TurnCompletedCmd(
            command_id=new_id(), actor="reactor", thread_id=thread_id, turn_id=turn_id,
            status="failed", error=f"failed: {LONG}",
        )
    )  # fmt: skip


@pytest.mark.parametrize("width", [80, 120, 200])
def test_ids_status_and_queue_are_never_cut(
    engine: Engine, home: Path, terminal: Terminal, width: int
) -> None:
    threads: dict[str, tuple[str, int]] = {}  # id -> (status, queue depth)
    items: set[str] = set()
    for n in range(8):
        thread_id = create_thread(engine, provider="slow", title=f"{n} {LONG}"[:60])
        first = queue(engine, thread_id, f"{n} {LONG}")
        items.add(first[:8])
        if n % 3 == 0:
            fail_head(engine, thread_id, first)
            items.add(queue(engine, thread_id, "after the failure")[:8])
            threads[thread_id[:8]] = ("blocked", 2)
        else:
            threads[thread_id[:8]] = ("queued", 1)
    commands = " && ".join(
        [t3_command(home, "threads"), t3_command(home, "queue", "list"),
         t3_command(home, "providers")]
    )  # fmt: skip
    terminal.start(commands, width=width, height=60)
    screen = terminal.wait_for(lambda s: terminal.exited(), "the listings")
    assert terminal.exit_status() == 0, screen
    lines = terminal.history().split("\n")
    assert all(len(line) <= width for line in lines)
    shown = {m["id"]: (m["status"], int(m["queue"])) for m in map(THREAD_ROW.match, lines) if m}
    assert shown == threads, screen
    header = next(line for line in lines if line.startswith("ID  "))
    for column in ("ID", "STATUS", "QUEUE", "ACTIVE"):
        assert column in header.split(), header
    listed = [m for m in map(QUEUE_ROW.match, lines) if m]
    assert {m["item"] for m in listed} == items, screen
    assert {m["thread"] for m in listed} == set(threads), screen
    assert sum(m["status"] == "failed" for m in listed) == 3, screen
    # t3 providers on a terminal: a table with its rules.
    assert any(line.split()[:3] == ["name", "┃", "kind"] for line in lines), screen
    assert any(line.split()[:5] == ["slow", "│", "echo", "│", "yes"] for line in lines), screen

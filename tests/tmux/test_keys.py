"""Keys in the live view, pressed in a real terminal: they act on the focused thread through the
CLI's own commands (logged as the user's, decided by the engine), say what they did, restore the
terminal on the way out — and do nothing when stdin is not a terminal."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from t3cli.engine import Engine
from tests.conftest import create_thread
from tests.reactor.conftest import count, queue, turn_statuses, wait_until
from tests.tmux.conftest import Terminal, cell, rows, t3_command

pytestmark = pytest.mark.tmux


def focus_on(terminal: Terminal, thread_id: str, screen: str) -> str:
    """Press ↓/↑ (and j/k) until `thread_id`'s row carries the focus mark."""
    target = thread_id[:8]
    for attempt in range(12):
        ids = list(rows(screen))
        marked = next((i for i, line in rows(screen).items() if line.startswith("▶")), None)
        if marked == target:
            return screen
        down = marked is None or ids.index(target) > ids.index(marked)
        key = ("Down" if down else "Up") if attempt % 2 == 0 else ("j" if down else "k")
        terminal.send(key)
        screen = terminal.wait_for(
            lambda s, was=marked: (
                next((i for i, line in rows(s).items() if line.startswith("▶")), None) != was
            ),
            "the focus to move",
        )
    raise AssertionError(f"could not focus {target}:\n{screen}")


def user_events(engine: Engine, thread_id: str, event_type: str) -> list[dict[str, object]]:
    return [
        json.loads(row[0])
        for row in engine.conn.execute(
            "SELECT payload FROM events WHERE stream_id = ? AND type = ? AND actor = 'user'",
            (thread_id, event_type),
        )
    ]


def test_keys_retry_cancel_and_interrupt_the_focused_thread(
    engine: Engine, home: Path, terminal: Terminal
) -> None:
    failing = create_thread(engine, provider="slow", title="failing")
    hanging = create_thread(engine, provider="slow", title="hanging")
    quiet = create_thread(engine, provider="slow", title="quiet")
    item = queue(engine, failing, "FAIL on purpose")
    queue(engine, hanging, "HANG until interrupted")
    queue(engine, quiet, "done quickly")
    # After t3 exits, the shell prints the terminal's modes: cbreak must be gone.
    terminal.start(
        t3_command(home, "run") + "; code=$?; echo; stty -a | grep -w icanon; (exit $code)",
        width=120, height=30,
    )  # fmt: skip
    screen = terminal.wait_for(
        lambda s: "1 running" in s and "1 blocked" in s and "1 idle" in s, "the threads to settle"
    )
    assert "r retry · c cancel · i interrupt · q quit" in screen

    # r: retry the failed head (t3 retry). It fails again, on purpose.
    screen = focus_on(terminal, failing, screen)
    terminal.send("r")
    terminal.wait_for(lambda s: f"{failing[:8]}: queued turn {item[:8]} retried" in s, "r's notice")
    wait_until(
        lambda: turn_statuses(engine, failing) == ["failed", "failed"], what="the retried turn"
    )
    assert len(user_events(engine, failing, "thread.queued-turn-requeued")) == 1

    # c: cancel the failed head (t3 queue cancel).
    screen = terminal.wait_for(
        lambda s: cell(s, rows(s)[failing[:8]], "STATUS") == "blocked", "blocked again"
    )
    terminal.send("c")
    screen = terminal.wait_for(
        lambda s: f"{failing[:8]}: queued turn {item[:8]} cancelled" in s, "c's notice"
    )
    wait_until(
        lambda: (
            count(engine.conn, "SELECT count(*) FROM queued_turns WHERE thread_id = ?", failing)
            == 0
        ),
        what="the cancelled item to leave the queue",
    )
    assert len(user_events(engine, failing, "thread.queued-turn-cancelled")) == 1
    # A second c has nothing to cancel, and says so.
    terminal.send("c")
    terminal.wait_for(lambda s: "has no failed queued turn to cancel" in s, "the refusal")

    # i: interrupt the focused thread's running turn (t3 interrupt).
    screen = focus_on(terminal, hanging, screen)
    terminal.send("i")
    terminal.wait_for(lambda s: f"{hanging[:8]}: interrupt requested" in s, "i's notice")
    wait_until(lambda: turn_statuses(engine, hanging) == ["interrupted"], what="the interrupt")
    assert len(user_events(engine, hanging, "thread.turn-interrupt-requested")) == 1
    # i on a thread with nothing running: the engine's rejection, shown, nothing appended.
    terminal.send("i")
    terminal.wait_for(lambda s: "has no running turn to interrupt" in s, "the rejection")
    assert len(user_events(engine, hanging, "thread.turn-interrupt-requested")) == 1

    # q quits as Ctrl-C does; the terminal is back in its normal mode.
    terminal.send("q")
    terminal.wait_for(lambda s: terminal.exited(), "t3 run to quit on q")
    assert terminal.exit_status() == 130
    screen = terminal.history()
    assert "t3 run stopped" in screen, screen
    modes = next(line for line in screen.split("\n") if "icanon" in line).split()
    assert "icanon" in modes and "echo" in modes, screen  # not -icanon, -echo (cbreak)


def test_no_key_handling_when_stdin_is_not_a_terminal(
    engine: Engine, home: Path, terminal: Terminal
) -> None:
    hanging = create_thread(engine, provider="slow", title="hanging")
    queue(engine, hanging, "HANG for a while")
    terminal.start(t3_command(home, "run", stdin_null=True), width=100, height=20)
    screen = terminal.wait_for(lambda s: "1 running" in s, "the running thread")
    assert "Ctrl-C stops" in screen and "q quit" not in screen, screen
    terminal.send("i", "q")
    # Keys go nowhere: the view keeps drawing (the elapsed time moves on) and nothing is sent.
    first = cell(screen, rows(screen)[hanging[:8]], "ELAPSED")
    terminal.wait_for(
        lambda s: hanging[:8] in rows(s) and cell(s, rows(s)[hanging[:8]], "ELAPSED") != first,
        "another frame",
    )
    assert not terminal.exited()
    assert turn_statuses(engine, hanging) == ["running"]
    terminal.send("C-c")
    terminal.wait_for(lambda s: terminal.exited(), "t3 run to stop on Ctrl-C")
    assert terminal.exit_status() == 130
    assert turn_statuses(engine, hanging) == ["interrupted"]


def test_a_background_run_leaves_the_terminal_alone(
    engine: Engine, home: Path, terminal: Terminal
) -> None:
    """`t3 run &` from an interactive shell: not the terminal's foreground job, so no key mode
    (changing it would stop the job with SIGTTOU); the view keeps drawing."""
    hanging = create_thread(engine, provider="slow", title="hanging")
    queue(engine, hanging, "HANG for a while")
    terminal.start("exec bash --norc --noprofile -i", width=100, height=20)
    terminal.wait_for(lambda s: "$" in s or "#" in s, "the shell's prompt")
    terminal.send(t3_command(home, "run") + " &", "Enter")
    screen = terminal.wait_for(lambda s: "1 running" in s, "the view of the background run")
    assert "Ctrl-C stops" in screen and "q quit" not in screen, screen
    first = cell(screen, rows(screen)[hanging[:8]], "ELAPSED")
    terminal.wait_for(
        lambda s: hanging[:8] in rows(s) and cell(s, rows(s)[hanging[:8]], "ELAPSED") != first,
        "the view to keep drawing (the job was not stopped)",
    )
    terminal.send("kill -INT %1", "Enter")
    wait_until(lambda: turn_statuses(engine, hanging) == ["interrupted"], what="the run to stop")


def test_ctrl_z_gives_the_terminal_back_and_fg_resumes_the_view(
    engine: Engine, home: Path, terminal: Terminal
) -> None:
    hanging = create_thread(engine, provider="slow", title="hanging")
    queue(engine, hanging, "HANG for a while")
    terminal.start("exec bash --norc --noprofile -i", width=100, height=20)
    terminal.wait_for(lambda s: "$" in s or "#" in s, "the shell's prompt")
    terminal.send(t3_command(home, "run"), "Enter")
    terminal.wait_for(lambda s: "1 running" in s and "q quit" in s, "the view")
    terminal.send("C-z")
    terminal.wait_for(lambda s: "Stopped" in s, "the shell to report the stopped job")
    # The shell has a normal terminal again (no cbreak left behind).
    terminal.send("stty -a | grep -w -o -e -icanon -e icanon -e -echo -e echo | sort -u", "Enter")
    screen = terminal.wait_for(lambda s: re.search(r"(?m)^-?icanon$", s), "the modes")
    assert re.search(r"(?m)^icanon$", screen) and re.search(r"(?m)^echo$", screen), screen
    assert not re.search(r"(?m)^-(icanon|echo)$", screen), screen
    terminal.send("fg", "Enter")
    screen = terminal.wait_for(lambda s: "1 running" in s and "q quit" in s, "the view again")
    terminal.send("j")  # keys work again: the only row takes the focus
    terminal.wait_for(lambda s: f"▶ {hanging[:8]}" in s, "the focus mark")
    terminal.send("q")
    terminal.wait_for(lambda s: "t3 run stopped" in s, "t3 run to quit")
    wait_until(lambda: turn_statuses(engine, hanging) == ["interrupted"], what="the interrupt")

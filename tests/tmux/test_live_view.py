"""`t3 run`'s live view in real terminals (tmux), read back from the screen as a person would:
every row's id readable, queue and elapsed visible, the focused reply's last words with their
spaces, a focus that stays put, rows that do not jump, a summary row when threads do not fit,
no stale line after a resize (issue #13 points 1-6)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from t3cli.engine import Engine
from tests.conftest import create_thread
from tests.reactor.conftest import queue
from tests.tmux.conftest import LAST_WORDS, WORDS, Terminal, cell, rows, t3_command

pytestmark = pytest.mark.tmux

SIZES = [(80, 24), (120, 30), (200, 50)]
SUMMARY = re.compile(r"^  \+(?P<total>\d+) more: (?P<counts>.+)$", re.MULTILINE)
ELAPSED = re.compile(r"^\d+\.\ds$|^\d+m\d\ds$")
STATUSES = {"idle", "starting", "running", "queued", "blocked", "archived"}


def panel_text(screen: str) -> str:
    """The focused reply as the panel shows it, its wrapped lines joined again."""
    inner = [line[2:-1].strip() for line in screen.split("\n") if line.startswith("│ ")]
    return " ".join(inner)


def panel_title(screen: str) -> str:
    return next((line for line in screen.split("\n") if line.startswith("╭─")), "")


def focused(screen: str) -> str | None:
    marked = [i for i, line in rows(screen).items() if line.startswith("▶")]
    assert len(marked) <= 1, screen
    return marked[0] if marked else None


def assert_one_frame(screen: str, width: int, height: int, *, legend: str = "q quit") -> None:
    """What a person checks after a resize: one title, the legend last, nothing left over."""
    lines = screen.rstrip("\n").split("\n")
    assert len(lines) <= height, screen
    assert all(len(line) <= width for line in lines), screen
    titles = [line for line in lines if line.startswith("t3 run")]
    assert len(titles) == 1, screen
    assert lines[0].startswith("t3 run"), screen
    filled = [line for line in lines if line.strip()]
    assert legend in filled[-1], screen
    # Every line is part of this frame: title, header, row, summary, panel, notice or legend.
    known = re.compile(r"^(t3 run|  ID  |[▶ ] [0-9a-f]{8}  |  \+\d+ more: |[╭│╰])")
    unknown = [line for line in filled[:-1] if not known.match(line)]
    assert len(unknown) <= 1, unknown  # at most the notice line
    if unknown:
        assert filled[-2] == unknown[0], screen


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_six_threads_stream_readably_at_every_size(
    engine: Engine, home: Path, terminal: Terminal, width: int, height: int
) -> None:
    ids = [
        create_thread(engine, provider="slow", title=f"six {n} has a long descriptive title")
        for n in range(6)
    ]
    for n, thread_id in enumerate(ids):
        queue(engine, thread_id, f"{n} {WORDS}")
        # Second turns only on the threads that start last (a reactor runs its oldest work
        # first, a thread's turns one after the other): a thread's next turn takes its panel at
        # once, and the focused reply must stay in view below.
        if n >= 3:
            queue(engine, thread_id, "ok")
    short = {thread_id[:8] for thread_id in ids}
    message = {t[:8]: f"{n} {WORDS}" for n, t in enumerate(ids)}
    terminal.start(t3_command(home, "run", "--max-concurrent", "3"), width=width, height=height)

    def streaming(screen: str) -> bool:
        running = [line for line in rows(screen).values() if "running" in line]
        return len(running) >= 2 and focused(screen) is not None and bool(panel_text(screen))

    screen = terminal.wait_for(streaming, "two threads streaming and one in focus")
    assert set(rows(screen)) == short, screen  # every id, all 8 characters
    assert_one_frame(screen, width, height)
    order = list(rows(screen))
    focus = focused(screen)
    assert focus is not None
    assert panel_title(screen).startswith(f"╭─ ▶ {focus}"), screen  # the panel names it
    # Until the focused turn ends: the focus stays although other threads stream, rows keep
    # their order, queue and elapsed are visible, and streamed text keeps its spaces in the
    # rows and in the panel.
    seen_elapsed = False
    while "completed" not in panel_title(screen):
        table = rows(screen)
        if set(table) == short:  # (not a frame half drawn)
            assert list(table) == order, screen
            assert focused(screen) == focus, screen
            assert panel_text(screen).replace("…", "") in message[focus], screen
            for thread_id, line in table.items():
                status = cell(screen, line, "STATUS")
                assert status in STATUSES, screen
                if status in ("running", "starting"):
                    assert cell(screen, line, "QUEUE") in ("1", "2"), screen
                if status == "running":
                    assert ELAPSED.match(cell(screen, line, "ELAPSED")), screen
                    seen_elapsed = True
                    preview = cell(screen, line, "LAST MESSAGE").lstrip("…")
                    assert preview in message[thread_id], screen
        screen = terminal.screen()
    assert seen_elapsed
    # The focused reply stays in view once its turn has ended: its last words, with spaces.
    assert focused(screen) == focus, screen
    assert LAST_WORDS in panel_text(screen), screen
    screen = terminal.wait_for(lambda s: "6 threads: 6 idle" in s, "every thread to finish")
    assert list(rows(screen)) == order, screen
    assert_one_frame(screen, width, height)
    terminal.send("q")
    terminal.wait_for(lambda s: terminal.exited(), "t3 run to quit on q")
    assert terminal.exit_status() == 130
    # The normal screen keeps a summary of every thread.
    screen = terminal.history()
    assert "t3 run stopped · 6 threads: 6 idle" in screen, screen
    assert set(rows(screen)) == short, screen


def test_thirty_threads_fit_with_a_summary_row_and_survive_resizes(
    engine: Engine, home: Path, terminal: Terminal
) -> None:
    def message(n: int) -> str:
        if n % 10 == 3:
            return f"FAIL number {n}"
        if n % 10 == 7:
            return f"HANG number {n}"
        return f"{n} {WORDS}"

    ids = []
    for n in range(30):
        thread_id = create_thread(engine, provider="slow", title=f"thirty {n}")
        queue(engine, thread_id, message(n))
        ids.append(thread_id[:8])
    terminal.start(t3_command(home, "run"), width=80, height=24)

    def settled(screen: str) -> bool:  # failures and hangs are in, text is streaming
        return "3 blocked" in screen and "3 running" in screen and bool(panel_text(screen))

    def check_small(screen: str) -> None:
        assert_one_frame(screen, 80, 24)
        shown = rows(screen)
        assert set(shown) <= set(ids), screen
        match = SUMMARY.search(screen)
        assert match is not None, screen
        counts = {
            status: int(number)
            for number, status in (part.split(" ") for part in match["counts"].split(", "))
        }
        assert set(counts) <= STATUSES, screen
        assert int(match["total"]) == sum(counts.values()) == 30 - len(shown), screen
        # The busiest rows stay in view: every running and blocked thread is shown.
        for line in shown.values():
            assert cell(screen, line, "STATUS") in STATUSES
        assert "running" not in counts and "blocked" not in counts, screen
        assert panel_title(screen), screen  # the panel did not fall off

    screen = terminal.wait_for(
        lambda s: settled(s) and "3 running" in s and SUMMARY.search(s) is not None,
        "30 threads settled",
    )
    check_small(screen)
    terminal.resize(200, 50)
    screen = terminal.wait_for(
        lambda s: set(rows(s)) == set(ids) and terminal.size() == (200, 50), "every row at 200x50"
    )
    assert SUMMARY.search(screen) is None, screen
    assert_one_frame(screen, 200, 50)
    terminal.resize(80, 24)
    screen = terminal.wait_for(
        lambda s: SUMMARY.search(s) is not None and len(s.rstrip("\n").split("\n")) <= 24,
        "the summary row back at 80x24",
    )
    screen = terminal.wait_for(lambda s: settled(s) and SUMMARY.search(s) is not None, "a frame")
    check_small(screen)
    terminal.send("q")
    terminal.wait_for(lambda s: terminal.exited(), "t3 run to quit on q")
    assert terminal.exit_status() == 130

"""An agent's reply (or a title) carrying terminal escape sequences never reaches the terminal raw:
the live view shows them as visible escapes (`\\x1b]0;...`), so they cannot retitle the window,
clear the screen or write the clipboard (OSC 52)."""

from __future__ import annotations

from pathlib import Path

import pytest

from t3cli.engine import Engine
from tests.conftest import create_thread
from tests.reactor.conftest import queue
from tests.tmux.conftest import Terminal, rows, t3_command

pytestmark = pytest.mark.tmux

HOSTILE = (
    "start \x1b]0;PWNED-TITLE\x07 then \x1b[2J clear \x1b]52;c;UFdORUQtQ0xJUA==\x07 clip"
    " \x1b[31mred\x1b[0m \u202eevil end of reply"
)


def test_escape_sequences_in_replies_and_titles_are_shown_not_obeyed(
    engine: Engine, home: Path, terminal: Terminal
) -> None:
    thread_id = create_thread(engine, provider="slow", title="title \x1b]2;PWNED-TOO\x07 here")
    queue(engine, thread_id, HOSTILE)
    terminal.start(t3_command(home, "run"), width=160, height=30)
    screen = terminal.wait_for(
        lambda s: "completed" in s and "end of reply" in s, "the hostile reply in the panel"
    )
    assert thread_id[:8] in rows(screen)
    for visible in ("\\x1b]0;PWNED-TITLE\\x07", "\\x1b[2J", "\\x1b]52;c;", "\\u202e"):
        assert visible in screen, screen
    assert "\\x1b]2;PWNED-TOO\\x07" in screen, screen  # the title, in the row and the panel
    assert screen.startswith("t3 run"), screen  # not cleared
    assert "PWNED" not in terminal.pane("#{pane_title}")
    assert terminal.tmux("list-buffers").stdout == ""  # nothing reached the clipboard
    terminal.send("q")
    terminal.wait_for(lambda s: terminal.exited(), "t3 run to quit")
    # The summary printed on the normal screen is just as safe.
    assert "\\x1b]0;PWNED-TITLE" in terminal.history() or "\\x1b]2;PWNED-TOO" in terminal.history()
    assert "PWNED" not in terminal.pane("#{pane_title}")
    assert terminal.tmux("list-buffers").stdout == ""

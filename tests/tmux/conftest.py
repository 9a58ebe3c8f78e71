"""Real terminals for the live-view tests: a private tmux server per test.

- `terminal`: a `Terminal` on its own tmux socket (`tmux -L NAME`, killed after the test), with a
  fixed size, that runs one command in a shell and reads the screen back with `capture-pane`.
  Every wait polls the screen (or the database) until a condition holds; nothing sleeps and then
  asserts.
- `home`: `$T3_HOME` with a config of echo providers that stream slowly (`slow`: 4 characters
  every 0.12 s) and fail (`FAIL`) or hang (`HANG`) on demand.

tmux is installed by `.ci/run`. Without it these tests skip with a reason, except under
`CI=true`, where a missing tmux is a failure (it should have been installed).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import t3_executable

CONFIG = """
[reactor]
poll_interval_ms = 20

[providers.slow]
kind = "echo"
chunk_chars = 4
delay_s = 0.12
fail_pattern = "FAIL"
hang_pattern = "HANG"
"""
# A reply whose chunks (4 characters) split words and spaces alike.
WORDS = (
    "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november"
    " oscar papa quebec romeo"
)
LAST_WORDS = "oscar papa quebec romeo"
ROW = re.compile(r"^(?P<mark>[▶ ]) (?P<id>[0-9a-f]{8})  ")
TIMEOUT_S = 60.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if shutil.which("tmux") is not None:
        return
    if os.environ.get("CI") == "true":
        return  # the tests run and fail: .ci/run should have installed tmux
    skip = pytest.mark.skip(reason="tmux is not installed (the live-view tests need a terminal)")
    for item in items:
        if "tests/tmux/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(skip)


class Terminal:
    """One tmux session (`t3`) on a private server.

    The command runs under a shell that outlives it and writes its exit status to a file: the
    test learns how the command ended from that file, not from tmux (tmux 3.3 can leave an
    exited pane's process unreaped, its status unknown, under load). The shell traps SIGINT
    (a trap, not an ignore: the command still gets the default disposition), so a Ctrl-C
    reaches the command alone, as in an interactive shell.
    """

    def __init__(self, config_file: Path, status_file: Path) -> None:
        self.base = ["tmux", "-L", f"t3-test-{uuid.uuid4().hex[:12]}", "-f", str(config_file)]
        self.status_file = status_file

    def tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.base, *args], capture_output=True, text=True, check=False, timeout=30
        )

    def start(self, shell_command: str, *, width: int, height: int) -> None:
        """Run `shell_command` in a new session of `width` x `height` cells; the pane stays
        after it exits (its screen can still be read)."""
        status = shlex.quote(str(self.status_file))
        script = f"trap : INT; {shell_command}; echo $? > {status}.new && mv {status}.new {status}"
        done = self.tmux(
            "new-session", "-d", "-s", "t3", "-x", str(width), "-y", str(height),
            f"sh -c {shlex.quote(script)}",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "t3").stdout

    def history(self) -> str:
        """The screen with the lines scrolled above it (tmux's own "Pane is dead" line, once
        the command exited, scrolls the screen by one)."""
        return self.tmux("capture-pane", "-p", "-t", "t3", "-S", "-500").stdout

    def lines(self) -> list[str]:
        """The screen's lines, trailing blank lines dropped."""
        lines = self.screen().rstrip("\n").split("\n")
        while lines and not lines[-1].strip():
            lines.pop()
        return lines

    def wait_for(self, check: Callable[[str], bool], what: str, timeout: float = TIMEOUT_S) -> str:
        """Poll the screen until `check(screen)` holds; return that screen."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if check(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out waiting for {what}; the screen:\n{screen}\n{self.processes()}"
                )
            time.sleep(0.05)

    def processes(self) -> str:
        """The pane's process and its children (for a timeout's report)."""
        pid = self.pane("#{pane_pid}")
        if not pid.isdigit():
            return "(no pane process)"
        tree = subprocess.run(
            ["ps", "-o", "pid,ppid,stat,etime,args", "--pid", pid, "--ppid", pid],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        return f"pane process and children:\n{tree.stdout}"

    def send(self, *keys: str) -> None:
        done = self.tmux("send-keys", "-t", "t3", *keys)
        assert done.returncode == 0, done.stderr

    def resize(self, width: int, height: int) -> None:
        done = self.tmux("resize-window", "-t", "t3", "-x", str(width), "-y", str(height))
        assert done.returncode == 0, done.stderr

    def size(self) -> tuple[int, int]:
        out = self.tmux("display-message", "-p", "-t", "t3", "#{pane_width} #{pane_height}")
        width, height = out.stdout.split()
        return int(width), int(height)

    def pane(self, fmt: str) -> str:
        return self.tmux("display-message", "-p", "-t", "t3", fmt).stdout.strip()

    def exited(self) -> bool:
        """The command (the whole shell command given to `start`) has exited."""
        return self.status_file.exists()

    def exit_status(self) -> int:
        """The command's exit status, as the shell saw it (128 + N for a death by signal N)."""
        return int(self.status_file.read_text())

    def close(self) -> None:
        self.tmux("kill-server")


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed, but CI=true: .ci/run should have installed it")
    conf = tmp_path / "tmux.conf"
    # remain-on-exit: the screen of a finished command can still be read; set-clipboard on:
    # an OSC 52 that reached the terminal would land in a tmux buffer (the security test).
    conf.write_text("set -g remain-on-exit on\nset -g set-clipboard on\nset -g status off\n")
    term = Terminal(conf, tmp_path / "exit-status")
    yield term
    term.close()


@pytest.fixture
def home(t3_home: Path) -> Path:
    t3_home.mkdir(parents=True, exist_ok=True)
    (t3_home / "config.toml").write_text(CONFIG)
    return t3_home


def t3_command(home: Path, *args: str, stdin_null: bool = False) -> str:
    """A shell command running `t3 ARGS` on `home`, the terminal's own size winning over a
    COLUMNS/LINES inherited from the test run."""
    command = " ".join(
        [
            "env -u COLUMNS -u LINES -u NO_COLOR",
            f"T3_HOME={shlex.quote(str(home))}",
            *map(shlex.quote, t3_executable()),
            *map(shlex.quote, args),
        ]
    )
    return command + (" < /dev/null" if stdin_null else "")


def rows(screen: str) -> dict[str, str]:
    """The table rows on the screen, by their 8-character id prefix."""
    found = {}
    for line in screen.split("\n"):
        match = ROW.match(line)
        if match:
            found[match.group("id")] = line
    return found


def header(screen: str) -> str:
    """The table's header line."""
    return next(line for line in screen.split("\n") if re.match(r"^ +ID  ", line))


def cell(screen: str, line: str, name: str) -> str:
    """The text of a table row `line` under the column `name`: from where its header starts
    to where the next one starts (a right-aligned column here is never wider than its header)."""
    spans = [m.start() for m in re.finditer(r"\S+(?: \S+)*", header(screen))]
    names = re.findall(r"\S+(?: \S+)*", header(screen))
    index = names.index(name)
    start = spans[index] if index else 0
    end = spans[index + 1] if index + 1 < len(spans) else len(line)
    return line[start:end].strip()

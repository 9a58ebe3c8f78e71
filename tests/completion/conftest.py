"""Real shells for the completion tests: a fresh account per shell with the README's install
recipe run in it, a `t3` world to complete against, and a tmux pane to press TAB in.

- `world`: a `T3_HOME` with threads (titles with commas and spaces), a configured `command`
  provider, and a project directory with two subdirectories; `env` runs `t3` from this venv.
- `account(shell)`: a new, empty HOME in which the README's recipe for `shell` (the ```sh block
  after `<!-- completion-SHELL -->`) was run by that shell; bash's HOME also gets the
  distribution's default `~/.bashrc` (`/etc/skel/.bashrc`), as `useradd -m` would give it.
- `Pane`: an interactive shell in a tmux pane of its own (its own server socket).

A missing shell, tmux or bash-completion skips the test with the reason, except under `CI=true`,
where `.ci/run` installs them: there it fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import REPO

BASH_COMPLETION = Path("/usr/share/bash-completion/bash_completion")
README = (REPO / "README.md").read_text()


def require(what: str, present: bool) -> None:
    """Skip (or, under CI=true, fail) when `what` is not installed."""
    if present:
        return
    message = f"{what} is not installed (.ci/run installs it)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def require_shell(shell: str) -> None:
    require(shell, shutil.which(shell) is not None)
    if shell == "bash":
        require("bash-completion", BASH_COMPLETION.is_file())


def recipe(shell: str) -> str:
    match = re.search(rf"<!-- completion-{shell} -->\s*```sh\n(.*?)\n```", README, re.S)
    assert match, f"README.md has no install recipe for {shell}"
    return match.group(1)


@dataclass
class World:
    home: Path  # T3_HOME
    project: Path  # a directory with subdir1/ and subdir2/
    threads: dict[str, str] = field(default_factory=dict)  # title -> id

    def env(self, account: Path) -> dict[str, str]:
        """A clean environment for a shell on `account`, with this venv's `t3` on PATH."""
        return {
            "HOME": str(account),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
            "T3_HOME": str(self.home),
            "TERM": "xterm-256color",
            "LANG": "C.UTF-8",
            "SHELL": "/bin/sh",
        }


@pytest.fixture
def world(
    t3_home: Path, tmp_path: Path, t3: Callable[..., subprocess.CompletedProcess[str]]
) -> World:
    project = tmp_path / "work"
    for sub in ("subdir1", "subdir2"):
        (project / sub).mkdir(parents=True)
    (project / "a-file").write_text("not a directory")
    t3_home.mkdir(parents=True, exist_ok=True)
    (t3_home / "config.toml").write_text(
        '[providers.smol]\nkind = "command"\nargv = ["llm", "-m", "SmolLM2"]\n'
    )
    created = World(t3_home, project)
    for title in ("fix login, then logout", "docs: the README", "fix flaky tests"):
        out = t3("new", "--project", str(project), "--title", title)
        assert out.returncode == 0, out.stderr
        created.threads[title] = out.stdout.strip()
    return created


@pytest.fixture
def account(tmp_path: Path, world: World) -> Callable[[str], Path]:
    def make(shell: str) -> Path:
        require_shell(shell)
        home = tmp_path / f"{shell}-home"
        home.mkdir(mode=0o700)
        skel = Path("/etc/skel/.bashrc")
        if shell == "bash":
            if skel.is_file():
                shutil.copy(skel, home / ".bashrc")
            else:  # not a Debian-like system: what its default ~/.bashrc does
                (home / ".bashrc").write_text(f". {BASH_COMPLETION}\n")
        done = subprocess.run(
            [shell, "-c", recipe(shell)], env=world.env(home), cwd=home, capture_output=True,
            text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return home

    return make


class Pane:
    """An interactive shell in a tmux pane; `tab(line)` types `line`, presses TAB and returns
    the screen once `expect` shows up on it."""

    def __init__(self, shell: str, env: dict[str, str], cwd: Path, socket: str) -> None:
        require("tmux", shutil.which("tmux") is not None)
        self.tmux = ["tmux", "-L", socket]
        subprocess.run(
            [*self.tmux, "-f", "/dev/null", "new-session", "-d", "-x", "160", "-y", "50",
             "-c", str(cwd), "env", "-i", *(f"{k}={v}" for k, v in env.items()), shell, "-i"],
            check=True, timeout=30,
        )  # fmt: skip
        self.keys("echo READY-$((40+2))", "Enter")
        self.wait(lambda screen: "READY-42" in screen)

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", "0", *keys], check=True, timeout=30)

    def screen(self) -> str:
        done = subprocess.run(
            [*self.tmux, "capture-pane", "-p", "-t", "0"], capture_output=True, text=True,
            timeout=30, check=False,
        )  # fmt: skip
        return done.stdout

    def wait(self, check: Callable[[str], bool], timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if check(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"the screen never showed what was expected:\n{screen}")
            time.sleep(0.1)

    def tab(self, line: str, expect: Callable[[str], bool], *, presses: int = 1) -> str:
        self.keys("C-u", "C-l")
        # Cleared down to the prompt: nothing left from before can satisfy `expect`.
        self.wait(lambda screen: len([ln for ln in screen.splitlines() if ln.strip()]) <= 1)
        self.keys("-l", line)
        for _ in range(presses):
            self.keys("Tab")
        return self.wait(expect)

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True, check=False, timeout=30)


@pytest.fixture
def pane(tmp_path: Path, world: World) -> Iterator[Callable[[str, Path], Pane]]:
    opened: list[Pane] = []

    def open_pane(shell: str, home: Path) -> Pane:
        socket = f"t3-completion-{os.getpid()}-{tmp_path.name}-{len(opened)}"
        opened.append(Pane(shell, world.env(home), world.project, socket))
        return opened[-1]

    yield open_pane
    for each in opened:
        each.close()


def command_line(screen: str) -> str:
    """The last prompt line on the screen (`...$ t3 ...`, `...# t3 ...`, `...% t3 ...`): what was
    typed, with what TAB inserted. bash lists candidates above a new prompt, zsh below it."""
    lines = [line for line in screen.splitlines() if re.search(r"[#$%>] t3\b", line)]
    return lines[-1] if lines else ""

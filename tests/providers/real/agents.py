"""The real agent CLIs at pinned versions, installed from npm once into a cache directory.

`install(agent)` returns the path of the agent's executable, installing it first if needed:

- where: `$T3_TEST_AGENTS_DIR`, else `$XDG_CACHE_HOME/t3cli-tests/npm`, else
  `~/.cache/t3cli-tests/npm` — never inside the repository; one directory per package@version;
- how: `npm install --prefix DIR PACKAGE@VERSION` (npm takes the native binary from the
  registry's platform package; nothing else is downloaded), under an exclusive file lock, so
  parallel test processes install each version once; a `.t3-installed` marker written last means
  a half-finished install is redone, never used;
- when that cannot work (no npm, the registry unreachable): `AgentUnavailable` with the reason.
  The suite skips with that reason, except under `CI=true`, where `.ci/run` installed Node and
  npm and a missing agent is a failure.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Final

INSTALL_TIMEOUT_S: Final = 600


@dataclass(frozen=True)
class Agent:
    """One pinned agent CLI."""

    kind: str  # the t3 provider kind: "codex" | "claude"
    package: str
    version: str
    executable: str  # its name under node_modules/.bin

    @property
    def id(self) -> str:
        return f"{self.kind}-{self.version}"


CODEX = Agent("codex", "@openai/codex", "0.169.0", "codex")
CLAUDE = Agent("claude", "@anthropic-ai/claude-code", "2.1.197", "claude")
CLAUDE_NEWER = Agent("claude", "@anthropic-ai/claude-code", "2.1.332", "claude")
AGENTS: Final = (CODEX, CLAUDE, CLAUDE_NEWER)


class AgentUnavailable(Exception):
    """The agent cannot be installed here; the message says why."""


def cache_root() -> Path:
    explicit = os.environ.get("T3_TEST_AGENTS_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "t3cli-tests" / "npm"


def install(agent: Agent) -> Path:
    """The agent's executable, installed into the cache first if needed (see module docstring)."""
    where = cache_root() / f"{agent.package.replace('/', '_')}@{agent.version}"
    executable = where / "node_modules" / ".bin" / agent.executable
    marker = where / ".t3-installed"
    if marker.exists() and executable.exists():
        return executable
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise AgentUnavailable("node and npm are not installed (.ci/run installs them)")
    where.mkdir(parents=True, exist_ok=True)
    with open(where.parent / f".{where.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test process may be installing it right now
        if marker.exists() and executable.exists():
            return executable
        try:
            done = subprocess.run(
                [npm, "install", "--prefix", str(where), "--no-save", "--no-audit", "--no-fund",
                 "--loglevel=error", f"{agent.package}@{agent.version}"],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT_S,
                check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise AgentUnavailable(
                f"npm install {agent.package}@{agent.version} took over {INSTALL_TIMEOUT_S} s"
            ) from None
        if done.returncode != 0 or not executable.exists():
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise AgentUnavailable(
                f"npm install {agent.package}@{agent.version} failed (exit {done.returncode}): "
                + " | ".join(tail)
            )
        marker.write_text(f"{agent.package}@{agent.version}\n")
    return executable

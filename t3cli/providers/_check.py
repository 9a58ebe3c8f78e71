"""`check()` for providers that run an executable: is it there, and which version is it.

Guarantees:

- Never hangs. The version command runs in its own process group with stdin /dev/null and is
  SIGKILLed as a group after `VERSION_TIMEOUT_S`; its output is read from temporary files rather
  than pipes, so a grandchild that keeps a pipe open cannot block us either.
- The version is read from stdout; stderr only when stdout says nothing. `WARNING:` lines are
  never a version (codex prints one on stderr under a temporary `CODEX_HOME`).
- An executable is only run to ask its version when we know how: `--version` for the agent CLIs,
  the table's `version_args` for a `command` provider (otherwise its `ARGV0 --version` might run a
  whole agent turn). Without them the version is simply not reported.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Final

from t3cli.providers._stream import reason_line
from t3cli.providers.base import ProviderCheck

VERSION_TIMEOUT_S: Final = 5.0


def check_executable(
    *,
    name: str,
    kind: str,
    binary: str,
    binary_key: str,
    env_extra: Mapping[str, str],
    version_args: Sequence[str] | None = ("--version",),
) -> ProviderCheck:
    """Resolve `binary` on PATH (as the turn would) and, unless `version_args` is None, run it
    with them to ask its version."""
    env = dict(os.environ)
    env.update(env_extra)
    resolved = shutil.which(binary, path=env.get("PATH", os.defpath))
    if resolved is None:
        not_exec = os.sep in binary and Path(binary).is_file()
        what = "is not executable" if not_exec else "not found"
        return ProviderCheck(
            name=name,
            kind=kind,
            executable=binary,
            found=False,
            version=None,
            problem=f"executable {what}: {binary!r} (set {binary_key} in config.toml)",
        )
    if version_args is None:
        return ProviderCheck(
            name=name, kind=kind, executable=resolved, found=True, version=None, problem=None
        )
    version, problem = _version([resolved, *version_args], env)
    return ProviderCheck(
        name=name, kind=kind, executable=resolved, found=True, version=version, problem=problem
    )


def _version(argv: list[str], env: dict[str, str]) -> tuple[str | None, str | None]:
    shown = shlex.join(argv)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            child = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=env,
                start_new_session=True,
            )
        except OSError as exc:
            return None, f"cannot run {argv[0]!r}: {exc.strerror or exc}"
        try:
            code = child.wait(timeout=VERSION_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _kill_group(child.pid)
            child.wait()
            return None, f"'{shown}' did not answer within {VERSION_TIMEOUT_S:g} s"
        stdout, stderr = _read(out), _read(err)
    if code != 0:
        detail = reason_line(stderr) or reason_line(stdout)
        return None, f"'{shown}' exited with code {code}" + (f": {detail}" if detail else "")
    return version_line(stdout) or version_line(stderr), None


def version_line(text: str) -> str | None:
    """The first line of a version command's output that is not empty and not a warning."""
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.upper().startswith("WARNING"):
            return line if len(line) <= 200 else line[:199] + "…"
    return None


def _read(file: IO[bytes]) -> str:
    file.seek(0)
    return file.read(64 * 1024).decode("utf-8", errors="replace")


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass

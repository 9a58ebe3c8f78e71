"""`check()` for providers that run an executable: is it there, and which version is it.

Guarantee: never hangs. `BINARY --version` runs in its own process group with stdin /dev/null and is
SIGKILLed as a group after `VERSION_TIMEOUT_S`; its output is read from a temporary file rather than
a pipe, so a grandchild that keeps a pipe open cannot block us either.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from t3cli.providers._stream import last_line
from t3cli.providers.base import ProviderCheck

VERSION_TIMEOUT_S: Final = 5.0


def check_executable(
    *,
    name: str,
    kind: str,
    binary: str,
    binary_key: str,
    env_extra: Mapping[str, str],
) -> ProviderCheck:
    """Resolve `binary` on PATH (as the turn would) and ask it for its version."""
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
    version, problem = _version(resolved, env)
    return ProviderCheck(
        name=name, kind=kind, executable=resolved, found=True, version=version, problem=problem
    )


def _version(executable: str, env: dict[str, str]) -> tuple[str | None, str | None]:
    with tempfile.TemporaryFile() as out:
        try:
            child = subprocess.Popen(
                [executable, "--version"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        except OSError as exc:
            return None, f"cannot run {executable!r}: {exc.strerror or exc}"
        try:
            code = child.wait(timeout=VERSION_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _kill_group(child.pid)
            child.wait()
            return None, f"'{executable} --version' did not answer within {VERSION_TIMEOUT_S:g} s"
        out.seek(0)
        text = out.read(64 * 1024).decode("utf-8", errors="replace")
    first = next((line.strip() for line in text.splitlines() if line.strip()), None)
    if code != 0:
        detail = last_line(text)
        return None, f"'{executable} --version' exited with code {code}" + (
            f": {detail}" if detail else ""
        )
    return first, None


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass

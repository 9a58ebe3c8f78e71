"""Shared behaviour of the fake agent executables in this directory (stdlib only).

Every fake:
- behaves like the real agent about stdin: if stdin is neither /dev/null nor a terminal, it reads it
  to the end first (`codex exec` prints "Reading additional input from stdin..." and does exactly
  that), so an inherited, open pipe makes the fake block, which is what proves that adapters give
  their agents /dev/null;
- appends a JSON line describing its invocation (argv, cwd, stdin text, selected env) to
  `$FAKE_RECORD` when that is set;
- when `$FAKE_PIDFILE` is set, starts a grandchild (a sleeping python) in its own process group
  and writes "PID GRANDCHILD_PID" there, so tests can prove the whole group was killed;
- picks a failure mode from the prompt: the word after `FAKE:` (e.g. "FAKE:hang_mid_turn").
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
from typing import Any

_MODE = re.compile(r"FAKE:([a-z_0-9]+)")


def mode_of(prompt: str) -> str:
    match = _MODE.search(prompt)
    return match.group(1) if match else "ok"


def _stdin_kind() -> str:
    try:
        info = os.fstat(0)
    except OSError:
        return "closed"
    if os.isatty(0):
        return "tty"
    if stat.S_ISCHR(info.st_mode) and info.st_rdev == os.stat(os.devnull).st_rdev:
        return "devnull"
    return "pipe" if stat.S_ISFIFO(info.st_mode) else "file"


def read_stdin_like_an_agent(announce: bool) -> tuple[str, str]:
    """(kind of stdin, text read). Blocks until EOF when stdin is an open pipe or a file."""
    kind = _stdin_kind()
    if kind in ("closed", "tty", "devnull"):
        return kind, ""
    if announce:
        sys.stderr.write("Reading additional input from stdin...\n")
        sys.stderr.flush()
    data = sys.stdin.buffer.read()
    return kind, data.decode("utf-8", errors="replace")


def record(argv: list[str], stdin_kind: str, stdin_text: str) -> None:
    path = os.environ.get("FAKE_RECORD")
    if not path:
        return
    entry = {
        "argv": argv,
        "cwd": os.getcwd(),
        "stdin_kind": stdin_kind,
        "stdin": stdin_text,
        "env": {k: v for k, v in os.environ.items() if k.startswith(("FAKE_", "T3TEST_"))},
        "pid": os.getpid(),
        "pgid": os.getpgid(0),
    }
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry) + "\n")


def spawn_grandchild_if_asked() -> None:
    path = os.environ.get("FAKE_PIDFILE")
    if not path:
        return
    # Same process group as the fake (no new session): killing the group must reach it.
    child = subprocess.Popen(
        [sys.executable, "-c", "import time\nwhile True: time.sleep(1)"],
        stdin=subprocess.DEVNULL,
    )
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(f"{os.getpid()} {child.pid}\n")


def emit(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def emit_raw(data: bytes) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def hang() -> None:
    while True:
        time.sleep(1)


def die(message: str, code: int) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
    sys.exit(code)


def sigkill_self() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), 9)
    hang()


def ignore_sigint() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)

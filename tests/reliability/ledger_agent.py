"""A fake coding agent that keeps a delivery ledger: what it received, when, and beside whom.

Run by a `command` provider (message on stdin). The message starts with a header line
`ledger msg=ID thread=KEY expect=N` (N: the message's length in UTF-8 bytes, header included);
the agent reads stdin slowly (8 KB every `LEDGER_READ_DELAY` seconds), then appends one JSON line
to `$LEDGER_DIR/ledger.jsonl`: msg, thread, expect, received (bytes read before EOF), pid, pgid,
start (time.time()), overlap. `overlap` is true when another agent of the same thread still held
the thread's lock file: the lock is an `flock` taken by the agent and inherited by a child it
starts in its process group, so it is released only when the whole group is gone.

Then it works for `LEDGER_WORK_S` seconds ("A-B": a random duration in that range), prints
`done ID` and exits 0. Modes (`LEDGER_MODE`):

- `normal`: as above;
- `hang`: works for ever (its pids go to `$LEDGER_DIR/pids`: "AGENT CHILD");
- `escape`: leaves its process group first, as a daemonising tool would: a child in a new session
  (stdout and stderr closed) waits for `$LEDGER_DIR/go` to exist, then reads stdin and writes its
  ledger line; the leader writes `$LEDGER_DIR/started` and hangs.
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

HEADER = re.compile(rb"ledger msg=(\S+) thread=(\S+) expect=(\d+)")


def header(msg: str, thread: str, filler_bytes: int) -> str:
    """A message for this agent: the header and `filler_bytes` of filler, its length stated."""
    body = ("lorem ipsum dolor sit amet " * (filler_bytes // 27 + 1))[:filler_bytes]
    for width in range(1, 12):
        line = f"ledger msg={msg} thread={thread} expect={{:0{width}d}}\n"
        total = len(line.format(0).encode()) + len(body.encode())
        if len(str(total)) <= width:
            return line.format(total) + body
    raise ValueError("message too long")


def read_slowly(delay: float) -> bytes:
    data = bytearray()
    while True:
        block = os.read(0, 8192)
        if not block:
            return bytes(data)
        data += block
        if delay:
            time.sleep(delay)


def work_seconds() -> float:
    low, _, high = os.environ.get("LEDGER_WORK_S", "0.1").partition("-")
    return random.uniform(float(low), float(high or low))


def deliver(ledger: Path, start: float) -> tuple[str, subprocess.Popen[bytes]]:
    """Read the message, take the thread's lock (in a child of the group too), write the line."""
    data = read_slowly(float(os.environ.get("LEDGER_READ_DELAY", "0.002")))
    found = HEADER.match(data)
    msg, thread, expect = (
        (found.group(1).decode(), found.group(2).decode(), int(found.group(3)))
        if found
        else ("?", "?", -1)
    )
    lock = os.open(ledger / f"{thread}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        overlap = False
    except BlockingIOError:
        overlap = True
    child = subprocess.Popen(  # same process group; holds the lock while it lives
        [sys.executable, "-c", "import sys, time; time.sleep(float(sys.argv[1]))", "3600"],
        pass_fds=(lock,), stdin=subprocess.DEVNULL,
    )  # fmt: skip
    line = {
        "msg": msg, "thread": thread, "expect": expect, "received": len(data),
        "pid": os.getpid(), "pgid": os.getpgid(0), "start": start, "overlap": overlap,
    }  # fmt: skip
    fd = os.open(ledger / "ledger.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (json.dumps(line) + "\n").encode())
    finally:
        os.close(fd)
    return msg, child


def main() -> None:
    start = time.time()
    ledger = Path(os.environ["LEDGER_DIR"])
    mode = os.environ.get("LEDGER_MODE", "normal")
    if mode == "escape":
        if os.fork() == 0:
            os.setsid()
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            while not (ledger / "go").exists():
                time.sleep(0.02)
            _, child = deliver(ledger, start)
            child.kill()
            os._exit(0)
        (ledger / "started").write_text(str(os.getpid()))
        while True:
            time.sleep(1)
    msg, child = deliver(ledger, start)
    if mode == "hang":
        (ledger / "pids").write_text(f"{os.getpid()} {child.pid}")
        while True:
            time.sleep(1)
    time.sleep(work_seconds())
    child.kill()
    child.wait()
    sys.stdout.write(f"done {msg}\n")


if __name__ == "__main__":
    main()

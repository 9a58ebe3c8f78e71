"""Helpers for the reliability suite: real `t3` subprocesses, in-process `main()`, and log probes.

- `t3_env(home, **extra)`: the environment a `t3` subprocess runs with (`T3_HOME=home`).
- `run_t3(home, *args, input=..., env=...)`: one `t3` subprocess; stdout/stderr as text,
  `input` may be bytes (invalid UTF-8) or text.
- `spawn_t3(home, *args)`: a `t3` subprocess left running (the reactor), output to a file.
- `in_process(*args, input=...)`: `t3cli.cli.app.main` in this process, with captured streams.
- `log_state(db)`: (events count, max sequence) read without writing anything.
- `wait_until(check, timeout)`: a deadline, never a timing assertion.
- `sigkill_after(reactor, delay_s, ...)`: let a `t3 run` run, then SIGKILL it (it must not have
  exited by itself); `retry_some(db, rng, p)`: the "user" retries each failed item with
  probability p — the crash tests' two moves.
"""

from __future__ import annotations

import io
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import t3_executable

REPO = Path(__file__).resolve().parent.parent.parent
FAKES = REPO / "tests" / "fakes"


def t3_env(home: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("T3_", "FAKE_")) and k not in ("NO_COLOR", "_T3_COMPLETE")
    }
    env["T3_HOME"] = str(home)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return (
            f"exit {self.code}\n--- stdout\n{self.stdout[-2000:]}"
            f"\n--- stderr\n{self.stderr[-2000:]}"
        )


def run_t3(
    home: Path,
    *args: str,
    input: bytes | str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    cwd: Path | None = None,
    preexec: Callable[[], Any] | None = None,
    prefix: list[str] | None = None,
) -> Result:
    data = input.encode() if isinstance(input, str) else input
    proc = subprocess.run(
        [*(prefix or []), *t3_executable(), *args],
        check=False,
        input=data,
        stdin=None if data is not None else subprocess.DEVNULL,
        capture_output=True,
        env=env if env is not None else t3_env(home),
        timeout=timeout,
        cwd=cwd,
        preexec_fn=preexec,
    )
    return Result(
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )


def without_root_powers() -> list[str]:
    """A command prefix under which file modes bind even for root (tests run as root in some
    containers): drop the capabilities that bypass permission checks. [] when not root."""
    if os.geteuid() != 0:
        return []
    caps = "-dac_override,-dac_read_search"
    return ["setpriv", f"--bounding-set={caps}", f"--inh-caps={caps}"]


def spawn_t3(
    home: Path, *args: str, out: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    with out.open("ab") as sink:
        return subprocess.Popen(
            [*t3_executable(), *args],
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env if env is not None else t3_env(home),
        )


def in_process(*args: str, input: bytes | str | None = None) -> Result:
    """Run `main(args)` here with captured stdin/stdout/stderr (T3_HOME from the environment)."""
    from t3cli.cli.app import main

    data = input.encode() if isinstance(input, str) else (input or b"")
    saved = sys.stdin, sys.stdout, sys.stderr
    out, err = io.StringIO(), io.StringIO()
    sys.stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
    sys.stdout, sys.stderr = out, err
    try:
        code = main(list(args))
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
    return Result(code, out.getvalue(), err.getvalue())


def read_only(db: Path, *, immutable: bool = False) -> sqlite3.Connection:
    """A connection that can never write (nor run migrations). `immutable` also creates no
    -wal/-shm file (only for a checkpointed database nobody writes to)."""
    flags = "&immutable=1" if immutable else ""
    return sqlite3.connect(f"file:{db}?mode=ro{flags}", uri=True, timeout=30)


def log_state(db: Path, *, immutable: bool = False) -> tuple[int, int]:
    """(number of events, max sequence) of the log at `db`; (0, 0) when there is none."""
    if not db.exists():
        return (0, 0)
    conn = read_only(db, immutable=immutable)
    try:
        sql = "SELECT count(*), coalesce(max(sequence), 0) FROM events"
        count, head = conn.execute(sql).fetchone()
    finally:
        conn.close()
    return int(count), int(head)


def wait_until(check: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or check}")
        time.sleep(0.05)


def write_config(home: Path, text: str) -> Path:
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = home / "config.toml"
    path.write_text(text)
    return path


def reported_events_missing(reactor_output: str, db: Path) -> list[str]:
    """Events a `t3 run --json` reported (it reads them back from the log) that the durable log
    does not hold at that sequence: a commit the reactor saw that nobody else can. [] if none."""
    reported: list[dict[str, Any]] = []
    for line in reactor_output.splitlines():
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except ValueError:
                continue  # a line cut by SIGKILL
            if obj.get("sequence") is not None:
                reported.append(obj)
    conn = read_only(db)
    try:
        stored = {
            row[0]: (row[1], row[2])
            for row in conn.execute("SELECT sequence, type, stream_id FROM events")
        }
    finally:
        conn.close()
    return [
        f"#{obj['sequence']} {obj['event']} {obj['thread_id'][:8]}:"
        f" the log has {stored.get(obj['sequence'])}"
        for obj in reported
        if stored.get(obj["sequence"]) != (obj["event"], obj["thread_id"])
    ]


def sigkill_after(
    reactor: subprocess.Popen[bytes], delay_s: float, log: Path, seed: int
) -> None:
    """Let `reactor` run for `delay_s`, then SIGKILL it and reap it. Fails if it had exited by
    itself meanwhile (its output, in `log`, says why)."""
    time.sleep(delay_s)
    running = reactor.poll() is None
    reactor.send_signal(signal.SIGKILL)
    reactor.wait(timeout=30)
    assert running, f"`t3 run` exited by itself (seed {seed}):\n{log.read_text()[-3000:]}"


def retry_some(db: Path, rng: random.Random, probability: float) -> int:
    """`t3 retry` each failed queued item with `probability`, as a user reading the reasons
    would; returns how many were retried."""
    conn = read_only(db)
    try:
        failed = conn.execute(
            "SELECT thread_id, queue_item_id FROM queued_turns WHERE status = 'failed'"
        ).fetchall()
    finally:
        conn.close()
    retried = 0
    for thread, item in failed:
        if rng.random() < probability:
            out = in_process("retry", thread, item[:12])
            assert out.code == 0, out
            retried += 1
    return retried

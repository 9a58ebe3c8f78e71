"""Lease takeover: how soon a reactor takes over the threads of one that died on another host.

Setup: a fresh T3_HOME with `lease_ttl_s = TTL` and an echo provider whose `HANG` turns hang.
For each trial a new thread gets a `HANG` turn and reactor A (`t3 run`, `T3_HOST=bench-a`)
starts driving it; then reactor B (`t3 run`, `T3_HOST=bench-b`: another host, so B cannot see
that A's process is gone and must wait for the lease to expire) starts and finds the thread
leased; then A is SIGKILLed. Measured per trial, on the wall clock (the lease's `expires_at` is
wall-clock seconds; the recovery is read from the event's `occurred_at`, ms resolution):

- after kill: B's recovery of the turn (`thread.turn-completed`, "reactor stopped during the
  turn") minus the kill — between 2/3 TTL and TTL plus the reaction, depending on when A last
  renewed;
- after expiry: the same minus A's last `expires_at` — how late B reacts once it may.
"""

from __future__ import annotations

import calendar
import json
import os
import signal
import sqlite3
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.cli_startup import t3_command

CONFIG = """
[reactor]
poll_interval_ms = 20
lease_ttl_s = {ttl}

[providers.echo]
kind = "echo"
hang_pattern = "HANG"
"""
_DEADLINE_S = 60.0
_B_STARTS_S = 1.5  # B is up and has seen A's lease (a start-up takes ~0.5 s here)


@dataclass(frozen=True, slots=True)
class TakeoverResult:
    ttl_s: float
    after_kill_s: list[float]
    after_expiry_ms: list[float]


def _ms(stamp: str) -> float:
    seconds = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
    return seconds * 1000.0 + int(stamp[20:23])


def _env(home: Path, host: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("T3_")}
    env.update(T3_HOME=str(home), T3_HOST=host)
    return env


def _wait(check: object, what: str) -> None:
    deadline = time.monotonic() + _DEADLINE_S
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise RuntimeError(f"takeover benchmark: timed out waiting for {what}")
        time.sleep(0.01)


def _spawn(project: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*t3_command(), "run"], cwd=project, env=env,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _one(home: Path, conn: sqlite3.Connection, project: Path, trial: int) -> tuple[float, float]:
    made = subprocess.run(
        [*t3_command(), "new", "--title", f"takeover {trial}", "HANG until killed"],
        cwd=project, env=_env(home, "bench-a"), capture_output=True, text=True, check=True,
    )  # fmt: skip
    thread = made.stdout.strip()
    a = _spawn(project, _env(home, "bench-a"))
    b: subprocess.Popen[bytes] | None = None
    try:
        _wait(
            lambda: conn.execute(
                "SELECT count(*) FROM turns WHERE thread_id = ? AND status = 'running'", (thread,)
            ).fetchone()[0],
            "A's turn to run",
        )
        b = _spawn(project, _env(home, "bench-b"))
        time.sleep(_B_STARTS_S)
        a.send_signal(signal.SIGKILL)
        a.wait()
        killed = time.time()
        expires = conn.execute(
            "SELECT expires_at FROM thread_leases WHERE thread_id = ?", (thread,)
        ).fetchone()[0]
        recovered: list[str] = []

        def recovered_at() -> bool:
            for payload, at in conn.execute(
                "SELECT payload, occurred_at FROM events WHERE stream_id = ?"
                " AND type = 'thread.turn-completed'",
                (thread,),
            ):
                if json.loads(payload).get("error") == "reactor stopped during the turn":
                    recovered.append(at)
                    return True
            return False

        _wait(recovered_at, "B to take the thread over")
    finally:
        for proc in (a, b):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=60)
    at_ms = _ms(recovered[0])
    return (at_ms - killed * 1000) / 1000, at_ms - float(expires) * 1000


def measure(ttl_s: float, trials: int) -> TakeoverResult:
    with tempfile.TemporaryDirectory(prefix="t3-bench-takeover-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        (home / "config.toml").write_text(CONFIG.format(ttl=ttl_s))
        project = Path(tmp) / "project"
        project.mkdir()
        subprocess.run(
            [*t3_command(), "project", "add", str(project)],
            env=_env(home, "bench-a"), capture_output=True, check=True,
        )  # fmt: skip
        conn = sqlite3.connect(f"file:{home / 't3.db'}?mode=ro", uri=True, timeout=30)
        try:
            runs = [_one(home, conn, project, n) for n in range(trials)]
        finally:
            conn.close()
    return TakeoverResult(ttl_s, [r[0] for r in runs], [r[1] for r in runs])

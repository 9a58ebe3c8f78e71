"""Fixtures for the reactor tests: an echo-provider config, queueing helpers, and an in-process
reactor driven with `drain()`.

Providers configured in `$T3_HOME/config.toml`:
- `echo`: the built-in, with `hang_pattern = "HANG"` and `fail_pattern = "FAIL"`;
- `stream`: one-character deltas, no delay (the 10,000-delta test);
- `slow`: 5-character deltas every 50 ms, also hangs on "HANG";
- `stuck`: a session that never starts on "HANG" (`hang_at = "start"`);
- `timeout`: hangs on "HANG", turn timeout 1 s.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

from t3cli.config import Config, load_config
from t3cli.contracts import commands as c
from t3cli.contracts.ids import new_id
from t3cli.engine import Engine
from t3cli.reactor import Reactor, ReactorOptions
from tests.conftest import t3_executable

T = TypeVar("T")

CONFIG = """
[reactor]
poll_interval_ms = 20
lease_ttl_s = 3

[providers.echo]
kind = "echo"
hang_pattern = "HANG"
fail_pattern = "FAIL"

[providers.stream]
kind = "echo"
chunk_chars = 1
delay_s = 0

[providers.slow]
kind = "echo"
chunk_chars = 5
delay_s = 0.05
hang_pattern = "HANG"

[providers.stuck]
kind = "echo"
hang_pattern = "HANG"
hang_at = "start"

[providers.timeout]
kind = "echo"
hang_pattern = "HANG"
turn_timeout_s = 1
"""


@pytest.fixture
def config(t3_home: Path) -> Config:
    t3_home.mkdir(parents=True, exist_ok=True)
    path = t3_home / "config.toml"
    path.write_text(CONFIG)
    return load_config(path)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def queue(engine: Engine, thread_id: str, text: str) -> str:
    """Queue `text` on the thread (as `t3 queue` does); return the queued item id."""
    item = new_id()
    engine.dispatch(
        c.TurnQueue(
            command_id=new_id(),
            thread_id=thread_id,
            queue_item_id=item,
            message_id=new_id(),
            text=text,
        )
    )
    return item


def start_turn(engine: Engine, thread_id: str, text: str) -> str:
    """Request a turn now (as `t3 send --no-wait` does); return the turn id."""
    turn = new_id()
    engine.dispatch(
        c.TurnStart(
            command_id=new_id(), thread_id=thread_id, turn_id=turn, message_id=new_id(), text=text
        )
    )
    return turn


@asynccontextmanager
async def reactor(db_path: Path, config: Config, **options: Any) -> AsyncIterator[Reactor]:
    options.setdefault("poll_interval_s", 0.02)
    options.setdefault("lease_ttl_s", 3.0)
    r = Reactor(db_path, config, ReactorOptions(**options))
    await r.start()
    try:
        yield r
    finally:
        await r.close()


async def eventually(check: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    """Poll `check` until true; fail after a generous deadline (never a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.02)


def wait_until(check: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.05)


def count(conn: Any, sql: str, *params: Any) -> int:
    return int(conn.execute(sql, params).fetchone()[0])


def subprocess_env(t3_home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["T3_HOME"] = str(t3_home)
    env.pop("NO_COLOR", None)
    return env


def popen_t3(t3_home: Path, *args: str) -> subprocess.Popen[str]:
    """`t3 ARGS` as a background process on `t3_home`, its output piped as text."""
    return subprocess.Popen(
        [*t3_executable(), *args],
        env=subprocess_env(t3_home),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def turn_statuses(engine: Engine, thread_id: str) -> list[str]:
    """The statuses of the thread's turns, in the order they were requested."""
    return [
        row[0]
        for row in engine.conn.execute(
            "SELECT status FROM turns WHERE thread_id = ? ORDER BY requested_sequence", (thread_id,)
        )
    ]

"""Long replies end to end: a command agent printing megabytes, through the real reactor.

- `t3 send` prints the reply exactly; `t3 send --json`, `t3 show --json` and `t3 replay --check`
  read it back whole; and the database grows by little more than the reply itself: its text is
  stored once, in the log (it used to be three times: the log, the transcript's growing copy
  and the pages that copy left free).
- Ingesting a reply holds a bounded window of it, not the reply: Python's allocations during
  a 32 MB turn peak well below 32 MB (they used to hold it twice over).

Times per MB are measured by `bench/run.py` (group `reply`), not asserted here.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tracemalloc
from pathlib import Path

import pytest

from t3cli.config import Config, load_config
from t3cli.engine import Engine
from t3cli.providers.registry import get_provider
from t3cli.reactor import Reactor, ReactorOptions
from tests.conftest import create_thread
from tests.reactor.conftest import CONFIG, count, start_turn

# Prints N bytes (its message) of 80-byte lines, 64 KB at a time.
PRINTER = (
    "import sys\n"
    "line = b'x' * 79 + b'\\n'\n"
    "block = line * 819\n"
    "left = int(sys.argv[1])\n"
    "while left > 0:\n"
    "    sys.stdout.buffer.write(block[:left]); left -= len(block[:left])\n"
)
LONG_CONFIG = f"""
[providers.long]
kind = "command"
argv = [{sys.executable!r}, "-c", {PRINTER!r}]
input = "arg"
"""
MB = 1024 * 1024


def expected_reply(size: int) -> str:
    return (("x" * 79 + "\n") * (size // 80 + 1))[:size]


@pytest.fixture
def long_config(t3_home: Path) -> Config:
    t3_home.mkdir(parents=True, exist_ok=True)
    (t3_home / "config.toml").write_text(CONFIG + LONG_CONFIG)
    return load_config(t3_home / "config.toml")


def db_bytes(home: Path) -> int:
    return sum(p.stat().st_size for p in home.glob("t3.db*") if p.name != "t3.db-shm")


def test_a_long_reply_is_printed_stored_once_and_read_back_whole(
    engine: Engine, t3_home: Path, long_config: Config, tmp_path: Path, t3: object
) -> None:
    thread_id = create_thread(engine, path=str(tmp_path), provider="long")
    engine.conn.close()  # every connection closed: the WAL is checkpointed into t3.db
    size = 80 * 40_000  # 3.2 MB of 80-byte lines
    before = db_bytes(t3_home)
    run = t3  # the `t3` fixture: the real console script
    sent = run("send", thread_id, str(size), timeout=120)  # type: ignore[operator]
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout == expected_reply(size)  # it ends with a newline: none is added
    growth = db_bytes(t3_home) - before
    assert growth <= 1.3 * size, f"the database grew {growth / size:.2f}x the reply"

    shown = json.loads(run("show", "--json", thread_id).stdout)  # type: ignore[operator]
    assert [m["text"] for m in shown["messages"] if m["role"] == "assistant"] == [
        expected_reply(size)
    ]
    again = run("send", "--json", thread_id, str(MB + 7), timeout=120)  # type: ignore[operator]
    assert json.loads(again.stdout)["reply"] == expected_reply(MB + 7)
    plain = run("send", thread_id, "85", timeout=120)  # type: ignore[operator]
    assert plain.stdout == expected_reply(85) + "\n"  # a reply that ends mid-line gets one
    check = run("replay", "--check")  # type: ignore[operator]
    assert check.returncode == 0, check.stdout


def test_ingesting_a_long_reply_holds_a_window_not_the_reply(
    engine: Engine, db_path: Path, long_config: Config, tmp_path: Path
) -> None:
    thread_id = create_thread(engine, path=str(tmp_path), provider="long")
    size = 32 * MB
    start_turn(engine, thread_id, str(size))
    get_provider(long_config, "long")  # its imports are the process's, not the turn's

    async def scenario() -> int:
        options = ReactorOptions(poll_interval_s=0.02, lease_ttl_s=3.0)
        async with Reactor(db_path, long_config, options) as reactor:
            tracemalloc.start()
            try:
                await reactor.drain()
                return tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()

    peak = asyncio.run(scenario())
    done = "SELECT count(*) FROM turns WHERE status = 'completed'"
    assert count(engine.conn, done) == 1
    assert peak < size / 2, f"peak {peak / MB:.1f} MB of Python allocations for a 32 MB reply"

"""Fresh T3_HOMEs for the reactor benchmarks: a config, a project, threads, queued turns.

Everything is written through the real `Engine` (batched with `dispatch_many`), as `t3 new` and
`t3 queue` would, so the reactor starts from an ordinary database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from t3cli.config import Config, load_config
from t3cli.contracts import commands as c
from t3cli.contracts.ids import new_id
from t3cli.engine import Engine
from t3cli.store.db import connect

CONFIG = """
[reactor]

[providers.echo]
kind = "echo"
delay_s = 0
hang_pattern = "HANG"

[providers.stream]
kind = "echo"
chunk_chars = 1
delay_s = 0

[providers.busy]
kind = "echo"
delay_s = 0.2
hang_pattern = "HANG"
"""
BATCH = 500


def make_home(home: Path, *, max_concurrent: int | None = None) -> Config:
    """Create `home` with `config.toml` (echo providers: `echo` delay 0, `stream` one-character
    deltas, `busy` 200 ms per reply; `HANG` in a message hangs `echo` and `busy`)."""
    home.mkdir(parents=True, exist_ok=True)
    text = CONFIG
    if max_concurrent is not None:
        text = text.replace("[reactor]\n", f"[reactor]\nmax_concurrent = {max_concurrent}\n")
    (home / "config.toml").write_text(text)
    return load_config(home / "config.toml")


def open_engine(home: Path, durability: str = "normal") -> Engine:
    return Engine(connect(home / "t3.db", durability=durability))  # type: ignore[arg-type]


def create_threads(engine: Engine, count: int, provider: str = "echo") -> list[str]:
    """One project and `count` threads in it; returns the thread ids (in creation order)."""
    project_id = new_id()
    engine.dispatch(
        c.ProjectCreate(
            command_id=new_id(), project_id=project_id, path=f"/tmp/t3-bench-{project_id[:8]}",
            title="bench", default_provider=provider,
        )
    )  # fmt: skip
    ids = [new_id() for _ in range(count)]
    commands: list[c.Command] = [
        c.ThreadCreate(command_id=new_id(), thread_id=t, project_id=project_id,
                       provider=provider, title=f"bench {n}")
        for n, t in enumerate(ids)
    ]  # fmt: skip
    dispatch_all(engine, commands)
    return ids


def queue_commands(pairs: Iterable[tuple[str, str]]) -> list[c.Command]:
    return [
        c.TurnQueue(command_id=new_id(), thread_id=t, queue_item_id=new_id(),
                    message_id=new_id(), text=text)
        for t, text in pairs
    ]  # fmt: skip


def dispatch_all(engine: Engine, commands: list[c.Command]) -> None:
    """Commit `commands` in batches; raise if any was rejected."""
    for start in range(0, len(commands), BATCH):
        for outcome in engine.dispatch_many(commands[start : start + BATCH]):
            if isinstance(outcome, Exception):
                raise outcome


def count(conn: sqlite3.Connection, sql: str, *params: object) -> int:
    return int(conn.execute(sql, params).fetchone()[0])

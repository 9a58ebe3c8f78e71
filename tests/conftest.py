"""Shared fixtures: real SQLite files in temporary homes, and the real `t3` entry point.

- `t3_home`: a fresh `T3_HOME` directory, set in the environment for the test (and for any
  subprocess it starts).
- `fresh_db` / `engine`: a connection to `$T3_HOME/t3.db` and an `Engine` over it.
- `make_thread(engine)`: registers a project and creates a thread; returns the thread id.
- `event_record(thread_id, event_type, **payload)`: an event of a thread as read from the log,
  for feeding observers and views on plain values.
- `t3`: runs the installed `t3` console script as a subprocess (`t3("queue", tid, "hi")`),
  returning `CompletedProcess` with text stdout/stderr.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from t3cli.contracts import commands as c
from t3cli.contracts.events import EventRecord
from t3cli.contracts.ids import derived_id, new_id
from t3cli.engine import Engine
from t3cli.store.db import connect

REPO = Path(__file__).resolve().parent.parent
FAKES = REPO / "tests" / "fakes"


@pytest.fixture
def t3_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "t3home"
    monkeypatch.setenv("T3_HOME", str(home))
    for var in ("T3_DATABASE", "T3_CONFIG", "T3_DEFAULT_PROVIDER", "NO_COLOR"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def db_path(t3_home: Path) -> Path:
    return t3_home / "t3.db"


@pytest.fixture
def fresh_db(db_path: Path) -> Iterator[sqlite3.Connection]:
    conn = connect(db_path)
    yield conn
    conn.close()


@pytest.fixture
def engine(fresh_db: sqlite3.Connection) -> Engine:
    return Engine(fresh_db)


def create_thread(
    engine: Engine,
    *,
    path: str = "/tmp/t3-test-project",
    provider: str = "echo",
    title: str | None = None,
) -> str:
    """Register `path` as a project (once) and create a thread in it; return the thread id."""
    project_id = derived_id("project", path)
    exists = engine.conn.execute(
        "SELECT 1 FROM projects WHERE project_id = ?", (project_id,)
    ).fetchone()
    if not exists:
        engine.dispatch(
            c.ProjectCreate(
                command_id=new_id(),
                project_id=project_id,
                path=path,
                title=Path(path).name,
                default_provider=provider,
            )
        )
    thread_id = new_id()
    engine.dispatch(
        c.ThreadCreate(
            command_id=new_id(),
            thread_id=thread_id,
            project_id=project_id,
            provider=provider,
            title=title or f"thread {thread_id[:8]}",
        )
    )
    return thread_id


@pytest.fixture
def make_thread() -> Callable[..., str]:
    return create_thread


_SEQUENCE = iter(range(1, 1 << 62))


def event_record(thread_id: str, event_type: str, **payload: object) -> EventRecord:
    """An event of `thread_id` as a reader of the log gets it (sequence numbers increase)."""
    return EventRecord(
        sequence=next(_SEQUENCE), event_id="e", stream_kind="thread", stream_id=thread_id,
        stream_version=1, type=event_type, payload={"thread_id": thread_id, **payload},
        schema_version=1, command_id=None, causation_event_id=None, correlation_id=None,
        actor="reactor", occurred_at="2026-11-22T20:09:32.123Z",
    )  # fmt: skip


def t3_executable() -> list[str]:
    exe = shutil.which("t3", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "t3cli"]


@pytest.fixture
def t3(t3_home: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(
        *args: str,
        input: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 60,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        full_env = dict(os.environ)
        full_env["T3_HOME"] = str(t3_home)
        if env:
            full_env.update(env)
        return subprocess.run(
            [*t3_executable(), *args],
            check=False,
            input=input,
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
            cwd=cwd,
            stdin=None if input is not None else subprocess.DEVNULL,
        )

    return run

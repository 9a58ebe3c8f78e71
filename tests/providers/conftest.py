"""Fixtures for the provider tests: real fake executables, real subprocesses, real config tables."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from t3cli.config import Config
from t3cli.contracts.runtime import RuntimeEvent, SessionStarted, TurnCompleted
from t3cli.providers.base import Provider, TurnRequest, TurnRun
from t3cli.providers.registry import get_provider

FAKES = Path(__file__).resolve().parent.parent / "fakes"


def make_provider(name: str, table: dict[str, Any]) -> Provider:
    return get_provider(Config(providers={name: table}), name)


def request(
    cwd: Path,
    message: str = "hello there",
    *,
    resume: str | None = None,
    thread_id: str = "th1",
    turn_id: str = "tu1",
    model: str | None = None,
    session_usage: dict[str, int] | None = None,
) -> TurnRequest:
    return TurnRequest(
        thread_id=thread_id,
        turn_id=turn_id,
        cwd=cwd,
        message=message,
        resume_session_id=resume,
        model=model,
        session_usage=session_usage,
    )


async def collect(
    run: TurnRun,
    *,
    after_first: Callable[[TurnRun], Awaitable[None]] | None = None,
) -> list[RuntimeEvent]:
    """Drain `run.events()`; `after_first` runs (as a task) once the first event has arrived."""
    events: list[RuntimeEvent] = []
    task: asyncio.Task[None] | None = None
    async for event in run.events():
        events.append(event)
        if after_first is not None and task is None:
            task = asyncio.create_task(after_first(run))
    if task is not None:
        await task
    return events


def run_turn(provider: Provider, req: TurnRequest, **kwargs: Any) -> list[RuntimeEvent]:
    return asyncio.run(collect(provider.start_turn(req), **kwargs))


def final(events: list[RuntimeEvent]) -> TurnCompleted:
    """The last event, checked to be the only TurnCompleted."""
    assert events, "no events at all"
    last = events[-1]
    assert isinstance(last, TurnCompleted), events
    assert sum(isinstance(e, TurnCompleted) for e in events) == 1, events
    return last


def session_id(events: list[RuntimeEvent]) -> str:
    ids = [e.provider_session_id for e in events if isinstance(e, SessionStarted)]
    assert len(ids) == 1, events
    return ids[0]


def of_type(events: list[RuntimeEvent], kind: type[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def read_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def wait_dead(pid: int, within_s: float = 5.0) -> bool:
    """Wait until `pid` is gone; SIGKILL delivery is asynchronous, reaping by init too."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.02)
    return not alive(pid)


def read_pids(path: Path, within_s: float = 5.0) -> tuple[int, int]:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            leader, grandchild = path.read_text().split()
            return int(leader), int(grandchild)
        time.sleep(0.02)
    raise AssertionError(f"fake never wrote {path}")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project directory outside any git repository."""
    path = tmp_path / "project"
    path.mkdir()
    return path


@pytest.fixture
def record(tmp_path: Path) -> Path:
    return tmp_path / "record.jsonl"


@pytest.fixture
def pidfile(tmp_path: Path) -> Path:
    return tmp_path / "pids"


@pytest.fixture(autouse=True)
def _no_stray_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's environment must not change what the fakes do.
    for key in list(os.environ):
        if key.startswith("FAKE_"):
            monkeypatch.delenv(key)

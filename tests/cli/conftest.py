"""CLI test helpers.

- `cli(*args, input=..., tty=...)`: runs `t3cli.cli.app.main` in-process with the given stdin
  (bytes or text) and captured stdout/stderr — the same code path as the console script,
  including the error-to-exit-code mapping, at a fraction of a subprocess's cost.
- `thread(title=...)`: creates a thread through the CLI and returns its id.
- `conn`: a read connection to the test database (for asserting on the log).
"""

from __future__ import annotations

import io
import json
import sqlite3
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from t3cli.cli.app import main


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


class FakeTTY(io.StringIO):
    """A stdout that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def run_main(*args: str, input: bytes | str | None = None, tty: bool = False) -> Outcome:
    data = input.encode() if isinstance(input, str) else (input or b"")
    stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
    stdout: io.StringIO = FakeTTY() if tty else io.StringIO()
    stderr = io.StringIO()
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = stdin, stdout, stderr
    try:
        code = main(list(args))
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
    return Outcome(code, stdout.getvalue(), stderr.getvalue())


@pytest.fixture
def cli(t3_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Outcome]:
    project = tmp_path / "proj"
    project.mkdir()
    monkeypatch.chdir(project)
    return run_main


@pytest.fixture
def thread(cli: Callable[..., Outcome]) -> Callable[..., str]:
    def create(title: str = "a thread", *extra: str) -> str:
        out = cli("new", "--title", title, *extra)
        assert out.code == 0, out.stderr
        return out.stdout.strip()

    return create


@pytest.fixture
def conn(t3_home: Path, cli: Callable[..., Outcome]) -> Iterator[sqlite3.Connection]:
    cli("paths")  # nothing created yet; the database appears with the first command that needs it
    from t3cli.store.db import connect

    db = connect(t3_home / "t3.db")
    yield db
    db.close()


def event_types(conn: sqlite3.Connection, command_id: str | None = None) -> list[str]:
    if command_id is None:
        rows = conn.execute("SELECT type FROM events ORDER BY sequence").fetchall()
    else:
        rows = conn.execute(
            "SELECT type FROM events WHERE command_id = ? ORDER BY sequence", (command_id,)
        ).fetchall()
    return [r[0] for r in rows]

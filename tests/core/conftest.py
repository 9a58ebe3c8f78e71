"""Fixtures for the core tests (helpers live in `tests/core/support.py`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from t3cli.engine import Engine

from .support import open_fast, project_command


@pytest.fixture
def fast_db(db_path: Path) -> Iterator[sqlite3.Connection]:
    """`$T3_HOME/t3.db` opened with `durability="normal"`, for tests that build big logs."""
    conn = open_fast(db_path)
    yield conn
    conn.close()


@pytest.fixture
def fast_engine(fast_db: sqlite3.Connection) -> Engine:
    """An engine over `fast_db` with the test project already registered."""
    engine = Engine(fast_db)
    engine.dispatch(project_command())
    return engine

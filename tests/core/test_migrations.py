"""Upgrading a database written by an earlier schema: nothing lost, nothing different from a
database created by this version, and the engine carries on from where the log stopped."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import sqlite_utils

from t3cli.contracts import commands as c
from t3cli.contracts.ids import new_id
from t3cli.domain.rejections import CommandRejected
from t3cli.engine import DispatchResult, Engine
from t3cli.store.db import connect, migration_set
from t3cli.store.schema import MIGRATIONS, SCHEMA_VERSION

from .support import (
    assert_log_contiguous,
    assert_replay_check_ok,
    build_log,
    queue_command,
)

# Every table a version-1 database holds, with its key (the order rows are compared in).
TABLES = {
    "events": "sequence",
    "command_receipts": "command_id",
    "projection_state": "projector",
    "projects": "project_id",
    "threads": "thread_id",
    "sessions": "thread_id",
    "turns": "turn_id",
    "queued_turns": "queue_item_id",
    "messages": "message_id",
    "activities": "activity_id",
    "thread_summaries": "thread_id",
}


def create_at_version(path: Path, version: int) -> None:
    """A database as t3cli at schema `version` created it: its migrations applied through
    sqlite-utils (which records them) and `user_version` set."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    migration_set(version).apply(sqlite_utils.Database(conn))
    conn.execute(f"PRAGMA user_version={version}")
    conn.close()


def copy_into_version_1(source: Path, target: Path) -> None:
    """A version-1 database at `target` holding every row of `source`."""
    create_at_version(target, 1)
    old = sqlite3.connect(target, isolation_level=None)
    old.execute("ATTACH DATABASE ? AS src", (str(source),))
    old.execute("BEGIN")
    for table in TABLES:
        # The columns version 1 has (later migrations add some, e.g. receipt fingerprints).
        columns = ", ".join(row[1] for row in old.execute(f"PRAGMA main.table_info({table})"))
        old.execute(f"INSERT INTO main.{table} SELECT {columns} FROM src.{table}")
    old.execute("COMMIT")
    old.execute("DETACH DATABASE src")
    assert old.execute("SELECT count(*) FROM sqlite_sequence WHERE name = 'events'").fetchone()
    old.close()


def rows(conn: sqlite3.Connection, table: str) -> list[tuple[object, ...]]:
    return conn.execute(f"SELECT * FROM {table} ORDER BY {TABLES[table]}").fetchall()


def schema(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    return conn.execute(
        "SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'"
        " AND name != '_sqlite_migrations' ORDER BY type, name"
    ).fetchall()


def populate(engine: Engine) -> list[str]:
    """A log with every kind of row: resolved, retried, pending, cancelled and moved items and a
    user command's rejection receipt."""
    thread_ids = build_log(engine, threads=4, cycles=6, pending_per_thread=3)
    first = thread_ids[0]
    items = engine.conn.execute(
        "SELECT queue_item_id FROM queued_turns WHERE thread_id = ? ORDER BY position", (first,)
    ).fetchall()
    engine.dispatch(
        c.QueuedTurnCancel(command_id=new_id(), thread_id=first, queue_item_id=items[0][0])
    )
    engine.dispatch(
        c.QueuedTurnMove(
            command_id=new_id(), thread_id=first, queue_item_id=items[2][0], to_position=1
        )
    )
    try:
        engine.dispatch(
            c.QueuedTurnCancel(command_id=new_id(), thread_id=first, queue_item_id=new_id())
        )
    except CommandRejected:
        pass
    return thread_ids


def test_a_version_1_database_is_upgraded_with_every_row_kept(tmp_path: Path) -> None:
    # The reference: the same rows, written by this version from the start.
    current_path = tmp_path / "current.db"
    current = connect(current_path)
    populate(Engine(current))
    assert (
        current.execute(
            "SELECT count(*) FROM command_receipts WHERE status = 'rejected'"
        ).fetchone()[0]
        == 1
    )

    old_path = tmp_path / "old.db"
    copy_into_version_1(current_path, old_path)

    upgraded = connect(old_path)
    assert upgraded.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    names = [row[0] for row in upgraded.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
    assert names == [name for name, _ in MIGRATIONS]
    for table in TABLES:
        assert rows(upgraded, table) == rows(current, table), table
    # Exactly the schema a new database gets: no leftover table, index or trigger.
    assert schema(upgraded) == schema(current)
    assert not upgraded.execute(
        "SELECT name FROM sqlite_sequence WHERE name LIKE 'events%'"
    ).fetchall()
    assert_replay_check_ok(upgraded)

    # The engine carries on: a new command appends right after the old head, and an old command
    # id replayed returns its original events (found through its receipt).
    engine = Engine(upgraded)
    head = upgraded.execute("SELECT max(sequence) FROM events").fetchone()[0]
    thread_id = upgraded.execute("SELECT thread_id FROM threads LIMIT 1").fetchone()[0]
    result = engine.dispatch(queue_command(thread_id, "after the upgrade"))
    assert isinstance(result, DispatchResult)
    assert result.events[0].sequence == head + 1
    old_id, first, last = upgraded.execute(
        "SELECT command_id, first_sequence, result_sequence FROM command_receipts"
        " WHERE command_type = 'thread.turn.queue' AND status = 'accepted' LIMIT 1"
    ).fetchone()
    again = engine.dispatch(
        c.TurnQueue(
            command_id=old_id,
            thread_id=thread_id,
            queue_item_id=new_id(),
            message_id=new_id(),
            text="a reused id",
        )
    )
    assert isinstance(again, DispatchResult) and again.duplicate
    assert [e.sequence for e in again.events] == list(range(first, last + 1))
    assert all(e.command_id == old_id for e in again.events)
    assert_log_contiguous(upgraded)
    assert_replay_check_ok(upgraded)
    # The log is still append-only after its table was rebuilt.
    for statement in ("UPDATE events SET type = 'x'", "DELETE FROM events"):
        try:
            upgraded.execute(statement)
        except sqlite3.DatabaseError as exc:
            assert "append-only" in str(exc)
        else:
            raise AssertionError(f"{statement} was allowed")
    upgraded.close()
    current.close()


def test_the_command_line_says_once_that_it_upgrades_an_old_database(
    tmp_path: Path, db_path: Path, t3: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    source = tmp_path / "source.db"
    conn = connect(source)
    thread_ids = build_log(Engine(conn), threads=2, cycles=1)
    conn.close()
    db_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    copy_into_version_1(source, db_path)

    first = t3("threads", "--json")
    assert first.returncode == 0, first.stderr
    assert f"upgrading {db_path} from schema 1 to {SCHEMA_VERSION}" in first.stderr
    assert {row["id"] for row in json.loads(first.stdout)} == set(thread_ids)
    again = t3("threads", "--json")
    assert again.returncode == 0 and again.stdout == first.stdout
    assert "upgrading" not in again.stderr

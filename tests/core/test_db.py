"""Opening the database: permissions, refusals that leave the file untouched, migrations."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from t3cli.contracts.ids import new_id
from t3cli.engine import Engine
from t3cli.errors import DatabaseError
from t3cli.store.db import connect
from t3cli.store.schema import MIGRATIONS, SCHEMA_VERSION

from .support import Trace, project_command, queue_command, thread_command


def snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    """Every file in `directory` with its bytes and mtime (ns)."""
    return {
        entry.name: (entry.read_bytes(), entry.stat().st_mtime_ns)
        for entry in sorted(directory.iterdir())
        if entry.is_file()
    }


@pytest.fixture
def umask_zero() -> Iterator[None]:
    # The modes must come from t3cli, not from a friendly umask.
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def populated(db_path: Path) -> None:
    conn = connect(db_path)
    engine = Engine(conn)
    engine.dispatch(project_command())
    thread_id = new_id()
    engine.dispatch(thread_command(thread_id))
    engine.dispatch(queue_command(thread_id))
    conn.close()


def test_directory_is_created_0700_and_files_0600(tmp_path: Path, umask_zero: None) -> None:
    home = tmp_path / "a" / "b" / "home"
    db_path = home / "t3.db"
    conn = connect(db_path)
    try:
        Engine(conn).dispatch(project_command())
        assert stat.S_IMODE(home.stat().st_mode) == 0o700
        assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
        for sidecar in ("t3.db-wal", "t3.db-shm"):
            path = home / sidecar
            assert path.exists(), "WAL mode keeps a -wal and a -shm file while open"
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, sidecar
    finally:
        conn.close()


def test_wal_mode_busy_timeout_and_durability(db_path: Path) -> None:
    conn = connect(db_path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.isolation_level is None  # Python never opens a deferred transaction
    finally:
        conn.close()
    bulk = connect(db_path, durability="normal")
    try:
        assert bulk.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    finally:
        bulk.close()


def test_every_write_of_a_dispatch_is_under_begin_immediate(db_path: Path) -> None:
    conn = connect(db_path)
    try:
        engine = Engine(conn)
        with Trace(conn) as trace:
            engine.dispatch(project_command())
            thread_id = new_id()
            engine.dispatch(thread_command(thread_id))
            engine.dispatch(queue_command(thread_id))
    finally:
        conn.close()
    in_tx = False
    for statement in trace.statements:
        word = statement.split()[0].upper()
        if word == "BEGIN":
            assert statement.upper().startswith("BEGIN IMMEDIATE"), statement
            in_tx = True
        elif word in ("COMMIT", "ROLLBACK"):
            in_tx = False
        elif word in ("INSERT", "UPDATE", "DELETE"):
            assert in_tx, f"write outside BEGIN IMMEDIATE: {statement}"
    assert sum(s.startswith("BEGIN IMMEDIATE") for s in trace.statements) == 3


@pytest.mark.parametrize("journal", ["wal", "delete"])
def test_newer_schema_is_refused_and_left_untouched(db_path: Path, journal: str) -> None:
    # "delete": a newer t3cli might have left the file in rollback-journal mode; switching it to
    # WAL before the version check would rewrite its header.
    populated(db_path)
    raw = sqlite3.connect(db_path, isolation_level=None)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw.execute(f"PRAGMA journal_mode = {journal}")
    raw.close()
    directory = db_path.parent
    before = snapshot(directory)
    assert set(before) == {"t3.db"}, "the checkpointed file alone holds the state"

    for kwargs in ({}, {"durability": "normal"}, {"migrate": False}):
        with pytest.raises(DatabaseError) as info:
            connect(db_path, **kwargs)  # type: ignore[arg-type]
        message = info.value.message
        assert f"schema {SCHEMA_VERSION + 1}" in message and "newer" in message
        assert "untouched" in message
        assert info.value.hint is not None and "upgrade" in info.value.hint
        assert snapshot(directory) == before, "a refused database must not be modified"

    check = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    assert check.execute("SELECT count(*) FROM events").fetchone()[0] == 4
    check.close()


@pytest.mark.parametrize(
    "content",
    [b"hello, this is a shopping list\n", b"\x00" * 4096, b"SQLite format 2\x00" + b"x" * 200],
    ids=["text", "zeros", "other-header"],
)
def test_a_file_that_is_not_sqlite_is_refused_untouched(db_path: Path, content: bytes) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(content)
    before = snapshot(db_path.parent)
    with pytest.raises(DatabaseError) as info:
        connect(db_path)
    assert "not a t3 database" in info.value.message and str(db_path) in info.value.message
    assert info.value.hint
    assert snapshot(db_path.parent) == before


@pytest.mark.parametrize("keep", [100, 4096, 0.5], ids=["mid-header", "first-page", "half"])
def test_a_truncated_database_gives_a_clear_error(db_path: Path, keep: float) -> None:
    populated(db_path)
    raw = sqlite3.connect(db_path, isolation_level=None)
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw.close()
    data = db_path.read_bytes()
    assert len(data) > 4 * 4096
    size = int(len(data) * keep) if isinstance(keep, float) else keep
    db_path.write_bytes(data[:size])
    with pytest.raises(DatabaseError) as info:
        conn = connect(db_path)
        try:  # if opening succeeds, the first read of the damaged pages must fail clearly
            Engine(conn).dispatch(queue_command(new_id()))
            conn.execute("SELECT count(*) FROM events").fetchall()
        finally:
            conn.close()
    assert "corrupt or truncated" in info.value.message, info.value.message
    assert info.value.hint is not None and "doctor" in info.value.hint
    assert db_path.stat().st_size == size


def test_a_missing_file_is_created_only_when_allowed(tmp_path: Path) -> None:
    path = tmp_path / "nothing" / "t3.db"
    with pytest.raises(DatabaseError):
        connect(path, create=False)
    assert not path.parent.exists()


def test_migrations_record_each_step_and_set_user_version(db_path: Path) -> None:
    conn = connect(db_path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        names = [row[0] for row in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
        assert names == [name for name, _ in MIGRATIONS]
    finally:
        conn.close()
    again = connect(db_path)  # reopening applies nothing twice
    try:
        assert again.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0] == len(
            MIGRATIONS
        )
    finally:
        again.close()


OPEN_SCRIPT = """
import sys, time
from pathlib import Path
from t3cli.store.db import connect
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.001)
conn = connect(Path(sys.argv[1]))
print(conn.execute("PRAGMA user_version").fetchone()[0])
conn.close()
"""


def test_processes_opening_a_fresh_file_at_once_migrate_it_once(tmp_path: Path) -> None:
    db_path = tmp_path / "home" / "t3.db"
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_SCRIPT, str(db_path), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    go.touch()
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert out.strip() == str(SCHEMA_VERSION)
    conn = connect(db_path)
    try:
        assert conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0] == len(
            MIGRATIONS
        )
        assert (
            conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'events'"
            ).fetchone()[0]
            == 1
        )
    finally:
        conn.close()


def test_the_log_is_append_only(db_path: Path) -> None:
    populated(db_path)
    conn = connect(db_path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE events SET payload = '{}' WHERE sequence = 1")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM events WHERE sequence = 1")
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 4
    finally:
        conn.close()


CLOSER = (
    "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]);"
    " c.execute('SELECT count(*) FROM events').fetchall(); c.close()"
)


def test_opening_again_in_process_keeps_the_open_connections_locks(db_path: Path) -> None:
    """Reading the header of a file this process has open would drop SQLite's POSIX locks: the
    next process to close its connection would then checkpoint and delete the WAL under us."""
    first = connect(db_path)
    try:
        engine = Engine(first)
        engine.dispatch(project_command())
        first.execute("PRAGMA wal_autocheckpoint = 0")  # keep the commits in the WAL
        thread_id = new_id()
        engine.dispatch(thread_command(thread_id))
        second = connect(db_path)  # a reactor opens one connection per worker
        subprocess.run([sys.executable, "-c", CLOSER, str(db_path)], check=True, timeout=60)
        assert Path(f"{db_path}-wal").exists(), "another process deleted the WAL we have open"
        engine.dispatch(queue_command(thread_id))
        second.close()
    finally:
        first.close()
    check = connect(db_path)
    try:
        assert check.execute("SELECT count(*) FROM events").fetchone()[0] == 4
    finally:
        check.close()


def test_a_file_replaced_at_the_same_path_is_checked_again(db_path: Path) -> None:
    connect(db_path).close()
    replacement = db_path.with_name("other")
    replacement.write_bytes(b"not a database at all\n")
    os.replace(replacement, db_path)
    with pytest.raises(DatabaseError, match="not a t3 database"):
        connect(db_path)

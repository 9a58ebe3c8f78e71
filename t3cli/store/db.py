"""Opening the database: file permissions, pragmas, schema checks and migrations.

Guarantees:
- The directory is created 0700 and the file 0600 (created so, not chmod-ed after the fact).
- A file that is not SQLite, or was written by a newer schema, is refused with a clear message and
  left byte-for-byte untouched (the checks run before any pragma that writes).
- Every write transaction is `BEGIN IMMEDIATE` (see `write_transaction`); the connection is in
  autocommit mode (`isolation_level=None`) so Python never opens a deferred transaction itself.
- Migrations run under the write lock, each atomically with its record, so two processes opening
  a fresh file at once cannot both apply one.
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from t3cli.errors import DatabaseError, DatabaseLocked
from t3cli.paths import ensure_private_dir
from t3cli.store.schema import MIGRATIONS, SCHEMA_VERSION

if TYPE_CHECKING:  # sqlite-utils costs ~95 ms to import: only when migrating
    from sqlite_utils.migrations import Migrations

Durability = Literal["full", "normal"]
DEFAULT_BUSY_TIMEOUT_MS = 10_000


def _busy_timeout_ms() -> int:
    raw = os.environ.get("T3_BUSY_TIMEOUT_MS")
    return int(raw) if raw and raw.isdigit() else DEFAULT_BUSY_TIMEOUT_MS


def _check_path(path: Path) -> None:
    # Never open() the database file from Python to peek at its header: closing *any* descriptor
    # of a file drops every POSIX lock this process holds on it, including the locks of SQLite
    # connections already open (the reactor holds several). Another process could then delete
    # the WAL under them and their commits would vanish. SQLite itself reports a file that is
    # not a database ("file is not a database", mapped by `translate`).
    if path.is_dir():
        raise DatabaseError(f"database path {path} is a directory")


def _create_private_file(path: Path) -> None:
    # Create the empty file ourselves with 0600 so that SQLite never creates it with the umask.
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    except PermissionError:
        raise DatabaseError(
            f"cannot create the database {path}: permission denied",
            hint="make the directory writable, or point T3_HOME at a writable directory",
        ) from None
    except OSError as exc:
        raise DatabaseError(f"cannot create the database {path}: {exc.strerror}") from None
    os.close(fd)


def translate(exc: sqlite3.Error, path: Path | str = "the database") -> DatabaseError:
    """Map an sqlite3 error to the user-facing `DatabaseError` that says what to do."""
    text = str(exc)
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return DatabaseLocked(
            f"{path} stayed locked by another t3 process past the busy timeout",
            hint="retry (with the same --command-id to be safe); raise T3_BUSY_TIMEOUT_MS if this"
            " persists",
        )
    if "readonly" in lowered or "read-only" in lowered:
        return DatabaseError(
            f"{path} is read-only: {text}",
            hint="make the file and its directory writable by you",
        )
    if "full" in lowered:
        return DatabaseError(
            f"{path}: the disk (or the database's size limit) is full; nothing was written",
            hint="free some space and retry",
        )
    if "file is not a database" in lowered:
        return DatabaseError(
            f"{path} is not a t3 database (not an SQLite file); it was left untouched",
            hint="move it away, or point T3_HOME at another directory",
        )
    if "malformed" in lowered or "not a database" in lowered or "corrupt" in lowered:
        return DatabaseError(
            f"{path} is corrupt or truncated: {text}",
            hint="`t3 doctor` checks it; restore a backup or move it away",
        )
    if "unable to open" in lowered:
        return DatabaseError(f"cannot open {path}: {text}", hint="check the path and permissions")
    return DatabaseError(f"database error on {path}: {text}")


def connect(
    path: Path,
    *,
    durability: Durability = "full",
    create: bool = True,
    migrate: bool = True,
    on_upgrade: Callable[[int, int], None] | None = None,
) -> sqlite3.Connection:
    """Open (creating if allowed) the t3 database at `path`, ready for use.

    `durability="full"` is for connections that acknowledge a user's command (a command that
    returned survives a power cut); `"normal"` is allowed for the reactor's bulk ingestion.
    `on_upgrade(from_version, to_version)` is called (under the write lock, once per database)
    just before an existing database of an older schema is migrated — not for a new one.
    Raises `DatabaseError` for every unusable file; never modifies a refused file.
    """
    if path.exists():
        _check_path(path)
    elif not create:
        raise DatabaseError(f"no database at {path}", hint="run any `t3` command to create one")
    else:
        ensure_private_dir(path.parent)
        _create_private_file(path)
    try:
        conn = sqlite3.connect(
            str(path),
            isolation_level=None,
            timeout=_busy_timeout_ms() / 1000,
            check_same_thread=False,
        )
    except sqlite3.Error as exc:
        raise translate(exc, path) from None
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            conn.close()
            raise DatabaseError(
                f"{path} was written by a newer t3cli (schema {version}; this one knows"
                f" {SCHEMA_VERSION}); it was left untouched",
                hint="upgrade t3cli (`pip install -U t3cli`)",
            )
        if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA busy_timeout={_busy_timeout_ms()}")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA synchronous={'FULL' if durability == 'full' else 'NORMAL'}")
        if version < SCHEMA_VERSION and migrate:
            _migrate(conn, on_upgrade)
    except sqlite3.Error as exc:
        conn.close()
        raise translate(exc, path) from None
    return conn


def migration_set(version: int) -> Migrations:
    """The sqlite-utils migrations that bring a database to schema `version` (each recorded in
    `_sqlite_migrations` as it is applied)."""
    import sqlite_utils
    from sqlite_utils.migrations import Migrations

    migrations = Migrations("t3cli")
    for name, statements in MIGRATIONS[:version]:

        def apply(database: sqlite_utils.Database, statements: list[str] = statements) -> None:
            for statement in statements:
                database.execute(statement)

        migrations(name=name)(apply)
    return migrations


def _migrate(
    conn: sqlite3.Connection, on_upgrade: Callable[[int, int], None] | None = None
) -> None:
    """Apply pending migrations under the write lock (BEGIN IMMEDIATE), each in a savepoint
    together with its record, and set `user_version` — all or nothing."""
    import sqlite_utils

    db = sqlite_utils.Database(conn)
    migrations = migration_set(SCHEMA_VERSION)
    with write_transaction(conn):
        # Re-read under the lock: another process may have migrated while we waited.
        current = conn.execute("PRAGMA user_version").fetchone()[0]
        if current >= SCHEMA_VERSION:
            return
        if current > 0 and on_upgrade is not None:
            on_upgrade(current, SCHEMA_VERSION)
        migrations.apply(db)
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


@contextmanager
def write_transaction(
    conn: sqlite3.Connection, *, attempts: int = 3
) -> Iterator[sqlite3.Connection]:
    """`BEGIN IMMEDIATE` … `COMMIT`, rolling back on any exception.

    Taking the write lock up front is what makes cross-process writes safe: a deferred transaction
    that reads and then writes can fail with SQLITE_BUSY that no busy timeout fixes. If the lock is
    not obtained within the busy timeout, it retries `attempts` times with jitter (SQLite's lock
    waiting is unfair), then raises `DatabaseLocked` (exit code 6).
    """
    for attempt in range(attempts):
        try:
            conn.execute("BEGIN IMMEDIATE")
            break
        except sqlite3.OperationalError as exc:
            if attempt == attempts - 1 or "locked" not in str(exc).lower():
                raise translate(exc) from None
            time.sleep(random.uniform(0.01, 0.1))
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise translate(exc) from None

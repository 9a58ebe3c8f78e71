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

from t3cli.errors import ConfigError, DatabaseCorrupt, DatabaseError, DatabaseLocked
from t3cli.paths import ensure_private_dir
from t3cli.store.schema import MIGRATIONS, SCHEMA_VERSION

if TYPE_CHECKING:  # sqlite-utils costs ~95 ms to import: only when migrating
    from sqlite_utils.migrations import Migrations

Durability = Literal["full", "normal"]
DEFAULT_BUSY_TIMEOUT_MS = 10_000


def _busy_timeout_ms() -> int:
    """`T3_BUSY_TIMEOUT_MS` (how long a write waits for the lock), else the default. Like every
    `T3_*` variable: empty counts as unset, anything but a non-negative integer is refused."""
    raw = os.environ.get("T3_BUSY_TIMEOUT_MS", "").strip()
    if not raw:
        return DEFAULT_BUSY_TIMEOUT_MS
    if not raw.isdigit():
        raise ConfigError(
            f"environment variable T3_BUSY_TIMEOUT_MS must be a whole number of milliseconds,"
            f" got {raw!r}",
            hint="unset T3_BUSY_TIMEOUT_MS, or set it to e.g. 10000",
        )
    return int(raw)


def _check_path(path: Path) -> None:
    # Never open() the database file from Python to peek at its header: closing *any* descriptor
    # of a file drops every POSIX lock this process holds on it, including the locks of SQLite
    # connections already open (the reactor holds several). Another process could then delete
    # the WAL under them and their commits would vanish. SQLite itself reports a file that is
    # not a database ("file is not a database", mapped by `translate`).
    if path.is_dir():
        raise DatabaseError(
            f"database path {path} is a directory",
            hint="point T3_DATABASE (or T3_HOME) at a file path, or move the directory away",
        )


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
        raise DatabaseError(
            f"cannot create the database {path}: {exc.strerror}",
            hint="check the directory (free space, permissions), or set T3_HOME elsewhere",
        ) from None
    os.close(fd)


def database_path(conn: sqlite3.Connection) -> str:
    """The file `conn` has open (for messages); "the database" when it cannot say."""
    try:
        row = conn.execute("PRAGMA database_list").fetchone()
    except sqlite3.Error:
        return "the database"
    return str(row[2]) if row and row[2] else "the database"


# The plain cases of `translate`: (SQLite error code prefix, words of its message, what to say,
# what to do). `{path}` and `{text}` (SQLite's message) are filled in.
_KNOWN_FAILURES: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    (
        "SQLITE_FULL",
        ("database or disk is full",),
        "{path}: the disk (or the database's size limit) is full; nothing was written",
        "free some space on that disk and retry (with the same --command-id to be safe)",
    ),
    (
        "SQLITE_NOTADB",
        ("file is not a database",),
        "{path} is not a t3 database (not an SQLite file); it was left untouched",
        "move it away, or point T3_HOME at another directory",
    ),
    (
        "SQLITE_CANTOPEN",
        ("unable to open",),
        "cannot open {path}: {text}",
        "check that its directory exists and is readable and writable by you",
    ),
    (
        "SQLITE_IOERR",
        ("disk i/o error",),
        "disk I/O error on {path}: {text}; nothing was written",
        "check the disk (free space, `dmesg`), then retry with the same --command-id",
    ),
)


def translate(exc: sqlite3.Error, path: Path | str = "the database") -> DatabaseError:
    """Map an sqlite3 error to the user-facing `DatabaseError` that says which failure it is
    (locked, read-only, corrupt, full, not a database, unopenable, I/O) and what to do. SQLite's
    error code decides; its message's words are the fallback."""
    name = str(getattr(exc, "sqlite_errorname", "") or "")
    text = str(exc)
    lowered = text.lower()

    def kind(code: str, *words: str) -> bool:
        return name.startswith(code) or any(word in lowered for word in words)

    if kind("SQLITE_BUSY", "locked", "busy") or name.startswith("SQLITE_LOCKED"):
        return DatabaseLocked(
            f"{path} stayed locked by another t3 process past the busy timeout",
            hint="retry (with the same --command-id to be safe); raise T3_BUSY_TIMEOUT_MS if this"
            " persists",
        )
    if kind("SQLITE_READONLY", "readonly", "read-only"):
        return _read_only(path)
    if kind("SQLITE_CORRUPT", "malformed", "corrupt"):
        return DatabaseCorrupt(
            f"{path} is corrupt or truncated: {text}",
            hint="`t3 doctor` checks it; restore a backup (then run `t3 doctor`) or move it away",
            detail=text,
        )
    for code, words, message, hint in _KNOWN_FAILURES:
        if kind(code, *words):
            return DatabaseError(message.format(path=path, text=text), hint=hint)
    return DatabaseError(
        f"database error on {path}: {text}",
        hint="`t3 doctor` checks the database; rerun with T3_DEBUG=1 for details",
    )


def _read_only(path: Path | str) -> DatabaseError:
    """Which part is read-only — the file, or the directory SQLite writes -wal/-shm in."""
    where = Path(path)
    if not where.is_absolute():
        return DatabaseError(
            f"{path} is read-only; nothing was written",
            hint="make the database file and its directory writable by you",
        )
    if where.exists() and not os.access(where, os.W_OK):
        return DatabaseError(
            f"{path} is read-only (the file is not writable by you); nothing was written",
            hint=f"make it writable (`chmod u+w {path}`), or set T3_HOME to a writable copy",
        )
    if not os.access(where.parent, os.W_OK):
        return DatabaseError(
            f"{path} is read-only: its directory {where.parent} is not writable by you (SQLite"
            " keeps t3.db-wal and t3.db-shm there); nothing was written",
            hint=f"make the directory writable (`chmod u+w {where.parent}`), or set T3_HOME to a"
            " writable copy",
        )
    return DatabaseError(
        f"{path} is read-only (mounted read-only, or opened read-only); nothing was written",
        hint="use a writable copy (set T3_HOME to its directory)",
    )


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
                raise translate(exc, database_path(conn)) from None
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
        raise translate(exc, database_path(conn)) from None

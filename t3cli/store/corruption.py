"""Remembering that a database was found corrupt, so that no later write is acknowledged on it.

SQLite notices damage only on the pages a statement reads: with random bytes inside the file,
`t3 show` may fail with "database disk image is malformed" while `t3 queue` — touching other
pages — succeeds and exits 0. Acknowledging a write into a file known to be damaged would
promise a durability the file cannot keep. So the first command that meets the damage leaves a
mark beside the database (`t3.db-corrupt`, holding what SQLite said), and every write command
refuses while the mark is there (exit 1, pointing at `t3 doctor`). `t3 doctor` removes the mark
once SQLite's full integrity check passes again (after a restore, or if the damage was in the
write-ahead log that a checkpoint since replaced).

Guarantees: marking never raises (a read-only directory just cannot remember); checking is one
`stat`; the mark is created 0600 like the database.
"""

from __future__ import annotations

import os
from pathlib import Path

from t3cli.errors import DatabaseCorrupt

SUFFIX = "-corrupt"


def mark_path(database: Path) -> Path:
    return Path(f"{database}{SUFFIX}")


def mark(database: Path, reason: str) -> None:
    """Remember that `database` was found corrupt (`reason`: what SQLite said). Best effort."""
    try:
        fd = os.open(mark_path(database), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError:
        return
    try:
        os.write(fd, (reason.strip() + "\n").encode("utf-8", "replace"))
    except OSError:
        pass
    finally:
        os.close(fd)


def marked(database: Path) -> str | None:
    """What an earlier command found, if `database` is marked corrupt; None otherwise."""
    try:
        return mark_path(database).read_text("utf-8", "replace").strip() or "corrupt"
    except OSError:
        return None


def clear(database: Path) -> bool:
    """Remove the mark (after an integrity check passed); True if there was one."""
    try:
        mark_path(database).unlink()
    except FileNotFoundError:
        return False
    return True


def refuse_writes_if_marked(database: Path) -> None:
    """Raise `DatabaseCorrupt` (exit 1) when `database` is marked corrupt: a write must not be
    acknowledged on it."""
    found = marked(database)
    if found is not None:
        raise DatabaseCorrupt(
            f"{database} was found corrupt by an earlier command ({found}); nothing was written",
            hint="`t3 doctor` checks it (and allows writes again once it passes); restore a"
            " backup or move the file away if it fails",
            detail=found,
        )

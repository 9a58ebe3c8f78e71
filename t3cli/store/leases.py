"""Thread leases: which reactor drives which thread.

A row of `thread_leases(thread_id, owner, expires_at)` says that `owner` (a reactor: `t3 run` or
the reactor embedded in `t3 send`) drives the thread until `expires_at` (Unix seconds, wall
clock, because several processes compare it). Guarantees:

- `acquire` is atomic under the write lock (`BEGIN IMMEDIATE`): for each thread it inserts a lease,
  renews one the caller already owns, or takes over one whose holder let it expire — and reports
  exactly the threads the caller owns afterwards. Two owners can never both be told they hold the
  same thread at the same time.
- `renew` only extends leases the caller still owns; a lease someone took over after it expired is
  reported as lost, never silently re-taken.
- `release` deletes only the caller's own rows.
- A lease held by a process of this host that no longer exists (its owner id names host and pid)
  counts as expired at once: a crashed `t3 run` does not block the next one for a whole TTL.
  A pid that was reused by another process merely delays the takeover until expiry. The host is
  `t3cli.host.host_name()` (`$T3_HOST`, else the host name).

Expiry uses the wall clock of the machine; leases are a same-host (or NTP-synchronised) mechanism.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Collection, Iterable, Iterator

from t3cli.contracts.ids import new_id
from t3cli.host import host_name
from t3cli.store.db import write_transaction

# SQLite limits the number of host parameters per statement (999 on old builds).
_CHUNK = 500


def new_owner() -> str:
    """An owner id for this process: `host:pid:random` (the random part makes a restarted process
    with a recycled pid a different owner)."""
    return f"{host_name()}:{os.getpid()}:{new_id()[:8]}"


def _dead_here(owner: str) -> bool:
    """True if `owner` names a process on this host that does not exist any more."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != host_name() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # someone else's live process
        return False
    return False


def _chunks(items: Collection[str]) -> Iterator[list[str]]:
    ordered = sorted(items)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


def _owned(conn: sqlite3.Connection, owner: str, thread_ids: Collection[str]) -> set[str]:
    held: set[str] = set()
    for chunk in _chunks(thread_ids):
        marks = ", ".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT thread_id FROM thread_leases WHERE owner = ? AND thread_id IN ({marks})",
            (owner, *chunk),
        ).fetchall()
        held.update(row[0] for row in rows)
    return held


def acquire(
    conn: sqlite3.Connection,
    owner: str,
    thread_ids: Collection[str],
    ttl_s: float,
    *,
    now: float | None = None,
) -> set[str]:
    """Lease `thread_ids` to `owner` for `ttl_s` seconds where possible; return the subset the
    owner holds afterwards (one write transaction)."""
    if not thread_ids:
        return set()
    at = time.time() if now is None else now
    expires = at + ttl_s
    with write_transaction(conn):
        for chunk in _chunks(thread_ids):
            marks = ", ".join("?" * len(chunk))
            holders = conn.execute(
                "SELECT thread_id, owner FROM thread_leases WHERE owner != ? AND expires_at > ?"
                f" AND thread_id IN ({marks})",
                (owner, at, *chunk),
            ).fetchall()
            dead = [(thread_id, holder) for thread_id, holder in holders if _dead_here(holder)]
            conn.executemany("DELETE FROM thread_leases WHERE thread_id = ? AND owner = ?", dead)
        conn.executemany(
            "INSERT INTO thread_leases (thread_id, owner, expires_at) VALUES (?, ?, ?)"
            " ON CONFLICT (thread_id) DO UPDATE SET owner = excluded.owner,"
            " expires_at = excluded.expires_at"
            " WHERE thread_leases.owner = excluded.owner OR thread_leases.expires_at <= ?",
            [(thread_id, owner, expires, at) for thread_id in thread_ids],
        )
        return _owned(conn, owner, thread_ids)


def renew(
    conn: sqlite3.Connection,
    owner: str,
    thread_ids: Collection[str],
    ttl_s: float,
    *,
    now: float | None = None,
) -> set[str]:
    """Extend the owner's leases on `thread_ids`; return those it no longer holds (lost)."""
    if not thread_ids:
        return set()
    at = time.time() if now is None else now
    with write_transaction(conn):
        for chunk in _chunks(thread_ids):
            marks = ", ".join("?" * len(chunk))
            conn.execute(
                "UPDATE thread_leases SET expires_at = ?"
                f" WHERE owner = ? AND thread_id IN ({marks})",
                (at + ttl_s, owner, *chunk),
            )
        held = _owned(conn, owner, thread_ids)
    return set(thread_ids) - held


def release(conn: sqlite3.Connection, owner: str, thread_ids: Iterable[str] | None = None) -> None:
    """Drop the owner's leases on `thread_ids` (all of its leases when None)."""
    with write_transaction(conn):
        if thread_ids is None:
            conn.execute("DELETE FROM thread_leases WHERE owner = ?", (owner,))
            return
        for chunk in _chunks(list(thread_ids)):
            marks = ", ".join("?" * len(chunk))
            conn.execute(
                f"DELETE FROM thread_leases WHERE owner = ? AND thread_id IN ({marks})",
                (owner, *chunk),
            )


def live_holder(
    conn: sqlite3.Connection, thread_id: str, *, now: float | None = None
) -> str | None:
    """The live owner of an unexpired lease on `thread_id`, or None."""
    at = time.time() if now is None else now
    row = conn.execute(
        "SELECT owner FROM thread_leases WHERE thread_id = ? AND expires_at > ?", (thread_id, at)
    ).fetchone()
    return str(row[0]) if row and not _dead_here(str(row[0])) else None


def expiries_of_others(
    conn: sqlite3.Connection, owner: str, *, now: float | None = None
) -> dict[str, float]:
    """Threads with an unexpired lease held by a live owner other than `owner`, and when each
    lease expires (Unix seconds)."""
    at = time.time() if now is None else now
    rows = conn.execute(
        "SELECT thread_id, owner, expires_at FROM thread_leases"
        " WHERE owner != ? AND expires_at > ?",
        (owner, at),
    ).fetchall()
    return {thread: float(expires) for thread, holder, expires in rows if not _dead_here(holder)}


def held_by_others(conn: sqlite3.Connection, owner: str, *, now: float | None = None) -> set[str]:
    """Threads with an unexpired lease held by a live owner other than `owner`."""
    return set(expiries_of_others(conn, owner, now=now))

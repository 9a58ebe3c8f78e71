"""The warnings of a thread's turns, for `t3 show`: retries, skipped output lines, agent notices.

Read from the `activities` projection (kind `warning`), in the order they happened.
"""

from __future__ import annotations

import sqlite3


def turn_warnings(conn: sqlite3.Connection, thread_id: str) -> dict[str, list[str]]:
    """turn id → the summaries of that turn's warning activities, oldest first."""
    rows = conn.execute(
        "SELECT turn_id, summary FROM activities WHERE thread_id = ? AND kind = 'warning'"
        " ORDER BY sequence",
        (thread_id,),
    ).fetchall()
    warnings: dict[str, list[str]] = {}
    for turn_id, summary in rows:
        warnings.setdefault(str(turn_id), []).append(str(summary))
    return warnings

"""Barriers: "projected up to sequence N" for the asynchronous projectors.

A reader that needs read-your-writes calls `ensure_projected(conn, projector, at=N)` (N defaults to
the log head at the time of the call). If the projector's cursor is already at or past N this is
one indexed read. Otherwise the caller catches the projector up itself, under the write lock —
which is safe whether or not a reactor's background worker is doing the same: whoever comes second
finds the cursor already advanced and does nothing. A projector that fails raises
`ProjectionFailed`; the failure is never swallowed and the cursor does not move past it.
"""

from __future__ import annotations

import sqlite3

from t3cli.errors import DatabaseCorrupt, T3Error
from t3cli.store import eventlog, pipeline
from t3cli.store.db import database_path, translate
from t3cli.store.projectors import Projector
from t3cli.store.projectors.summaries import THREAD_SUMMARIES


class ProjectionFailed(T3Error):
    """An asynchronous projector failed while a reader waited on its barrier."""


def ensure_projected(
    conn: sqlite3.Connection, projector: Projector = THREAD_SUMMARIES, at: int | None = None
) -> int:
    """Return once `projector` has applied every event up to `at` (default: the current head).
    Returns the projector's cursor. Raises `ProjectionFailed` if the projector raises."""
    target = eventlog.head(conn) if at is None else at
    cursor = pipeline.projected_up_to(conn, projector)
    if cursor >= target:
        return cursor
    try:
        pipeline.catch_up(conn, [projector])
    except T3Error:
        raise
    except sqlite3.Error as exc:
        # The database itself failing (locked, full, read-only, corrupt) is said as such; only a
        # projector's own failure (a constraint it broke) is a projection failure.
        error = translate(exc, database_path(conn))
        if isinstance(exc, sqlite3.OperationalError) or isinstance(error, DatabaseCorrupt):
            raise error from None
        raise _failed(projector, cursor, exc) from exc
    except Exception as exc:
        raise _failed(projector, cursor, exc) from exc
    return pipeline.projected_up_to(conn, projector)


def _failed(projector: Projector, cursor: int, exc: Exception) -> ProjectionFailed:
    return ProjectionFailed(
        f"the {projector.name} projection failed at or after sequence {cursor + 1}: "
        f"{type(exc).__name__}: {exc}",
        hint="`t3 replay --check` shows the damage; `t3 replay` rebuilds the projections",
    )

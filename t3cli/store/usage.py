"""Reading back the usage totals of agent sessions whose usage is cumulative (codex).

codex reports, at the end of every turn, the running token total of its whole session, across
resumed processes. Each `thread.turn-completed` of such a provider records that total
(`session_usage`) and the session it belongs to (`provider_session_id`), so the next turn's own
share is derived from the log, never from a reactor's memory: it survives restarts, and a full
replay gives the same figures.
"""

from __future__ import annotations

import json
import sqlite3


def session_usage_total(
    conn: sqlite3.Connection, thread_id: str, provider_session_id: str
) -> dict[str, int] | None:
    """The running usage total the thread's provider session `provider_session_id` reached at
    the end of its latest turn that recorded one, or None if no turn of that session did.

    Cost: a backward walk of the thread's own events (index `events_stream`) to its latest turn
    end that recorded a total; each turn end of such a provider records one (carried over when
    the turn reported none), so that is normally the thread's latest turn end.
    """
    row = conn.execute(
        "SELECT payload FROM events WHERE stream_id = ? AND type = 'thread.turn-completed'"
        " AND json_extract(payload, '$.session_usage') IS NOT NULL"
        " ORDER BY sequence DESC LIMIT 1",
        (thread_id,),
    ).fetchone()
    if row is None:
        return None
    payload = json.loads(row[0])
    total = payload.get("session_usage")
    if payload.get("provider_session_id") != provider_session_id or not isinstance(total, dict):
        return None
    return {
        str(k): v for k, v in total.items() if isinstance(v, int) and not isinstance(v, bool)
    }

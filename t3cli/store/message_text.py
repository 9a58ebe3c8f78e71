"""The whole text of transcript messages, read back from the projection and the log.

A message's text is `messages.text` followed, when `messages.spilled` > 0, by the texts of its
spilled chunks: the `thread.message-sent` events `message_chunks` points to, in order (see
`store.projectors.transcript`). These readers put it back together; `pieces` yields it in parts,
so a caller that writes a long reply out never holds all of it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator

_BATCH = 64  # spilled chunks read per query (each up to a few tens of KB)


def spilled_pieces(conn: sqlite3.Connection, message_id: str) -> Iterator[str]:
    """The texts of the message's spilled chunks, in order (nothing if it has none). Each batch
    is a fresh, closed query: a slow consumer holds no read transaction open."""
    after = -1
    while True:
        rows = conn.execute(
            "SELECT c.n, e.payload FROM message_chunks c JOIN events e ON e.sequence = c.sequence"
            " WHERE c.message_id = ? AND c.n > ? ORDER BY c.n LIMIT ?",
            (message_id, after, _BATCH),
        ).fetchall()
        for n, payload in rows:
            after = n
            yield str(json.loads(payload)["text"])
        if len(rows) < _BATCH:
            return


def pieces(conn: sqlite3.Connection, message_id: str) -> Iterator[str]:
    """The message's whole text in parts (nothing for an unknown message)."""
    row = conn.execute(
        "SELECT text, spilled FROM messages WHERE message_id = ?", (message_id,)
    ).fetchone()
    if row is None:
        return
    yield str(row[0])
    if row[1]:
        yield from spilled_pieces(conn, message_id)


def whole(conn: sqlite3.Connection, message_id: str) -> str | None:
    """The message's whole text, or None for an unknown message."""
    row = conn.execute("SELECT 1 FROM messages WHERE message_id = ?", (message_id,)).fetchone()
    return None if row is None else "".join(pieces(conn, message_id))


def whole_texts(
    conn: sqlite3.Connection, rows: Iterable[tuple[str, str, int]]
) -> dict[str, str]:
    """For `(message_id, inline text, spilled)` rows: the whole text of each that spilled."""
    return {
        message_id: text + "".join(spilled_pieces(conn, message_id))
        for message_id, text, spilled in rows
        if spilled
    }


def reply_pieces(conn: sqlite3.Connection, turn_id: str) -> Iterator[str]:
    """The assistant text of a turn in parts: its messages in transcript order."""
    ids = [
        row[0]
        for row in conn.execute(
            "SELECT message_id FROM messages WHERE turn_id = ? AND role = 'assistant'"
            " ORDER BY sequence",
            (turn_id,),
        ).fetchall()
    ]
    for message_id in ids:
        yield from pieces(conn, message_id)

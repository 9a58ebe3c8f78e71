"""Migration 0004: long replies stored once (issue 12).

Appending every chunk of a streamed reply to `messages.text` rewrote the growing text each time
(quadratic: 50 MB took 99 s) and kept a second copy of it beside the log (3x the reply on disk).
A message's text now stays inline only up to `projectors.transcript.INLINE_CHARS`; its later
chunks are recorded by reference — the sequence of the event that holds their text — in
`message_chunks` (`messages.spilled` counts them). The messages projection (version 3) rebuilds
itself once, on the first write after the upgrade.
"""

from __future__ import annotations

MIGRATION: tuple[str, list[str]] = (
    "0004_message_chunks",
    [
        "ALTER TABLE messages ADD COLUMN spilled INTEGER NOT NULL DEFAULT 0",
        """CREATE TABLE message_chunks (
            message_id TEXT NOT NULL,
            n INTEGER NOT NULL,
            sequence INTEGER NOT NULL,
            PRIMARY KEY (message_id, n)
        ) WITHOUT ROWID""",
    ],
)

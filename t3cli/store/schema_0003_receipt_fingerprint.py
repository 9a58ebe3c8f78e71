"""Migration 0003: command receipts remember which command their id was used for.

A `--command-id` replays the first outcome of its command. Reused for a *different* command of
the same kind (another message, another thread), that replay silently dropped the new command
and exited 0. The receipt now stores the fingerprint of the command it answered (a digest of its
kind and arguments, `t3cli.cli.writes.fingerprint`), so a mismatch is refused instead.

Receipts written before this migration have no fingerprint (NULL): they replay as before.
Adding a nullable column rewrites no row, so the upgrade is instant on any log size.
"""

from __future__ import annotations

MIGRATION: tuple[str, list[str]] = (
    "0003_receipt_fingerprint",
    ["ALTER TABLE command_receipts ADD COLUMN fingerprint TEXT"],
)

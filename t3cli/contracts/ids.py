"""Identifiers and timestamps.

Random ids are 32 lowercase hex characters (uuid4), so that any short prefix a user types is
uniformly distributed — a time-ordered id would make the prefixes of threads created together
collide. Deterministic ids (uuid5) derive from what caused them, which makes reactor commands
idempotent across a crash and a recovery replay.
"""

from __future__ import annotations

import time
import uuid

_NAMESPACE = uuid.UUID("5f0b7b52-3c2e-4f59-9d7e-3b1a8f7a2c11")


def new_id() -> str:
    """A fresh random id (32 hex characters)."""
    return uuid.uuid4().hex


def derived_id(*parts: str) -> str:
    """A deterministic id from `parts`: the same parts always give the same id."""
    return uuid.uuid5(_NAMESPACE, "\x1f".join(parts)).hex


def utc_now() -> str:
    """The current UTC time as ISO-8601 with milliseconds, e.g. `2026-11-22T20:09:32.123Z`.

    Formatted by hand: `datetime` costs several milliseconds to import on the CLI's hot path.
    """
    now = time.time()
    ms = int(now * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{ms:03d}Z"

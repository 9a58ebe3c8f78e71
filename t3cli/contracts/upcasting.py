"""Upcasters: read old payload versions as the current ones, without rewriting the log.

An upcaster maps `(type, schema_version)` to a function returning the payload at the next version.
There are none yet (every payload is at version 1); the chain is applied on every read so adding
one is a local change. A payload newer than this version knows is passed through unchanged and
its unknown fields are ignored by readers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from t3cli.contracts._record import replace
from t3cli.contracts.events import EVENT_TYPES, EventRecord

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def upcast(record: EventRecord) -> EventRecord:
    """Return `record` with its payload raised to the current schema version of its type."""
    cls = EVENT_TYPES.get(record.type)
    if cls is None or record.schema_version >= cls.SCHEMA_VERSION:
        return record
    payload, version = record.payload, record.schema_version
    while version < cls.SCHEMA_VERSION:
        step = UPCASTERS.get((record.type, version))
        if step is None:
            break
        payload, version = step(payload), version + 1
    return replace(record, payload=payload, schema_version=version)

"""The event log: append, read, and command receipts.

Guarantees:
- `append` must run inside a write transaction (`store.db.write_transaction`); it assigns global
  `sequence`s in order and per-stream `stream_version`s that are contiguous from 1 (the
  `UNIQUE(stream_id, stream_version)` constraint is the optimistic-concurrency guard).
- Rows are never updated or deleted (triggers enforce it).
- Reads fetch whole pages and close their cursors, so no reader pins the WAL.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # a cheap dataclass at run time; see t3cli.contracts._record
    from t3cli.contracts._record import record as dataclass

from t3cli.contracts.events import EventRecord, NewEvent
from t3cli.contracts.ids import derived_id
from t3cli.contracts.upcasting import upcast

_COLUMNS = (
    "sequence, event_id, stream_kind, stream_id, stream_version, type, payload, schema_version,"
    " command_id, causation_event_id, correlation_id, actor, occurred_at"
)


@dataclass(frozen=True)
class Envelope:
    """What the engine knows about the command whose events are being appended."""

    command_id: str
    actor: str
    occurred_at: str
    correlation_id: str | None = None
    causation_event_id: str | None = None


def append(
    conn: sqlite3.Connection, new_events: Sequence[NewEvent], envelope: Envelope
) -> list[EventRecord]:
    """Append `new_events` (in order) and return them as stored records.

    Event ids derive from the command id and the event's index, so they are deterministic.
    The first event's causation is the envelope's; a later event naming `causation_index` is
    caused by that earlier event of the same command. The correlation id defaults to the command id.
    """
    versions: dict[str, int] = {}
    records: list[EventRecord] = []
    correlation_id = envelope.correlation_id or envelope.command_id
    for index, new in enumerate(new_events):
        payload = new.payload
        stream_id = payload.stream_id()
        version = versions.get(stream_id)
        if version is None:
            row = conn.execute(
                "SELECT max(stream_version) FROM events WHERE stream_id = ?", (stream_id,)
            ).fetchone()
            version = row[0] or 0
        version += 1
        versions[stream_id] = version
        event_id = derived_id(envelope.command_id, str(index))
        causation = (
            records[new.causation_index].event_id
            if new.causation_index is not None
            else envelope.causation_event_id
        )
        data = payload.to_payload()
        cursor = conn.execute(
            "INSERT INTO events (event_id, stream_kind, stream_id, stream_version, type, payload,"
            " schema_version, command_id, causation_event_id, correlation_id, actor, occurred_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event_id,
                payload.STREAM_KIND,
                stream_id,
                version,
                payload.TYPE,
                json.dumps(data, separators=(",", ":"), ensure_ascii=False),
                payload.SCHEMA_VERSION,
                envelope.command_id,
                causation,
                correlation_id,
                envelope.actor,
                envelope.occurred_at,
            ),
        )
        sequence = cursor.lastrowid
        assert sequence is not None
        records.append(
            EventRecord(
                sequence=sequence,
                event_id=event_id,
                stream_kind=payload.STREAM_KIND,
                stream_id=stream_id,
                stream_version=version,
                type=payload.TYPE,
                payload=data,
                schema_version=payload.SCHEMA_VERSION,
                command_id=envelope.command_id,
                causation_event_id=causation,
                correlation_id=correlation_id,
                actor=envelope.actor,
                occurred_at=envelope.occurred_at,
            )
        )
    return records


_raw_decode = json.JSONDecoder().raw_decode
_new_record = object.__new__
_set_fields = object.__setattr__


def _decode(text: str) -> Any:
    # `raw_decode` skips `json.loads`' wrapper and whitespace handling (payloads are written
    # compact); anything but one whole JSON value goes through `json.loads` to raise as usual.
    try:
        value, end = _raw_decode(text)
        if end == len(text):
            return value
    except ValueError:
        pass
    return json.loads(text)


def _record(row: tuple[Any, ...]) -> EventRecord:
    # Every event read goes through here (a full replay: a million times), so the record is
    # built directly: an EventRecord keeps its fields in `__dict__` (see contracts._record), and
    # filling it in one dict display costs a third of the generic keyword constructor.
    record: EventRecord = _new_record(EventRecord)
    _set_fields(
        record,
        "__dict__",
        {
            "sequence": row[0],
            "event_id": row[1],
            "stream_kind": row[2],
            "stream_id": row[3],
            "stream_version": row[4],
            "type": row[5],
            "payload": _decode(row[6]),
            "schema_version": row[7],
            "command_id": row[8],
            "causation_event_id": row[9],
            "correlation_id": row[10],
            "actor": row[11],
            "occurred_at": row[12],
        },
    )
    return upcast(record)


def head(conn: sqlite3.Connection) -> int:
    """The highest sequence in the log (0 when empty). One index lookup."""
    row = conn.execute("SELECT max(sequence) FROM events").fetchone()
    return int(row[0] or 0)


def read_after(
    conn: sqlite3.Connection,
    after: int,
    limit: int = 1000,
    *,
    until: int | None = None,
    stream_id: str | None = None,
    type_glob: str | None = None,
) -> list[EventRecord]:
    """Up to `limit` events with `sequence > after` (and `<= until`), in sequence order,
    optionally only one stream's and only types matching `type_glob` (shell-style, as SQLite's
    GLOB: `*`, `?`, `[...]`, case-sensitive)."""
    sql = f"SELECT {_COLUMNS} FROM events WHERE sequence > ?"
    params: list[object] = [after]
    if until is not None:
        sql += " AND sequence <= ?"
        params.append(until)
    if stream_id is not None:
        sql += " AND stream_id = ?"
        params.append(stream_id)
    if type_glob is not None:
        sql += " AND type GLOB ?"
        params.append(type_glob)
    sql += " ORDER BY sequence LIMIT ?"
    params.append(limit)
    rows = conn.execute(sql, params).fetchall()
    return [_record(row) for row in rows]


def iter_after(
    conn: sqlite3.Connection, after: int, *, batch_size: int = 5000, until: int | None = None
) -> Iterator[list[EventRecord]]:
    """Every event after `after` (up to `until`), in batches; each batch is a fresh, closed
    query, so a long iteration never holds a read transaction open."""
    cursor = after
    while True:
        batch = read_after(conn, cursor, batch_size, until=until)
        if not batch:
            return
        yield batch
        cursor = batch[-1].sequence


def events_of_command(conn: sqlite3.Connection, receipt: Receipt) -> list[EventRecord]:
    """The events an accepted command appended, in order: its receipt's sequence range (one
    command's events are appended in one transaction, so they are contiguous)."""
    if receipt.first_sequence is None or receipt.result_sequence is None:
        return []
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM events WHERE sequence BETWEEN ? AND ? AND command_id = ?"
        " ORDER BY sequence",
        (receipt.first_sequence, receipt.result_sequence, receipt.command_id),
    ).fetchall()
    return [_record(row) for row in rows]


@dataclass(frozen=True)
class Receipt:
    command_id: str
    status: str  # accepted | rejected
    first_sequence: int | None
    result_sequence: int | None
    error: str | None
    error_kind: str | None
    hint: str | None
    # The digest of the command this id answered (schema 3); None for receipts written before,
    # and for commands dispatched without one.
    fingerprint: str | None = None


def get_receipt(conn: sqlite3.Connection, command_id: str) -> Receipt | None:
    row = conn.execute(
        "SELECT command_id, status, first_sequence, result_sequence, error, error_kind, hint,"
        " fingerprint FROM command_receipts WHERE command_id = ?",
        (command_id,),
    ).fetchone()
    return Receipt(*row) if row else None


def put_receipt(
    conn: sqlite3.Connection,
    *,
    command_id: str,
    command_type: str,
    stream_id: str | None,
    status: str,
    first_sequence: int | None,
    result_sequence: int | None,
    error: str | None,
    error_kind: str | None,
    hint: str | None,
    at: str,
    fingerprint: str | None = None,
) -> None:
    conn.execute(
        "INSERT INTO command_receipts (command_id, command_type, stream_id, status,"
        " first_sequence, result_sequence, error, error_kind, hint, accepted_at, fingerprint)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            command_id,
            command_type,
            stream_id,
            status,
            first_sequence,
            result_sequence,
            error,
            error_kind,
            hint,
            at,
            fingerprint,
        ),
    )

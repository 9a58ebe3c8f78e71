"""Events this version does not know (from a newer writer) are kept and reported, never fatal;
newer payload versions pass through; older ones are upcast on read."""

from __future__ import annotations

import json
import sqlite3

import pytest

from t3cli.contracts import events as e
from t3cli.contracts import upcasting
from t3cli.contracts.ids import new_id
from t3cli.engine import Engine
from t3cli.store import eventlog, pipeline, replay
from t3cli.store.projectors import ALL_PROJECTORS

from .support import (
    assert_log_contiguous,
    assert_projections_equal_rebuild,
    assert_replay_check_ok,
    log_state,
    queue_command,
    thread_command,
)


def insert_raw(
    conn: sqlite3.Connection,
    *,
    type: str,
    stream_id: str,
    payload: dict[str, object],
    schema_version: int = 1,
    stream_kind: str = "thread",
) -> int:
    """Insert one event row the way a newer t3cli would (triggers intact: INSERT is allowed)."""
    version = conn.execute(
        "SELECT coalesce(max(stream_version), 0) + 1 FROM events WHERE stream_id = ?", (stream_id,)
    ).fetchone()[0]
    cursor = conn.execute(
        "INSERT INTO events (event_id, stream_kind, stream_id, stream_version, type, payload,"
        " schema_version, command_id, causation_event_id, correlation_id, actor, occurred_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, 'reactor', '2031-01-01T00:00:00.000Z')",
        (new_id(), stream_kind, stream_id, version, type, json.dumps(payload), schema_version,
         new_id(), new_id()),
    )  # fmt: skip
    assert cursor.lastrowid is not None
    return cursor.lastrowid


@pytest.fixture
def thread_id(fast_engine: Engine) -> str:
    thread_id = new_id()
    fast_engine.dispatch(thread_command(thread_id))
    fast_engine.dispatch(queue_command(thread_id))
    return thread_id


def test_unknown_event_is_read_and_reported(fast_engine: Engine, thread_id: str) -> None:
    conn = fast_engine.conn
    payload = {"thread_id": thread_id, "hologram": {"depth": 3}}
    sequence = insert_raw(
        conn, type="thread.hologram-projected", stream_id=thread_id, payload=payload
    )
    other = insert_raw(
        conn, type="workspace.opened", stream_id=new_id(), payload={"x": 1}, stream_kind="workspace"
    )
    records = eventlog.read_after(conn, sequence - 1)
    assert [r.sequence for r in records] == [sequence, other]
    unknown = records[0]
    assert not unknown.known and unknown.type == "thread.hologram-projected"
    assert unknown.payload == payload
    assert unknown.to_json_dict()["payload"] == payload
    assert not records[1].known and records[1].stream_kind == "workspace"
    assert all(r.known for r in eventlog.read_after(conn, 0, until=sequence - 1))


def test_projections_skip_unknown_events_without_error(fast_engine: Engine, thread_id: str) -> None:
    conn = fast_engine.conn
    before = {
        t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in ("threads", "messages")
    }
    for n in range(3):
        insert_raw(
            conn, type=f"thread.future-{n}", stream_id=thread_id, payload={"thread_id": thread_id}
        )
    head = log_state(conn).head
    assert pipeline.lagging(conn, ALL_PROJECTORS)

    assert pipeline.catch_up(conn, ALL_PROJECTORS) > 0

    assert all(c.last_applied_sequence == head for c in pipeline.read_cursors(conn).values())
    for table, rows in before.items():
        assert conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall() == rows
    assert_replay_check_ok(conn)
    assert replay.rebuild(conn) == head
    assert_projections_equal_rebuild(conn, ALL_PROJECTORS)


def test_appending_after_an_unknown_event_continues_the_stream(
    fast_engine: Engine, thread_id: str
) -> None:
    conn = fast_engine.conn
    sequence = insert_raw(
        conn, type="thread.future", stream_id=thread_id, payload={"thread_id": thread_id}
    )
    result = fast_engine.dispatch(queue_command(thread_id))  # catches up through the unknown event
    assert result.events[0].sequence == sequence + 1
    unknown_version = conn.execute(
        "SELECT stream_version FROM events WHERE sequence = ?", (sequence,)
    ).fetchone()[0]
    assert result.events[0].stream_version == unknown_version + 1
    assert_log_contiguous(conn)
    assert_replay_check_ok(conn)


def test_a_newer_payload_version_of_a_known_type_passes_through(
    fast_engine: Engine, thread_id: str
) -> None:
    conn = fast_engine.conn
    turn_id = new_id()
    payload = {
        "thread_id": thread_id, "turn_id": turn_id, "activity_id": "act-1", "kind": "command",
        "summary": "ran it", "status": "completed", "detail": {}, "added_in_v2": [1, 2],
    }  # fmt: skip
    sequence = insert_raw(
        conn, type="thread.activity-appended", stream_id=thread_id, payload=payload,
        schema_version=e.ActivityAppended.SCHEMA_VERSION + 1,
    )  # fmt: skip
    (record,) = eventlog.read_after(conn, sequence - 1)
    assert record.known and record.payload == payload
    assert record.schema_version == e.ActivityAppended.SCHEMA_VERSION + 1
    pipeline.catch_up(conn, ALL_PROJECTORS)
    row = conn.execute("SELECT summary FROM activities WHERE activity_id = 'act-1'").fetchone()
    assert row == ("ran it",)
    assert_replay_check_ok(conn)


def test_an_older_payload_is_upcast_on_read(
    fast_engine: Engine, thread_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = fast_engine.conn
    old = {"thread_id": thread_id, "turn_id": "t", "activity_id": "a", "kind": "k", "text": "old"}
    sequence = insert_raw(conn, type="thread.activity-appended", stream_id=thread_id, payload=old)

    def v1_to_v2(payload: dict[str, object]) -> dict[str, object]:
        upgraded = {k: v for k, v in payload.items() if k != "text"}
        upgraded["summary"] = payload["text"]
        return upgraded

    monkeypatch.setattr(e.ActivityAppended, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(upcasting.UPCASTERS, ("thread.activity-appended", 1), v1_to_v2)
    (record,) = eventlog.read_after(conn, sequence - 1)
    assert record.schema_version == 2
    assert record.payload["summary"] == "old" and "text" not in record.payload
    stored = conn.execute(
        "SELECT payload, schema_version FROM events WHERE sequence = ?", (sequence,)
    )
    assert json.loads(stored.fetchone()[0]) == old  # the log itself is never rewritten

"""The fast full rebuild (`store.bulk`, used by `replay.rebuild`, `replay.check` and a projector
rebuilt from zero) produces exactly the rows of the per-event handlers, table by table.

- A hypothesis state machine (the core one of `test_properties`, same rules) compares after
  every step a fast rebuild with a per-event rebuild of the same log, for every projector.
- Targeted logs (rows inserted directly, so that shapes the engine would never write are
  covered too): chunked assistant messages, activity updates, queue moves, cancels and resolves,
  deleted threads, unknown event types, unknown extra payload fields, an older payload version,
  and logs the fold cannot mirror (it must fall back to the handlers, with their outcome).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import invariant

from t3cli.store import bulk, pipeline, replay
from t3cli.store.db import connect, write_transaction
from t3cli.store.projectors import ALL_PROJECTORS, Projector

from .support import projection_rows
from .test_properties import CoreMachine


def per_event_rebuild(conn: sqlite3.Connection, projectors: tuple[Projector, ...]) -> int:
    """The reference: reset, then every event through the handlers (`pipeline.apply_events`)."""
    from t3cli.store import eventlog

    with write_transaction(conn):
        for projector in projectors:
            conn.execute("DELETE FROM projection_state WHERE projector = ?", (projector.name,))
        cursors = pipeline.prepare(conn, projectors)
        done = 0
        for batch in eventlog.iter_after(conn, 0):
            pipeline.apply_events(conn, projectors, batch, cursors)
            done += len(batch)
        return done


def copy_of(conn: sqlite3.Connection) -> sqlite3.Connection:
    copy = sqlite3.connect(":memory:", isolation_level=None)
    conn.backup(copy)
    return copy


def compare(
    conn: sqlite3.Connection, *, fast_path: bool = True, projectors: tuple[Projector, ...] = ()
) -> dict[str, list[tuple[object, ...]]]:
    """Rebuild `conn`'s log both ways on copies; assert equal rows (and, with `fast_path`, that
    the fast path did the work). Returns the rows."""
    projectors = projectors or ALL_PROJECTORS
    slow, fast = copy_of(conn), copy_of(conn)
    try:
        n_slow = per_event_rebuild(slow, projectors)
        n_fast = replay.rebuild(fast, projectors)
        outcome = bulk.LAST[0]
        if fast_path:
            assert outcome.fallback is None, outcome.fallback
            assert [p.name for p in outcome.rebuilt] == [p.name for p in projectors]
        assert n_fast == n_slow
        expected, got = projection_rows(slow, projectors), projection_rows(fast, projectors)
        for table in expected:
            assert got[table] == expected[table], f"{table}: fast rebuild differs"
        cursors_slow, cursors_fast = pipeline.read_cursors(slow), pipeline.read_cursors(fast)
        for projector in projectors:
            assert cursors_fast[projector.name] == cursors_slow[projector.name]
        return expected
    finally:
        slow.close()
        fast.close()


# --- random command sequences ---------------------------------------------------------------


class FastRebuildMachine(CoreMachine):
    """The core state machine; after every step, fast rebuild == per-event rebuild."""

    @invariant()
    def projections_equal_a_rebuild(self) -> None:
        compare(self.conn)


FastRebuildMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TestFastRebuildMachine = FastRebuildMachine.TestCase


# --- targeted logs ---------------------------------------------------------------------------


class Log:
    """Event rows inserted directly (contiguous stream versions, deterministic timestamps)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.versions: dict[str, int] = {}
        self.n = 0

    def add(self, type_: str, payload: dict[str, Any] | str, schema_version: int = 1) -> None:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        stream = "p" if type_.startswith("project.") else "t"
        stream_id = (
            json.loads(data).get("project_id" if stream == "p" else "thread_id", "x")
            if isinstance(payload, dict)
            else "x"
        )
        stream_id = str(stream_id)
        self.versions[stream_id] = self.versions.get(stream_id, 0) + 1
        self.n += 1
        with write_transaction(self.conn):
            self.conn.execute(
                "INSERT INTO events (event_id, stream_kind, stream_id, stream_version, type,"
                " payload, schema_version, command_id, actor, occurred_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'user', ?)",
                (f"e{self.n}", stream, stream_id, self.versions[stream_id], type_, data,
                 schema_version, f"c{self.n}", f"2030-01-01T00:00:{self.n % 60:02d}.{self.n:03d}Z"),
            )  # fmt: skip

    def project(self) -> None:
        self.add(
            "project.created",
            {"project_id": "P", "path": "/p", "title": "p", "default_provider": "echo"},
        )

    def thread(self, tid: str) -> None:
        self.add(
            "thread.created",
            {"thread_id": tid, "project_id": "P", "provider": "echo", "model": None, "title": tid},
        )

    def queue(self, tid: str, item: str, text: str = "hi") -> None:
        message = f"m-{item}"
        self.add("thread.message-sent", {"thread_id": tid, "message_id": message,
                 "role": "user", "text": text, "queue_item_id": item})  # fmt: skip
        self.add("thread.turn-queued", {"thread_id": tid, "queue_item_id": item,
                                        "message_id": f"m-{item}"})  # fmt: skip

    def send(self, tid: str, item: str, turn: str) -> None:
        self.add("thread.queued-turn-send-started",
                 {"thread_id": tid, "queue_item_id": item, "turn_id": turn})  # fmt: skip
        self.add("thread.turn-start-requested", {"thread_id": tid, "turn_id": turn,
                 "message_id": f"m-{item}", "queue_item_id": item})  # fmt: skip


@pytest.fixture
def log(tmp_path: Path) -> Iterator[Log]:
    conn = connect(tmp_path / "t3.db", durability="normal")
    try:
        yield Log(conn)
    finally:
        conn.close()


def test_empty_log(log: Log) -> None:
    compare(log.conn, fast_path=False)


def test_chunked_assistant_messages(log: Log) -> None:
    log.project()
    log.thread("T")
    log.queue("T", "q1")
    log.send("T", "q1", "u1")
    log.add("thread.turn-started", {"thread_id": "T", "turn_id": "u1"})
    long_text = "é" * 300 + " two  words \n"
    for chunk, text in enumerate(["Hel", "lo ", long_text, "✓ done"]):
        log.add("thread.message-sent", {"thread_id": "T", "message_id": "a1", "role": "assistant",
                "text": text, "turn_id": "u1", "chunk": chunk,
                "complete": chunk == 3})  # fmt: skip
    # A later chunk of a message that is not the previewed one does not touch the preview.
    log.add("thread.message-sent", {"thread_id": "T", "message_id": "a2", "role": "assistant",
            "text": "x", "turn_id": "u1", "chunk": 0, "complete": False})  # fmt: skip
    log.add("thread.message-sent", {"thread_id": "T", "message_id": "a1", "role": "assistant",
            "text": "late", "turn_id": "u1", "chunk": 4, "complete": True})  # fmt: skip
    rows = compare(log.conn)
    texts = {row[0]: row[4] for row in rows["messages"]}
    assert texts["a1"] == "Hello " + long_text + "✓ donelate"


def test_activity_updates(log: Log) -> None:
    log.project()
    log.thread("T")
    for status, detail in [("running", {"b": 1, "a": "ü"}), ("completed", None), (None, {"z": []})]:
        log.add("thread.activity-appended", {"thread_id": "T", "turn_id": "u", "activity_id": "A",
                "kind": "tool", "summary": f"s-{status}", "status": status,
                "detail": detail})  # fmt: skip
    log.add("thread.activity-appended", {"thread_id": "T", "turn_id": "u", "activity_id": "B",
            "kind": "tool", "summary": "b", "status": "ok", "detail": {"k": 1}})  # fmt: skip
    rows = compare(log.conn)
    assert len(rows["activities"]) == 2


def test_queue_moves_cancels_resolves_and_failures(log: Log) -> None:
    log.project()
    log.thread("T")
    log.thread("U")
    for index in range(6):
        log.queue("T", f"q{index}")
    log.queue("U", "r0")
    log.add("thread.queued-turn-moved", {"thread_id": "T", "queue_item_id": "q4", "to_position": 1})
    log.add(
        "thread.queued-turn-moved", {"thread_id": "T", "queue_item_id": "q0", "to_position": 99}
    )
    log.add(
        "thread.queued-turn-moved", {"thread_id": "T", "queue_item_id": "q2", "to_position": -3}
    )
    log.add("thread.queued-turn-moved", {"thread_id": "T", "queue_item_id": "zz", "to_position": 1})
    log.add("thread.queued-turn-cancelled", {"thread_id": "T", "queue_item_id": "q3",
            "from_status": "pending"})  # fmt: skip
    log.send("T", "q4", "u4")
    log.add("thread.queued-turn-send-failed", {"thread_id": "T", "queue_item_id": "q4",
            "turn_id": "u4", "reason": "boom"})  # fmt: skip
    log.add("thread.queued-turn-requeued", {"thread_id": "T", "queue_item_id": "q4"})
    log.send("T", "q4", "u5")
    log.add("thread.turn-started", {"thread_id": "T", "turn_id": "u5", "provider_session_id": "s"})
    log.add("thread.turn-completed", {"thread_id": "T", "turn_id": "u5", "status": "completed",
            "input_tokens": 3, "output_tokens": 4, "cost_usd": 0.25})  # fmt: skip
    log.add("thread.queued-turn-resolved", {"thread_id": "T", "queue_item_id": "q4"})
    log.add("thread.queued-turn-resolved", {"thread_id": "T", "queue_item_id": "q4"})  # again
    log.send("T", "q1", "u6")
    log.add("thread.queued-turn-send-failed", {"thread_id": "T", "queue_item_id": "q1",
            "turn_id": "u6", "reason": "x"})  # fmt: skip
    log.add("thread.queued-turn-cancelled", {"thread_id": "T", "queue_item_id": "q1",
            "from_status": "failed"})  # fmt: skip
    log.add("thread.turn-interrupt-requested", {"thread_id": "T", "turn_id": "u6"})
    rows = compare(log.conn)
    positions = sorted((row[1], row[3], row[0]) for row in rows["queued_turns"])
    assert positions == [("T", 1, "q2"), ("T", 2, "q5"), ("T", 3, "q0"), ("U", 1, "r0")]


def test_deleted_threads(log: Log) -> None:
    log.project()
    log.thread("T")
    log.thread("U")
    log.queue("T", "q1")
    log.queue("T", "q2")
    log.queue("U", "r1")
    log.add("thread.session-set", {"thread_id": "T", "status": "running", "provider": "echo"})
    log.add("thread.session-set", {"thread_id": "T", "status": "stopped", "error": "e"})
    log.add("thread.session-stop-requested", {"thread_id": "T"})
    log.add("thread.archived", {"thread_id": "T"})
    log.add("thread.deleted", {"thread_id": "T"})
    log.queue("U", "r2")
    log.add("thread.updated", {"thread_id": "U", "title": "new", "provider_options": {"b": 1}})
    log.add("thread.unarchived", {"thread_id": "U"})
    log.add("project.updated", {"project_id": "P", "title": "renamed"})
    rows = compare(log.conn)
    assert [row[0] for row in rows["queued_turns"]] == ["r1", "r2"]


def test_unknown_types_and_extra_fields(log: Log) -> None:
    log.project()
    log.add("thread.something-new", {"thread_id": "T", "whatever": [1, 2]})
    log.add("thread.created", {"thread_id": "T", "project_id": "P", "provider": "echo",
            "model": "m", "title": "t", "future_field": {"x": 1}})  # fmt: skip
    log.add("thread.message-sent", {"thread_id": "T", "message_id": "m", "role": "user",
            "text": "hi", "extra": None, "another": [1]})  # fmt: skip
    log.add("thread.turn-queued", {"thread_id": "T", "queue_item_id": "q", "message_id": "m",
            "priority": 5})  # fmt: skip
    compare(log.conn)


def test_older_payload_version_goes_through_the_log_reader(log: Log) -> None:
    log.project()
    log.add("thread.created", {"thread_id": "T", "project_id": "P", "provider": "echo",
            "model": None, "title": "t"}, schema_version=0)  # fmt: skip
    compare(log.conn)


def test_unmirrorable_values_fall_back_to_the_handlers(log: Log) -> None:
    log.project()
    log.thread("T")
    # A number as a key: SQLite stores it as text ('5'), a dict keyed by 5 could not match it.
    log.add("thread.session-set", {"thread_id": 5, "status": "running"})
    log.add("thread.session-stop-requested", {"thread_id": "5"})
    compare(log.conn, fast_path=False)
    assert bulk.LAST[0].fallback is not None


def test_duplicate_insert_fails_as_the_handlers_do(log: Log) -> None:
    log.project()
    log.thread("T")
    log.thread("T")
    copy = copy_of(log.conn)
    try:
        with pytest.raises(Exception) as fast_error:
            replay.rebuild(copy)
        assert bulk.LAST[0].fallback is not None
    finally:
        copy.close()
    copy = copy_of(log.conn)
    try:
        with pytest.raises(Exception) as slow_error:
            per_event_rebuild(copy, ALL_PROJECTORS)
    finally:
        copy.close()
    assert "UNIQUE" in str(fast_error.value) and "UNIQUE" in str(slow_error.value)


def test_check_uses_the_fast_path_and_compares_live_rows(log: Log) -> None:
    log.project()
    log.thread("T")
    log.queue("T", "q1")
    pipeline.catch_up(log.conn, ALL_PROJECTORS)
    report = replay.check(log.conn)
    assert report.ok and report.tables["queued_turns"] == 1
    assert bulk.LAST[0].fallback is None and len(bulk.LAST[0].rebuilt) == len(ALL_PROJECTORS)
    # A live row changed behind the projector's back is reported.
    log.conn.execute("UPDATE queued_turns SET position = 7")
    report = replay.check(log.conn)
    assert not report.ok
    assert report.differences[0].table == "queued_turns"


def test_check_rebuilds_each_projector_up_to_its_own_cursor(log: Log) -> None:
    log.project()
    log.thread("T")
    pipeline.catch_up(log.conn, ALL_PROJECTORS)
    log.queue("T", "q1")  # not yet projected by anyone
    report = replay.check(log.conn)
    assert report.ok, [d.describe() for d in report.differences]


def test_activity_detail_memo_encodes_like_the_handler() -> None:
    """The memo of encoded details never confuses values that compare equal but encode apart."""
    from t3cli.store.bulk import ActivitiesFold
    from t3cli.store.projectors.transcript import _encode_detail

    fold = ActivitiesFold()
    details = [
        {"a": 1}, {"a": True}, {"a": 1.0}, {"a": 0.0}, {"a": -0.0}, {"a": None}, {"a": "1"},
        {"b": 2, "a": 1}, {"a": 1, "b": 2}, {"a": [1]}, {"a": {"b": 1}}, [1], "x", {},
    ]  # fmt: skip
    for _ in range(2):
        for detail in details:
            assert fold.detail(detail) == _encode_detail(detail)

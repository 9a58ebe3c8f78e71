"""The asynchronous `thread_summaries` projection: O(1) work per event, loud barrier failures."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

import pytest

from t3cli.contracts import commands as c
from t3cli.contracts.ids import new_id
from t3cli.engine import Engine
from t3cli.store import eventlog, pipeline
from t3cli.store.barrier import ProjectionFailed, ensure_projected
from t3cli.store.projectors.summaries import PREVIEW_CHARS, THREAD_SUMMARIES


def queue(engine: Engine, thread: str, text: str = "hello") -> None:
    engine.dispatch(
        c.TurnQueue(command_id=new_id(), thread_id=thread, queue_item_id=new_id(),
                    message_id=new_id(), text=text)
    )  # fmt: skip


def test_summary_is_not_written_by_the_append(
    engine: Engine, fresh_db: sqlite3.Connection, make_thread: Callable[..., str]
) -> None:
    thread = make_thread(engine)
    queue(engine, thread)
    # The append path left the summary behind; the barrier brings it to the head.
    assert pipeline.projected_up_to(fresh_db, THREAD_SUMMARIES) < eventlog.head(fresh_db)
    assert ensure_projected(fresh_db) == eventlog.head(fresh_db)
    row = fresh_db.execute(
        "SELECT message_count, queue_depth, preview FROM thread_summaries WHERE thread_id = ?",
        (thread,),
    ).fetchone()
    assert row == (1, 1, "hello")


def test_preview_is_capped_whatever_the_message_size(
    engine: Engine, fresh_db: sqlite3.Connection, make_thread: Callable[..., str]
) -> None:
    thread = make_thread(engine)
    queue(engine, thread, "word " * 20_000)
    ensure_projected(fresh_db)
    (preview,) = fresh_db.execute(
        "SELECT preview FROM thread_summaries WHERE thread_id = ?", (thread,)
    ).fetchone()
    assert 0 < len(preview) <= PREVIEW_CHARS


def _statements_for_one_event(
    engine: Engine, conn: sqlite3.Connection, thread: str
) -> list[str]:
    ensure_projected(conn)
    queue(engine, thread)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        ensure_projected(conn)
    finally:
        conn.set_trace_callback(None)
    return statements


def test_summary_work_per_event_does_not_grow_with_thread_length(
    engine: Engine, fresh_db: sqlite3.Connection, make_thread: Callable[..., str]
) -> None:
    short, long = make_thread(engine), make_thread(engine)
    for _ in range(2_000):
        queue(engine, long)
    queue(engine, short)
    on_short = _statements_for_one_event(engine, fresh_db, short)
    on_long = _statements_for_one_event(engine, fresh_db, long)
    assert len(on_long) == len(on_short)
    for statement in on_long:
        assert "FROM messages" not in statement and "FROM activities" not in statement


def test_a_failing_projector_fails_the_barrier_loudly(
    engine: Engine, fresh_db: sqlite3.Connection, make_thread: Callable[..., str]
) -> None:
    thread = make_thread(engine)
    ensure_projected(fresh_db)
    before = pipeline.projected_up_to(fresh_db, THREAD_SUMMARIES)
    # A known event type whose payload lacks what the projector needs (e.g. a damaged row).
    fresh_db.execute(
        "INSERT INTO events (event_id, stream_kind, stream_id, stream_version, type, payload,"
        " schema_version, actor, occurred_at) VALUES (?, 'thread', ?, 99, 'thread.message-sent',"
        " ?, 1, 'user', '2026-01-01T00:00:00.000Z')",
        (new_id(), thread, json.dumps({"thread_id": thread})),
    )
    with pytest.raises(ProjectionFailed, match="thread_summaries"):
        ensure_projected(fresh_db)
    assert pipeline.projected_up_to(fresh_db, THREAD_SUMMARIES) == before

"""Bootstrap loads the command read model from projections and reads no event before the
projectors' cursors: its cost does not grow with the log."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from t3cli.contracts import events as e
from t3cli.contracts.ids import new_id
from t3cli.engine import Engine
from t3cli.store import pipeline, readmodel, replay
from t3cli.store.db import write_transaction
from t3cli.store.projectors import CORE_PROJECTORS

from .support import (
    Trace,
    append_unprojected,
    build_log,
    log_state,
    open_fast,
    project_command,
    start_running_turns,
    thread_command,
    traffic,
)

EVENT_READ = re.compile(r"\bFROM\s+events\b", re.IGNORECASE)
AFTER_CURSOR = re.compile(r"\bsequence\s*>\s*(\d+)", re.IGNORECASE)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Thousands of events over 40 threads: resolved turns, pending items, running turns."""
    path = tmp_path_factory.mktemp("readmodel") / "t3.db"
    conn = open_fast(path)
    engine = Engine(conn)
    engine.dispatch(project_command())
    threads = build_log(engine, threads=40, cycles=10, pending_per_thread=2)
    extra = [new_id() for _ in range(5)]
    for thread_id in extra:
        engine.dispatch(thread_command(thread_id))
    start_running_turns(engine, extra)
    assert log_state(conn).head > 4000 and len(threads) == 40
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


def copy_of(template: Path, directory: Path) -> sqlite3.Connection:
    path = directory / "t3.db"
    path.write_bytes(template.read_bytes())
    return open_fast(path)


def event_reads(statements: list[str]) -> list[str]:
    return [s for s in statements if EVENT_READ.search(s)]


def min_cursor(conn: sqlite3.Connection) -> int:
    return min(
        c.last_applied_sequence
        for name, c in pipeline.read_cursors(conn).items()
        if name in {p.name for p in CORE_PROJECTORS}
    )


def assert_reads_only_after(statements: list[str], cursor: int) -> None:
    for statement in event_reads(statements):
        compact = " ".join(statement.split())
        if re.fullmatch(r"SELECT max\(sequence\) FROM events", compact, re.IGNORECASE):
            continue
        match = AFTER_CURSOR.search(compact)
        assert match is not None, f"bootstrap read events without a cursor bound: {compact}"
        assert int(match.group(1)) >= cursor, f"bootstrap read events before the cursor: {compact}"


def test_bootstrap_returns_the_command_read_model(template: Path, tmp_path: Path) -> None:
    conn = copy_of(template, tmp_path)
    model = readmodel.bootstrap(conn)
    assert model.head == log_state(conn).head
    assert len(model.threads) == 45
    assert sum(len(q) for q in model.queues.values()) == 80
    for queue in model.queues.values():
        assert [item.position for item in queue] == list(range(1, len(queue) + 1))
        assert {item.status for item in queue} == {"pending"}
    assert len(model.active_turns) == 5
    assert {t.status for t in model.active_turns.values()} == {"running"}
    assert all(info.cwd == "/tmp/t3-core-project" for info in model.threads.values())
    some = set(list(model.threads)[:3])
    partial = readmodel.bootstrap(conn, thread_ids=some)
    assert set(partial.threads) == some and set(partial.queues) <= some


def test_bootstrap_at_the_head_reads_only_the_log_head(template: Path, tmp_path: Path) -> None:
    conn = copy_of(template, tmp_path)
    with Trace(conn) as trace:
        readmodel.bootstrap(conn)
    reads = event_reads(trace.statements)
    assert reads, "the trace must see bootstrap's statements"
    assert_reads_only_after(trace.statements, log_state(conn).head)
    assert not any("messages" in s or "activities" in s for s in trace.statements)


def test_lagging_bootstrap_reads_only_events_after_the_cursors(
    template: Path, tmp_path: Path
) -> None:
    conn = copy_of(template, tmp_path)
    cursor = min_cursor(conn)
    running = readmodel.bootstrap(conn).active_turns
    turns = {thread_id: turn.turn_id for thread_id, turn in running.items()}
    payloads = traffic(list(turns), turns, 300)
    append_unprojected(conn, payloads)
    assert log_state(conn).head > cursor + 300

    with Trace(conn) as trace:
        model = readmodel.bootstrap(conn)

    assert_reads_only_after(trace.statements, cursor)
    assert any(AFTER_CURSOR.search(s) for s in event_reads(trace.statements))
    assert model.head == log_state(conn).head
    queued = sum(isinstance(p, e.TurnQueued) for p in payloads)
    assert sum(len(model.queues.get(t, [])) for t in turns) == queued > 0  # new items visible


def poison_before(conn: sqlite3.Connection, cursor: int) -> None:
    """Make every event at or before `cursor` unreadable (a copy with the triggers dropped)."""
    with write_transaction(conn):
        conn.execute("DROP TRIGGER events_no_update")
        conn.execute(
            "UPDATE events SET payload = '{this is not json' WHERE sequence <= ?", (cursor,)
        )


def test_bootstrap_works_with_every_event_before_the_cursors_unreadable(
    template: Path, tmp_path: Path
) -> None:
    original = copy_of(template, tmp_path)
    expected = readmodel.bootstrap(original)
    (tmp_path / "poisoned").mkdir()
    poisoned = copy_of(template, tmp_path / "poisoned")
    poison_before(poisoned, min_cursor(poisoned))

    # The control: anything that reads the old log now fails.
    with pytest.raises(ValueError):
        replay.rebuild(poisoned)

    model = readmodel.bootstrap(poisoned)
    assert model == expected


def test_lagging_bootstrap_works_with_every_event_before_the_cursors_unreadable(
    template: Path, tmp_path: Path
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    original = copy_of(template, tmp_path / "a")
    poisoned = copy_of(template, tmp_path / "b")
    cursor = min_cursor(poisoned)
    poison_before(poisoned, cursor)
    running = readmodel.bootstrap(original).active_turns
    turns = {thread_id: turn.turn_id for thread_id, turn in running.items()}
    payloads = traffic(list(turns), turns, 120)
    append_unprojected(original, payloads)
    append_unprojected(poisoned, payloads)

    expected = readmodel.bootstrap(original)
    model = readmodel.bootstrap(poisoned)

    assert model == expected
    assert model.head > cursor


def test_a_scoped_bootstrap_loads_only_its_threads_and_filters_in_sql(
    engine, fresh_db, make_thread
) -> None:
    from t3cli.contracts import commands as c
    from t3cli.contracts.ids import new_id
    from t3cli.store import readmodel

    mine, other = make_thread(engine), make_thread(engine)
    for thread in (mine, other):
        engine.dispatch(
            c.TurnQueue(command_id=new_id(), thread_id=thread, queue_item_id=new_id(),
                        message_id=new_id(), text="hi")
        )  # fmt: skip
    statements: list[str] = []
    fresh_db.set_trace_callback(statements.append)
    try:
        model = readmodel.bootstrap(fresh_db, thread_ids={mine})
    finally:
        fresh_db.set_trace_callback(None)
    assert set(model.threads) == {mine} and set(model.queues) == {mine}
    reads = [s for s in statements if "FROM queued_turns" in s or "FROM threads t" in s]
    assert reads and all("json_each" in s for s in reads)

"""Catch-up with no cap, self-rebuilding projectors, forward-only cursors."""

from __future__ import annotations

import dataclasses
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from t3cli.contracts import commands as c
from t3cli.contracts.ids import new_id
from t3cli.engine import Engine
from t3cli.store import barrier, eventlog, pipeline, replay
from t3cli.store.db import write_transaction
from t3cli.store.pipeline import BATCH_SIZE, CursorRegression
from t3cli.store.projectors import ALL_PROJECTORS, CORE_PROJECTORS
from t3cli.store.projectors.core import MESSAGES, QUEUED_TURNS, THREADS
from t3cli.store.projectors.summaries import THREAD_SUMMARIES

from .support import (
    append_unprojected,
    assert_projections_equal_rebuild,
    assert_queue_invariants,
    assert_replay_check_ok,
    build_log,
    log_state,
    start_running_turns,
    thread_command,
    traffic,
)


def cursors(conn: sqlite3.Connection) -> dict[str, tuple[int, int]]:
    return {
        name: (cursor.last_applied_sequence, cursor.version)
        for name, cursor in pipeline.read_cursors(conn).items()
    }


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A template log built by the real engine, more than 3x BATCH_SIZE events long."""
    path = tmp_path_factory.mktemp("big-log") / "t3.db"
    from .support import open_fast, project_command

    conn = open_fast(path)
    engine = Engine(conn)
    engine.dispatch(project_command())
    build_log(engine, threads=25, cycles=55, pending_per_thread=2)
    assert log_state(conn).head > 3 * BATCH_SIZE
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


@pytest.fixture
def log_copy(big_log: Path, tmp_path: Path) -> sqlite3.Connection:
    from .support import open_fast

    path = tmp_path / "t3.db"
    path.write_bytes(big_log.read_bytes())
    path.chmod(0o600)
    return open_fast(path)


def test_a_projector_far_behind_catches_up_completely(tmp_path: Path) -> None:
    from .support import open_fast, project_command

    conn = open_fast(tmp_path / "t3.db")
    engine = Engine(conn)
    engine.dispatch(project_command())
    threads = [new_id() for _ in range(20)]
    for thread_id in threads:
        engine.dispatch(thread_command(thread_id))
    turns = start_running_turns(engine, threads)
    before = log_state(conn)
    behind = 100_000
    append_unprojected(conn, traffic(threads, turns, behind), per_command=2000)
    head = log_state(conn).head
    assert head - before.head >= behind >= 20 * BATCH_SIZE
    assert all(seq <= before.head for seq, _ in cursors(conn).values())

    applied = pipeline.catch_up(conn, ALL_PROJECTORS)

    assert applied >= behind
    assert {seq for seq, _ in cursors(conn).values()} == {head}
    assert not pipeline.lagging(conn, ALL_PROJECTORS)
    assert_projections_equal_rebuild(conn, ALL_PROJECTORS)
    assert_queue_invariants(conn)
    assert_replay_check_ok(conn)
    queued = conn.execute("SELECT count(*) FROM queued_turns").fetchone()[0]
    assert queued >= behind // 7
    conn.close()


def test_the_barrier_catches_the_summaries_up_across_many_batches(
    log_copy: sqlite3.Connection,
) -> None:
    conn = log_copy
    head = log_state(conn).head
    # thread_summaries is off the append path: the engine-built log left it at zero.
    assert pipeline.projected_up_to(conn, THREAD_SUMMARIES) == 0
    assert barrier.ensure_projected(conn) == head
    assert_projections_equal_rebuild(conn, [THREAD_SUMMARIES])
    counts = conn.execute(
        "SELECT sum(message_count), sum(turn_count) FROM thread_summaries"
    ).fetchone()
    assert counts[0] > 0 and counts[1] > 0


def test_a_projector_without_a_cursor_rebuilds_itself_from_zero(
    log_copy: sqlite3.Connection,
) -> None:
    conn = log_copy
    head = log_state(conn).head
    expected = {
        t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
        for t in ("queued_turns", "messages")
    }
    with write_transaction(conn):
        # Rows left behind without a cursor (e.g. an interrupted rebuild) must be cleared, not
        # duplicated or kept.
        conn.execute("DELETE FROM projection_state WHERE projector IN ('queued_turns', 'messages')")
        conn.execute("DELETE FROM queued_turns WHERE position > 1")
        conn.execute("UPDATE messages SET text = 'stale'")
    assert pipeline.lagging(conn, CORE_PROJECTORS)

    applied = pipeline.catch_up(conn, CORE_PROJECTORS)

    assert applied == head
    for table, rows in expected.items():
        assert conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall() == rows
    assert cursors(conn)["queued_turns"] == (head, QUEUED_TURNS.version)
    assert_projections_equal_rebuild(conn)
    assert_queue_invariants(conn)


def test_a_version_bump_rebuilds_from_zero_by_itself(log_copy: sqlite3.Connection) -> None:
    conn = log_copy
    head = log_state(conn).head
    expected = conn.execute("SELECT * FROM messages ORDER BY message_id").fetchall()
    bumped = dataclasses.replace(MESSAGES, version=MESSAGES.version + 1)
    seen: list[int] = []
    original = bumped.handlers["thread.message-sent"]

    def counting(conn: sqlite3.Connection, event: eventlog.EventRecord) -> None:
        seen.append(event.sequence)
        original(conn, event)

    bumped.handlers["thread.message-sent"] = counting
    assert pipeline.lagging(conn, [bumped]) and not pipeline.lagging(conn, [MESSAGES])

    pipeline.catch_up(conn, [bumped])

    first_message = conn.execute(
        "SELECT min(sequence) FROM events WHERE type = 'thread.message-sent'"
    ).fetchone()[0]
    assert seen[0] == first_message and len(seen) == len(set(seen))
    assert cursors(conn)["messages"] == (head, MESSAGES.version + 1)
    assert conn.execute("SELECT * FROM messages ORDER BY message_id").fetchall() == expected
    # The other projectors were not touched.
    assert cursors(conn)["threads"] == (head, THREADS.version)


def test_the_engine_catches_lagging_core_projectors_up_before_deciding(
    log_copy: sqlite3.Connection,
) -> None:
    conn = log_copy
    engine = Engine(conn)
    thread_id = conn.execute("SELECT thread_id FROM threads LIMIT 1").fetchone()[0]
    with write_transaction(conn):
        conn.execute("DELETE FROM projection_state WHERE projector = 'queued_turns'")
        conn.execute("DELETE FROM queued_turns")
    head_item = conn.execute(
        "SELECT json_extract(payload, '$.queue_item_id') FROM events"
        " WHERE type = 'thread.turn-queued' AND stream_id = ?"
        " ORDER BY sequence DESC LIMIT 1 OFFSET 1",
        (thread_id,),
    ).fetchone()[0]
    # Deciding against the emptied projection would reject this as an unknown item.
    result = engine.dispatch(
        c.QueuedTurnSendStart(
            command_id=new_id(), actor="reactor", thread_id=thread_id, queue_item_id=head_item,
            turn_id=new_id(),
        )
    )  # fmt: skip
    assert len(result.events) == 2
    assert not pipeline.lagging(conn, CORE_PROJECTORS)
    assert_projections_equal_rebuild(conn)
    assert_queue_invariants(conn)


@pytest.mark.parametrize("batch_size", [1, 7, 1000])
def test_catch_up_is_exact_at_every_batch_boundary(fast_engine: Engine, batch_size: int) -> None:
    conn = fast_engine.conn
    build_log(fast_engine, threads=4, cycles=5)
    head = log_state(conn).head
    if batch_size == 1000:  # make the log an exact multiple of the batch size
        threads = [new_id() for _ in range(3)]
        for thread_id in threads:
            fast_engine.dispatch(thread_command(thread_id))
        turns = start_running_turns(fast_engine, threads)
        append_unprojected(conn, traffic(threads, turns, 1000 - log_state(conn).head % 1000))
        head = log_state(conn).head
        assert head % 1000 == 0
    with write_transaction(conn):
        conn.execute("DELETE FROM projection_state")
    calls: list[tuple[int, int]] = []
    applied = pipeline.catch_up(
        conn, ALL_PROJECTORS, batch_size=batch_size, progress=lambda d, t: calls.append((d, t))
    )
    assert applied == head
    assert calls[-1] == (head, head)
    assert {seq for seq, _ in cursors(conn).values()} == {head}
    assert_projections_equal_rebuild(conn, ALL_PROJECTORS)


def test_catch_up_skips_projectors_already_ahead(fast_engine: Engine) -> None:
    conn = fast_engine.conn
    build_log(fast_engine, threads=3, cycles=3)
    head = log_state(conn).head
    before = conn.execute("SELECT * FROM messages ORDER BY message_id").fetchall()
    applied = pipeline.catch_up(conn, ALL_PROJECTORS)  # only the summaries lag
    assert applied == head
    assert conn.execute("SELECT * FROM messages ORDER BY message_id").fetchall() == before
    assert pipeline.catch_up(conn, ALL_PROJECTORS) == 0


# --- forward-only cursors ------------------------------------------------------------------------


@pytest.mark.parametrize("delta", [0, -1, -5])
def test_cursor_regression_is_refused_and_the_cursor_kept(fast_engine: Engine, delta: int) -> None:
    conn = fast_engine.conn
    build_log(fast_engine, threads=2, cycles=1)
    head = log_state(conn).head
    before = conn.execute("SELECT * FROM projection_state ORDER BY projector").fetchall()
    with write_transaction(conn):
        with pytest.raises(CursorRegression, match="forward"):
            pipeline.advance_cursor(conn, QUEUED_TURNS, head + delta)
        # The statement failed, not the transaction: the caller decides what to do.
        assert conn.in_transaction
    assert conn.execute("SELECT * FROM projection_state ORDER BY projector").fetchall() == before
    assert cursors(conn)["queued_turns"] == (head, QUEUED_TURNS.version)


def test_cursor_moves_forward(fast_engine: Engine) -> None:
    conn = fast_engine.conn
    head = log_state(conn).head
    with write_transaction(conn):
        pipeline.advance_cursor(conn, QUEUED_TURNS, head + 3)
    assert cursors(conn)["queued_turns"] == (head + 3, QUEUED_TURNS.version)


def test_the_database_itself_refuses_a_cursor_going_back(fast_engine: Engine) -> None:
    conn = fast_engine.conn
    with pytest.raises(sqlite3.IntegrityError, match="forward"):
        conn.execute("UPDATE projection_state SET last_applied_sequence = 0")
    assert all(seq > 0 for seq, _ in cursors(conn).values())


CATCH_UP_SCRIPT = """
import sys, time
from pathlib import Path
from t3cli.store import barrier
from t3cli.store.db import connect
go = Path(sys.argv[2])
conn = connect(Path(sys.argv[1]), durability="normal")
while not go.exists():
    time.sleep(0.001)
print(barrier.ensure_projected(conn))
conn.close()
"""


def test_concurrent_catch_ups_from_several_processes_agree(
    log_copy: sqlite3.Connection, tmp_path: Path
) -> None:
    conn = log_copy
    head = log_state(conn).head
    path = conn.execute("PRAGMA database_list").fetchone()[2]
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CATCH_UP_SCRIPT, path, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    go.touch()
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert int(out) == head
    assert_projections_equal_rebuild(conn, ALL_PROJECTORS)
    assert_replay_check_ok(conn)


def test_no_projector_statement_scans_a_table(fast_engine: Engine) -> None:
    """Projection work per event is O(1): every statement a rebuild runs per event is an
    indexed lookup, never a scan of a table that grows with the log."""
    conn = fast_engine.conn
    build_log(fast_engine, threads=3, cycles=6)
    thread_id = conn.execute("SELECT thread_id FROM threads LIMIT 1").fetchone()[0]
    last_item = conn.execute(
        "SELECT queue_item_id FROM queued_turns WHERE thread_id = ? ORDER BY position DESC",
        (thread_id,),
    ).fetchone()[0]
    for command in (
        c.QueuedTurnMove(
            command_id=new_id(), thread_id=thread_id, to_position=1, queue_item_id=last_item
        ),
        c.ThreadUpdate(command_id=new_id(), thread_id=thread_id, title="renamed"),
        c.SessionStop(command_id=new_id(), thread_id=thread_id),
    ):  # fmt: skip
        fast_engine.dispatch(command)
    from .support import Trace, rebuilt_copy

    copy = rebuilt_copy(conn)
    try:
        with Trace(copy) as trace:
            replay.rebuild(copy)
        # Whole-table statements that run once per rebuild, not per event, are not of interest.
        once = ("DELETE FROM", "BEGIN", "COMMIT", "SELECT projector, last_applied_sequence")
        statements = {s for s in trace.statements if not s.startswith(once)}
        scans = {}
        for statement in statements:
            plan = copy.execute(f"EXPLAIN QUERY PLAN {statement}").fetchall()
            details = [row[3] for row in plan if row[3].startswith("SCAN")]
            if details:
                scans[statement] = details
    finally:
        copy.close()
    assert len(statements) > 20
    assert not scans, "\n".join(f"{plan}: {sql[:120]}" for sql, plan in scans.items())


def test_cursors_advanced_together_move_all_or_none(fast_engine: Engine) -> None:
    conn = fast_engine.conn
    head = log_state(conn).head
    with write_transaction(conn):
        pipeline.advance_cursor(conn, QUEUED_TURNS, head + 5)
    before = conn.execute("SELECT * FROM projection_state ORDER BY projector").fetchall()
    with write_transaction(conn):
        with pytest.raises(CursorRegression):
            pipeline.advance_cursors(conn, CORE_PROJECTORS, head + 3)
    # The statement failed as a whole: the cursors that could have moved did not either.
    assert conn.execute("SELECT * FROM projection_state ORDER BY projector").fetchall() == before
    with write_transaction(conn):
        pipeline.advance_cursors(conn, CORE_PROJECTORS, head + 6)
    assert {name for name, (seq, _) in cursors(conn).items() if seq == head + 6} == {
        p.name for p in CORE_PROJECTORS
    }


def test_advancing_cursors_writes_missing_ones(fast_engine: Engine) -> None:
    conn = fast_engine.conn
    head = log_state(conn).head
    bumped = dataclasses.replace(MESSAGES, version=MESSAGES.version + 1)
    with write_transaction(conn):
        conn.execute("DELETE FROM projection_state WHERE projector = 'threads'")
        pipeline.advance_cursors(conn, [*CORE_PROJECTORS[:3], bumped], head + 1)
    after = cursors(conn)
    assert after["threads"] == (head + 1, THREADS.version)
    assert after["messages"] == (head + 1, MESSAGES.version + 1)
    assert after["projects"][0] == head + 1

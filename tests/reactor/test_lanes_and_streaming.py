"""Lane teardown at scale, coalesced streaming, and the summary barrier."""

from __future__ import annotations

import asyncio
import gc
import math
import time
from pathlib import Path

import pytest

from t3cli.config import Config
from t3cli.contracts import commands as c
from t3cli.contracts.ids import derived_id, new_id
from t3cli.contracts.runtime import SessionStarted, TextCompleted, TextDelta
from t3cli.engine import Engine
from t3cli.reactor.ingest import FLUSH_BYTES, FLUSH_INTERVAL_S, TurnIngestor
from t3cli.reactor.turns import TurnHandle
from t3cli.store.barrier import ProjectionFailed
from t3cli.store.projectors.summaries import THREAD_SUMMARIES
from tests.conftest import create_thread
from tests.reactor.conftest import count, queue, reactor, run


def _bulk_threads(engine: Engine, n: int) -> list[str]:
    """Create `n` threads with one queued turn each, in a few transactions (fast setup)."""
    path = "/tmp/t3-test-project"
    project_id = derived_id("project", path)
    engine.dispatch(
        c.ProjectCreate(
            command_id=new_id(),
            project_id=project_id,
            path=path,
            title="p",
            default_provider="echo",
        )
    )
    ids = [new_id() for _ in range(n)]
    commands: list[c.Command] = []
    for thread_id in ids:
        commands.append(
            c.ThreadCreate(
                command_id=new_id(),
                thread_id=thread_id,
                project_id=project_id,
                provider="echo",
                title=f"t{thread_id[:6]}",
            )
        )
        commands.append(
            c.TurnQueue(
                command_id=new_id(),
                thread_id=thread_id,
                queue_item_id=new_id(),
                message_id=new_id(),
                text=f"hi {thread_id[:6]}",
            )
        )
    for start in range(0, len(commands), 500):
        engine.dispatch_many(commands[start : start + 500])
    return ids


def test_lanes_are_torn_down_after_1000_threads(
    engine: Engine, db_path: Path, config: Config
) -> None:
    _bulk_threads(engine, 1000)

    async def scenario() -> None:
        async with reactor(db_path, config, max_concurrent=16) as r:
            await r.drain()
            assert r.outcomes == {"completed": 1000}
            await r.keeper.flush_releases()
            # Nothing per finished thread: no lane, no lane or turn task, no held lease.
            assert len(r.lanes) == 0
            assert r.keeper.held == set()
            names = [t.get_name() for t in asyncio.all_tasks()]
            assert not [n for n in names if n.startswith(("lane-", "turn-"))]
            gc.collect()
            assert not [o for o in gc.get_objects() if isinstance(o, TurnHandle)]
            # The reactor's own sets and dicts do not grow with the threads it served.
            sizes = {
                name: len(value)
                for name, value in vars(r).items()
                if isinstance(value, (dict, set, list))
            }
            assert all(size < 50 for size in sizes.values()), sizes

    run(scenario())
    assert count(engine.conn, "SELECT count(*) FROM queued_turns") == 0
    assert count(engine.conn, "SELECT count(*) FROM thread_leases") == 0
    assert count(engine.conn, "SELECT count(*) FROM turns WHERE status = 'completed'") == 1000


def test_10000_deltas_make_a_bounded_number_of_events(
    engine: Engine, db_path: Path, config: Config
) -> None:
    thread_id = create_thread(engine, provider="stream")
    text = "".join(chr(ord("a") + n % 26) for n in range(10_000))
    queue(engine, thread_id, text)
    before = count(engine.conn, "SELECT count(*) FROM events")

    async def scenario() -> float:
        async with reactor(db_path, config) as r:
            began = time.monotonic()
            await r.drain()
            return time.monotonic() - began

    elapsed = run(scenario())
    chunks = count(
        engine.conn,
        "SELECT count(*) FROM events WHERE type = 'thread.message-sent' AND actor = 'reactor'",
    )
    bound = math.ceil(len(text.encode()) / FLUSH_BYTES) + math.floor(elapsed / FLUSH_INTERVAL_S) + 1
    assert 1 <= chunks <= bound
    total = count(engine.conn, "SELECT count(*) FROM events") - before
    assert total <= chunks + 20  # the turn's own bookkeeping is a handful of events
    reply = engine.conn.execute(
        "SELECT text, complete FROM messages WHERE thread_id = ? AND role = 'assistant'",
        (thread_id,),
    ).fetchone()
    assert reply == (text, 1)


def test_ingestor_flushes_by_size_and_time() -> None:
    now = [0.0]
    ingestor = TurnIngestor("t", "u", "echo", clock=lambda: now[0])
    out, shown = ingestor.feed(TextDelta("i", "x" * 100))
    assert out == [] and shown == "x" * 100  # buffered, shown live
    now[0] = FLUSH_INTERVAL_S
    assert ingestor.next_deadline() == pytest.approx(FLUSH_INTERVAL_S)
    due = ingestor.due()
    assert [cmd.text for cmd in due] == ["x" * 100]  # type: ignore[attr-defined]
    out, _ = ingestor.feed(TextDelta("i", "y" * FLUSH_BYTES))
    assert len(out) == 1 and out[0].chunk == 1  # type: ignore[attr-defined]
    out, _ = ingestor.feed(TextCompleted("i", "x" * 100 + "y" * FLUSH_BYTES + "tail"))
    assert [(cmd.text, cmd.complete, cmd.chunk) for cmd in out] == [("tail", True, 2)]  # type: ignore[attr-defined]
    assert ingestor.reply == "x" * 100 + "y" * FLUSH_BYTES + "tail"


def test_only_text_completed_is_persisted_whole() -> None:
    ingestor = TurnIngestor("t", "u", "echo")
    out, shown = ingestor.feed(TextCompleted("i", "whole reply"))
    assert [(cmd.text, cmd.complete, cmd.chunk) for cmd in out] == [("whole reply", True, 0)]  # type: ignore[attr-defined]
    assert shown == "whole reply"


def test_ingestor_skips_a_session_start_already_recorded() -> None:
    fresh = TurnIngestor("t", "u", "echo")
    out, _ = fresh.feed(SessionStarted("s-1"))
    assert [(cmd.status, cmd.provider_session_id) for cmd in out] == [("running", "s-1")]  # type: ignore[attr-defined]
    resumed = TurnIngestor("t", "u", "echo", recorded_session_id="s-1")
    assert resumed.feed(SessionStarted("s-1")) == ([], "")  # same id: nothing to record
    assert resumed.provider_session_id == "s-1"
    out, _ = resumed.feed(SessionStarted("s-2"))  # a new provider session is recorded
    assert [cmd.provider_session_id for cmd in out] == ["s-2"]  # type: ignore[attr-defined]


def test_a_resumed_session_is_recorded_running_once_per_turn(
    engine: Engine, db_path: Path, config: Config
) -> None:
    thread_id = create_thread(engine)

    async def scenario() -> None:
        async with reactor(db_path, config) as r:
            queue(engine, thread_id, "first")
            queue(engine, thread_id, "second")
            await r.drain()

    run(scenario())
    statuses = [
        row[0]
        for row in engine.conn.execute(
            "SELECT json_extract(payload, '$.status') FROM events"
            " WHERE stream_id = ? AND type = 'thread.session-set' ORDER BY sequence",
            (thread_id,),
        )
    ]
    # first turn: running before launch, running with the new session id, ready;
    # second turn (same provider session): running before launch, ready; then stopped at exit
    assert statuses == ["running", "running", "ready", "running", "ready", "stopped"]
    row = engine.conn.execute(
        "SELECT status, provider_session_id FROM sessions WHERE thread_id = ?", (thread_id,)
    ).fetchone()
    assert row[0] == "stopped" and row[1] is not None


def test_summary_barrier(engine: Engine, db_path: Path, config: Config) -> None:
    thread_id = create_thread(engine)

    async def scenario() -> None:
        async with reactor(db_path, config) as r:
            queue(engine, thread_id, "counted")
            await r.drain()
            head = count(engine.conn, "SELECT max(sequence) FROM events")
            assert await r.projected(at=head) >= head
            row = engine.conn.execute(
                "SELECT queue_depth, turn_count FROM thread_summaries WHERE thread_id = ?",
                (thread_id,),
            ).fetchone()
            assert row == (0, 1)

    run(scenario())


def test_summary_worker_failure_reaches_the_barrier(
    engine: Engine, db_path: Path, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread_id = create_thread(engine)

    def broken(conn: object, ev: object) -> None:
        raise RuntimeError("projector bug")

    monkeypatch.setitem(THREAD_SUMMARIES.handlers, "thread.turn-queued", broken)

    async def scenario() -> None:
        async with reactor(db_path, config) as r:
            queue(engine, thread_id, "boom")
            await r.drain()
            head = count(engine.conn, "SELECT max(sequence) FROM events")
            with pytest.raises(ProjectionFailed, match="projector bug"):
                await r.projected(at=head)
            with pytest.raises(ProjectionFailed):  # and it stays failed, never swallowed
                await r.projected(at=head)

    run(scenario())

"""Queue draining through a real reactor on a real SQLite file: FIFO per thread, a failed head
blocks its thread, retry resumes, cancel skips, move reorders; per-thread isolation."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from t3cli.config import Config
from t3cli.contracts import commands as c
from t3cli.contracts.ids import new_id
from t3cli.engine import Engine
from t3cli.reactor.dbworker import Outcome
from t3cli.store import eventlog
from tests.conftest import create_thread
from tests.reactor.conftest import count, eventually, queue, reactor, run, start_turn


def completed_texts(engine: Engine, thread_id: str) -> list[str]:
    """The user messages of the thread's completed turns, in completion order."""
    rows = engine.conn.execute(
        "SELECT m.text FROM turns t JOIN messages m ON m.message_id = t.message_id"
        " WHERE t.thread_id = ? AND t.status = 'completed' ORDER BY t.completed_at, t.rowid",
        (thread_id,),
    ).fetchall()
    return [row[0] for row in rows]


def completion_order(engine: Engine, thread_id: str) -> list[str]:
    rows = engine.conn.execute(
        "SELECT e.payload FROM events e WHERE e.stream_id = ? AND e.type = 'thread.turn-completed'"
        " ORDER BY e.sequence",
        (thread_id,),
    ).fetchall()
    import json

    out = []
    for (payload,) in rows:
        data = json.loads(payload)
        if data["status"] != "completed":
            continue
        turn_id = data["turn_id"]
        text = engine.conn.execute(
            "SELECT m.text FROM turns t JOIN messages m ON m.message_id = t.message_id"
            " WHERE t.turn_id = ?",
            (turn_id,),
        ).fetchone()[0]
        out.append(text)
    return out


def queue_rows(engine: Engine, thread_id: str) -> list[tuple[str, str]]:
    return [
        (row[0], row[1])
        for row in engine.conn.execute(
            "SELECT q.status, m.text FROM queued_turns q JOIN messages m"
            " ON m.message_id = q.message_id WHERE q.thread_id = ? ORDER BY q.position",
            (thread_id,),
        ).fetchall()
    ]


def test_fifo_per_thread_across_many_threads(engine: Engine, db_path: Path, config: Config) -> None:
    threads = [create_thread(engine) for _ in range(12)]
    for n in range(5):
        for thread_id in threads:
            queue(engine, thread_id, f"{thread_id[:6]} item {n}")

    async def scenario() -> None:
        async with reactor(db_path, config, max_concurrent=4) as r:
            await r.drain()
            assert r.outcomes == {"completed": 60}

    run(scenario())
    for thread_id in threads:
        assert completion_order(engine, thread_id) == [
            f"{thread_id[:6]} item {n}" for n in range(5)
        ]
        assert queue_rows(engine, thread_id) == []


def test_items_queued_while_running_are_picked_up(
    engine: Engine, db_path: Path, config: Config
) -> None:
    thread_id = create_thread(engine)

    async def scenario() -> None:
        async with reactor(db_path, config) as r:
            await r.drain()
            queue(engine, thread_id, "late one")
            queue(engine, thread_id, "late two")
            await eventually(lambda: len(completed_texts(engine, thread_id)) == 2, what="pickup")
            await r.drain()

    run(scenario())
    assert completion_order(engine, thread_id) == ["late one", "late two"]


def test_failed_head_blocks_retry_resumes(engine: Engine, db_path: Path, config: Config) -> None:
    thread_id = create_thread(engine)
    other = create_thread(engine)
    queue(engine, thread_id, "first")
    failing = queue(engine, thread_id, "FAIL second")
    queue(engine, thread_id, "third")
    queue(engine, other, "unaffected")

    async def scenario() -> None:
        async with reactor(db_path, config) as r:
            await r.drain()
            # The failed head blocks its thread (third is not sent) but not the other thread.
            assert completion_order(engine, thread_id) == ["first"]
            assert queue_rows(engine, thread_id) == [
                ("failed", "FAIL second"),
                ("pending", "third"),
            ]
            assert completion_order(engine, other) == ["unaffected"]
            reason = engine.conn.execute(
                "SELECT failure_reason FROM queued_turns WHERE queue_item_id = ?", (failing,)
            ).fetchone()[0]
            assert "fail_pattern" in reason
            # Retry: it fails again (same message), still blocking.
            engine.dispatch(
                c.QueuedTurnRetry(command_id=new_id(), thread_id=thread_id, queue_item_id=failing)
            )
            await r.drain()
            assert queue_rows(engine, thread_id) == [
                ("failed", "FAIL second"),
                ("pending", "third"),
            ]
            attempts = engine.conn.execute(
                "SELECT attempts FROM queued_turns WHERE queue_item_id = ?", (failing,)
            ).fetchone()[0]
            assert attempts == 2
            # Cancel skips it: the next item runs.
            engine.dispatch(
                c.QueuedTurnCancel(command_id=new_id(), thread_id=thread_id, queue_item_id=failing)
            )
            await r.drain()

    run(scenario())
    assert completion_order(engine, thread_id) == ["first", "third"]
    assert queue_rows(engine, thread_id) == []


def test_retry_resumes_a_blocked_thread(engine: Engine, db_path: Path, config: Config) -> None:
    """A head that failed for a transient reason runs again on retry, then the rest follows."""
    thread_id = create_thread(engine, provider="nonexistent")
    item = queue(engine, thread_id, "one")
    queue(engine, thread_id, "two")

    async def scenario() -> None:
        async with reactor(db_path, config) as r:
            await r.drain()
            assert queue_rows(engine, thread_id) == [("failed", "one"), ("pending", "two")]
            error = engine.conn.execute(
                "SELECT error FROM turns WHERE thread_id = ?", (thread_id,)
            ).fetchone()[0]
            assert "unknown provider 'nonexistent'" in error
            # Fix the cause (the thread's provider cannot change here, so configure it) ...
            r._services.config = Config(providers={"nonexistent": {"kind": "echo"}})
            engine.dispatch(
                c.QueuedTurnRetry(command_id=new_id(), thread_id=thread_id, queue_item_id=item)
            )
            await r.drain()

    run(scenario())
    assert completion_order(engine, thread_id) == ["one", "two"]


def test_move_changes_the_order(engine: Engine, db_path: Path, config: Config) -> None:
    thread_id = create_thread(engine)
    queue(engine, thread_id, "a")
    queue(engine, thread_id, "b")
    moved = queue(engine, thread_id, "c")
    engine.dispatch(
        c.QueuedTurnMove(
            command_id=new_id(), thread_id=thread_id, queue_item_id=moved, to_position=1
        )
    )

    async def scenario() -> None:
        async with reactor(db_path, config) as r:
            await r.drain()

    run(scenario())
    assert completion_order(engine, thread_id) == ["c", "a", "b"]


def test_direct_turn_request_runs(engine: Engine, db_path: Path, config: Config) -> None:
    """A turn requested without a queue item (`t3 send --no-wait`) is run."""
    thread_id = create_thread(engine)
    turn_id = start_turn(engine, thread_id, "direct")

    async def scenario() -> None:
        async with reactor(db_path, config) as r:
            await r.drain()

    run(scenario())
    status = engine.conn.execute("SELECT status FROM turns WHERE turn_id = ?", (turn_id,))
    assert status.fetchone()[0] == "completed"
    reply = engine.conn.execute(
        "SELECT text FROM messages WHERE turn_id = ? AND role = 'assistant'", (turn_id,)
    ).fetchone()[0]
    assert reply == "direct"


def test_hung_thread_does_not_block_others(engine: Engine, db_path: Path, config: Config) -> None:
    hung = create_thread(engine)
    stuck = create_thread(engine, provider="stuck")  # its session never starts
    busy = create_thread(engine)
    queue(engine, hung, "HANG forever")
    queue(engine, hung, "after the hang")
    queue(engine, stuck, "HANG at session start")

    def running(thread_id: str) -> int:
        return count(
            engine.conn,
            "SELECT count(*) FROM turns WHERE thread_id = ? AND status = 'running'",
            thread_id,
        )

    async def scenario() -> None:
        async with reactor(db_path, config) as r:
            await eventually(lambda: running(hung) == 1 and running(stuck) == 1, what="A hung")
            for n in range(5):
                queue(engine, busy, f"b{n}")
            await eventually(lambda: len(completed_texts(engine, busy)) == 5, what="thread B")
            # Both hung threads are still hung (nothing timed them out), their next item waits.
            assert running(hung) == 1 and running(stuck) == 1
            # B's lane lets go of its last turn just after that turn's end is committed, so the
            # in-memory view may lag the projection by a moment; the hung two must remain.
            await eventually(lambda: len(r.running_turns()) == 2, what="B's lane to free")
            assert running(hung) == 1 and running(stuck) == 1
            pending = "SELECT count(*) FROM queued_turns WHERE thread_id = ? AND status = 'pending'"
            assert count(engine.conn, pending, hung) == 1

    run(scenario())
    assert completion_order(engine, busy) == [f"b{n}" for n in range(5)]


def test_max_concurrent_one_with_timeout(engine: Engine, db_path: Path, config: Config) -> None:
    """One slot, held by a hung turn: B waits for it, A times out, its item fails, B completes."""
    hung = create_thread(engine, provider="timeout")
    other = create_thread(engine, provider="timeout")
    item = queue(engine, hung, "HANG here")

    async def scenario() -> None:
        async with reactor(db_path, config, max_concurrent=1) as r:
            await eventually(lambda: bool(r.running_turns()), what="A running")
            queue(engine, other, "b0")
            queue(engine, other, "b1")
            await r.drain()
            assert r.outcomes == {"timed_out": 1, "completed": 2}

    run(scenario())
    assert completion_order(engine, other) == ["b0", "b1"]
    status, reason = engine.conn.execute(
        "SELECT status, failure_reason FROM queued_turns WHERE queue_item_id = ?", (item,)
    ).fetchone()
    assert status == "failed"
    assert "timed out after 1 s" in reason


def test_interrupt_running_and_unstarted_turns(
    engine: Engine, db_path: Path, config: Config
) -> None:
    thread_id = create_thread(engine)
    waiting = create_thread(engine)
    hanging = queue(engine, thread_id, "HANG please")

    async def scenario() -> None:
        async with reactor(db_path, config, max_concurrent=1) as r:
            await eventually(lambda: bool(r.running_turns()), what="hang running")
            # A turn on another thread waits for the only slot: interrupt it before it starts.
            turn_id = start_turn(engine, waiting, "never delivered")
            assert r._watcher is not None
            await r._watcher.reached(eventlog.head(engine.conn))
            # With no room for it, this reactor does not even lease its thread (issue 12).
            assert waiting not in r.keeper.held and r.lanes.get(waiting) is None
            engine.dispatch(c.TurnInterrupt(command_id=new_id(), thread_id=waiting))
            engine.dispatch(c.TurnInterrupt(command_id=new_id(), thread_id=thread_id))
            await r.drain()
            assert r.outcomes == {"interrupted": 2}
            row = engine.conn.execute(
                "SELECT status, started_at FROM turns WHERE turn_id = ?", (turn_id,)
            ).fetchone()
            assert row == ("interrupted", None)  # never started: never reached the agent

    run(scenario())
    status = engine.conn.execute(
        "SELECT status FROM queued_turns WHERE queue_item_id = ?", (hanging,)
    ).fetchone()[0]
    assert status == "failed"


def test_session_stop_request(engine: Engine, db_path: Path, config: Config) -> None:
    thread_id = create_thread(engine)
    queue(engine, thread_id, "HANG then stop")

    async def scenario() -> None:
        async with reactor(db_path, config) as r:
            await eventually(lambda: bool(r.running_turns()), what="running")
            engine.dispatch(c.SessionStop(command_id=new_id(), thread_id=thread_id))
            await r.drain()
            row = engine.conn.execute(
                "SELECT status FROM sessions WHERE thread_id = ?", (thread_id,)
            ).fetchone()
            assert row[0] == "stopped"
            assert r.outcomes == {"interrupted": 1}

    run(scenario())


def test_close_interrupts_a_turn_caught_while_launching(
    engine: Engine, db_path: Path, config: Config
) -> None:
    """The first SIGINT/SIGTERM (`close(on_exit="interrupt")`) may land after a turn was recorded
    `running` but before its agent was launched: that turn is interrupted too, rather than left to
    run (a hanging agent then kept `t3 send`/`t3 run` alive until a second signal)."""
    thread_id = create_thread(engine)
    queue(engine, thread_id, "HANG once launched")
    launching = asyncio.Event()
    proceed = asyncio.Event()

    async def scenario() -> None:
        async with reactor(db_path, config) as r:
            commit = r._services.commit

            async def held_back(commands: Sequence[c.Command]) -> list[Outcome]:
                if any(
                    isinstance(cmd, c.SessionSet) and cmd.status == "running" for cmd in commands
                ):
                    launching.set()  # the turn is recorded `running`, its agent not launched yet
                    await proceed.wait()
                return await commit(commands)

            r._services.commit = held_back
            await launching.wait()
            closing = asyncio.ensure_future(r.close(on_exit="interrupt", kill=asyncio.Event()))
            await eventually(lambda: r.closing, what="close() to look at the running turns")
            proceed.set()
            await asyncio.wait_for(closing, 30)

    run(scenario())
    status = engine.conn.execute("SELECT status FROM turns WHERE thread_id = ?", (thread_id,))
    assert status.fetchone()[0] == "interrupted"

"""Recovery of what a dead reactor left (simulated, and after a real SIGKILL), and leases."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from t3cli.config import Config
from t3cli.contracts import commands as c
from t3cli.contracts.events import EventRecord
from t3cli.contracts.ids import new_id
from t3cli.engine import Engine
from t3cli.reactor import Reactor, ReactorOptions
from t3cli.reactor.drain import send_ids
from t3cli.reactor.observer import NullObserver
from t3cli.reactor.recovery import RETRY_REASON, TURN_ERROR
from t3cli.store import leases
from tests.conftest import create_thread, t3_executable
from tests.reactor.conftest import (
    count,
    eventually,
    queue,
    reactor,
    run,
    start_turn,
    subprocess_env,
    turn_statuses,
    wait_until,
)


def started_count(engine: Engine, queue_item_id: str) -> int:
    """How many times a queued item's turns were recorded started (delivered to an agent)."""
    return count(
        engine.conn,
        "SELECT count(*) FROM events e"
        " JOIN turns t ON t.turn_id = json_extract(e.payload, '$.turn_id')"
        " WHERE e.type = 'thread.turn-started' AND t.queue_item_id = ?",
        queue_item_id,
    )


def leave_sending(engine: Engine, thread_id: str, item: str, *, started: bool) -> str:
    """What a reactor that died mid-send leaves: the item sending, its turn requested or running,
    the session running, and a lease that has expired."""
    command_id, turn_id = send_ids(item, 0)
    engine.dispatch(
        c.QueuedTurnSendStart(
            command_id=command_id,
            actor="reactor",
            thread_id=thread_id,
            queue_item_id=item,
            turn_id=turn_id,
        )
    )
    if started:
        engine.dispatch(
            c.TurnStartedCmd(
                command_id=new_id(), actor="reactor", thread_id=thread_id, turn_id=turn_id
            )
        )
        engine.dispatch(
            c.SessionSet(
                command_id=new_id(), actor="reactor", thread_id=thread_id, status="running"
            )
        )
    leases.acquire(engine.conn, "deadhost:1:dead", [thread_id], ttl_s=-1)  # already expired
    return turn_id


def test_at_most_once_fails_the_item_and_blocks(
    engine: Engine, db_path: Path, config: Config
) -> None:
    thread_id = create_thread(engine)
    item = queue(engine, thread_id, "was running")
    queue(engine, thread_id, "behind it")
    turn_id = leave_sending(engine, thread_id, item, started=True)

    async def scenario() -> None:
        async with reactor(db_path, config) as r:
            await r.drain()
            assert r.outcomes == {}

    run(scenario())
    assert engine.conn.execute(
        "SELECT status, error FROM turns WHERE turn_id = ?", (turn_id,)
    ).fetchone() == ("failed", TURN_ERROR)
    assert engine.conn.execute(
        "SELECT status, failure_reason FROM queued_turns WHERE queue_item_id = ?", (item,)
    ).fetchone() == ("failed", RETRY_REASON)
    assert started_count(engine, item) == 1  # never sent twice
    pending = count(engine.conn, "SELECT count(*) FROM queued_turns WHERE status = 'pending'")
    assert pending == 1  # blocked behind the failed head
    assert (
        engine.conn.execute(
            "SELECT status FROM sessions WHERE thread_id = ?", (thread_id,)
        ).fetchone()[0]
        == "stopped"
    )


def test_resend_sends_again(engine: Engine, db_path: Path, config: Config) -> None:
    thread_id = create_thread(engine)
    item = queue(engine, thread_id, "send me again")
    leave_sending(engine, thread_id, item, started=True)
    direct = create_thread(engine)
    lost_turn = start_turn(engine, direct, "direct again")
    engine.dispatch(
        c.TurnStartedCmd(command_id=new_id(), actor="reactor", thread_id=direct, turn_id=lost_turn)
    )

    async def scenario() -> None:
        async with reactor(db_path, config, recover="resend") as r:
            await r.drain()
            assert r.outcomes == {"completed": 2}

    run(scenario())
    assert started_count(engine, item) == 2
    assert count(engine.conn, "SELECT count(*) FROM queued_turns") == 0
    replies = [
        row[0]
        for row in engine.conn.execute(
            "SELECT text FROM messages WHERE role = 'assistant' AND thread_id = ?", (direct,)
        )
    ]
    assert replies == ["direct again"]


def test_requested_turn_was_never_delivered_and_simply_runs(
    engine: Engine, db_path: Path, config: Config
) -> None:
    thread_id = create_thread(engine)
    item = queue(engine, thread_id, "requested only")
    leave_sending(engine, thread_id, item, started=False)

    async def scenario() -> None:
        async with reactor(db_path, config) as r:
            await r.drain()
            assert r.outcomes == {"completed": 1}

    run(scenario())
    assert started_count(engine, item) == 1
    assert count(engine.conn, "SELECT count(*) FROM queued_turns") == 0


def test_stale_session_is_reset(engine: Engine, db_path: Path, config: Config) -> None:
    thread_id = create_thread(engine)
    engine.dispatch(
        c.SessionSet(command_id=new_id(), actor="reactor", thread_id=thread_id, status="starting")
    )
    queue(engine, thread_id, "needs a free session")

    async def scenario() -> None:
        async with reactor(db_path, config) as r:
            await r.drain()
            assert r.outcomes == {"completed": 1}

    run(scenario())
    assert count(engine.conn, "SELECT count(*) FROM queued_turns") == 0


def test_a_live_lease_is_respected(engine: Engine, db_path: Path, config: Config) -> None:
    thread_id = create_thread(engine)
    free = create_thread(engine)
    leases.acquire(engine.conn, "otherhost:2:alive", [thread_id], ttl_s=60)
    queue(engine, thread_id, "not mine")
    queue(engine, free, "mine")

    async def scenario() -> None:
        async with reactor(db_path, config) as r:
            await r.until_idle()  # the held thread's work does not count
            assert r.outcomes == {"completed": 1}

    run(scenario())
    assert (
        count(engine.conn, "SELECT count(*) FROM queued_turns WHERE thread_id = ?", thread_id) == 1
    )


def test_lease_sql() -> None:
    import sqlite3

    from t3cli.store.schema import MIGRATIONS

    conn = sqlite3.connect(":memory:", isolation_level=None)
    for statement in MIGRATIONS[0][1]:
        conn.execute(statement)
    assert leases.acquire(conn, "a", ["t1", "t2"], 10, now=100) == {"t1", "t2"}
    assert leases.acquire(conn, "b", ["t1", "t3"], 10, now=105) == {"t3"}  # t1 is a's
    assert leases.renew(conn, "a", ["t1", "t2"], 10, now=108) == set()
    assert leases.acquire(conn, "b", ["t1"], 10, now=117) == set()  # renewed until 118
    assert leases.acquire(conn, "b", ["t1"], 10, now=119) == {"t1"}  # expired: taken over
    assert leases.renew(conn, "a", ["t1", "t2"], 10, now=120) == {"t1"}  # lost, reported
    assert leases.live_holder(conn, "t1", now=121) == "b"
    assert leases.held_by_others(conn, "a", now=121) == {"t1"}  # t3 expired at 115
    leases.release(conn, "b")
    assert leases.live_holder(conn, "t1", now=121) is None


def _spawn_run(t3_home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*t3_executable(), "run", *args],
        env=subprocess_env(t3_home),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigkill_mid_turn_then_recover(engine: Engine, t3_home: Path, config: Config) -> None:
    thread_id = create_thread(engine)
    item = queue(engine, thread_id, "HANG until killed")
    queue(engine, thread_id, "next")
    proc = _spawn_run(t3_home)
    try:
        wait_until(lambda: started_count(engine, item) == 1, what="the turn to start")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    # The dead reactor's lease expires after lease_ttl_s (3 s in the test config).
    done = subprocess.run(
        [*t3_executable(), "run", "--until-idle"],
        env=subprocess_env(t3_home), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert engine.conn.execute(
        "SELECT status, failure_reason FROM queued_turns WHERE queue_item_id = ?", (item,)
    ).fetchone() == ("failed", RETRY_REASON)
    assert started_count(engine, item) == 1
    assert "queued turn failed: reactor stopped during send" in done.stdout
    # With --recover resend nothing is left to resend now (it already failed); retry is explicit.
    engine.dispatch(c.QueuedTurnRetry(command_id=new_id(), thread_id=thread_id, queue_item_id=item))
    assert count(engine.conn, "SELECT count(*) FROM queued_turns WHERE status = 'pending'") == 2


def test_sigkill_then_resend(engine: Engine, t3_home: Path, config: Config) -> None:
    thread_id = create_thread(engine, provider="slow")
    item = queue(engine, thread_id, "slow " * 200)  # ~10 s of 5-char deltas every 50 ms
    proc = _spawn_run(t3_home)
    try:
        wait_until(lambda: started_count(engine, item) == 1, what="the turn to start")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    (t3_home / "config.toml").write_text(
        (t3_home / "config.toml").read_text().replace("delay_s = 0.05", "delay_s = 0")
    )
    done = subprocess.run(
        [*t3_executable(), "run", "--until-idle", "--recover", "resend"],
        env=subprocess_env(t3_home), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert started_count(engine, item) == 2
    assert count(engine.conn, "SELECT count(*) FROM queued_turns") == 0


def test_two_reactors_never_run_a_turn_twice(engine: Engine, t3_home: Path, config: Config) -> None:
    """Two `t3 run` processes compete for the same threads while work keeps arriving (leases are
    released whenever a thread runs dry, so both keep claiming): every item starts exactly once."""
    threads = [create_thread(engine, provider="slow") for _ in range(8)]
    procs = [_spawn_run(t3_home) for _ in range(2)]
    items: list[str] = []
    try:
        for n in range(3):
            items += [queue(engine, t, f"round {n}") for t in threads]
            wait_until(
                lambda: count(engine.conn, "SELECT count(*) FROM queued_turns") == 0,
                what=f"round {n} to drain",
            )
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        codes = [proc.wait(timeout=60) for proc in procs]
    outputs = [proc.stdout.read() if proc.stdout else "" for proc in procs]
    assert codes == [143, 143]
    # Each reactor reports the turns it drove, and only those: together, every turn once.
    assert sum(o.count("turn started") for o in outputs) == 24
    assert [started_count(engine, item) for item in items] == [1] * len(items)
    assert count(engine.conn, "SELECT count(*) FROM turns WHERE status = 'completed'") == 24
    owners = count(engine.conn, "SELECT count(*) FROM thread_leases")
    assert owners == 0  # both released their leases on exit


class _Seen(NullObserver):
    def __init__(self) -> None:
        self.types: list[str] = []

    def on_event(self, record: EventRecord) -> None:
        self.types.append(record.type)


def test_a_claimed_thread_reports_only_the_new_owners_turns(
    engine: Engine, db_path: Path, config: Config
) -> None:
    """A reactor whose watcher lags (a busy machine) claims a thread right after another reactor
    drove a turn there and released it: it reads that turn only now, while it holds the thread,
    and must not report it as its own (two `t3 run` would both print "turn started")."""
    thread_id = create_thread(engine)
    seen_a, seen_b = _Seen(), _Seen()

    async def scenario() -> None:
        async with Reactor(db_path, config, ReactorOptions(lease_ttl_s=3.0), seen_a) as a:
            # b's watcher reads the log once when it starts, then only when polled below.
            lagging = ReactorOptions(poll_interval_s=3600, lease_ttl_s=3.0, adopt=False)
            async with Reactor(db_path, config, lagging, seen_b) as b:
                await b.drain()  # its first read is done: from now on it lags
                queue(engine, thread_id, "driven by a")
                await a.drain()
                assert a.outcomes == {"completed": 1}
                await eventually(
                    lambda: count(engine.conn, "SELECT count(*) FROM thread_leases") == 0,
                    what="a to release the thread",
                )
                assert await b.claim(thread_id)
                assert b._watcher is not None
                await b._watcher.poll_once()  # a's turn reaches b only now

    run(scenario())
    assert "thread.turn-started" in seen_a.types
    assert "thread.turn-queued" in seen_b.types  # b held the thread: the user's events are shown
    assert "thread.turn-started" not in seen_b.types
    assert "thread.turn-completed" not in seen_b.types


def test_a_lost_lease_stops_the_turn(engine: Engine, db_path: Path, config: Config) -> None:
    """If this reactor stalled past its lease and another took the thread over, it stops its agent
    and starts nothing more there."""
    thread_id = create_thread(engine)
    queue(engine, thread_id, "HANG while the lease is stolen")
    queue(engine, thread_id, "not for the old owner")

    async def scenario() -> None:
        async with reactor(db_path, config, lease_ttl_s=0.6) as r:
            await eventually(lambda: bool(r.running_turns()), what="running")
            engine.conn.execute(
                "UPDATE thread_leases SET owner = 'otherhost:3:thief',"
                " expires_at = expires_at + 600"
            )
            await eventually(lambda: not r.running_turns(), what="the turn to stop")
            await r.drain()
            assert thread_id not in r.keeper.held

    run(scenario())
    assert turn_statuses(engine, thread_id) == ["interrupted"]
    # The next item is the new owner's business: this reactor did not send it.
    assert count(engine.conn, "SELECT count(*) FROM queued_turns WHERE status = 'pending'") == 1



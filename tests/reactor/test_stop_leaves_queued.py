"""Issue #13 point 8, with a real `t3 run` process and real signals: turns waiting for a slot when
the reactor stops are left queued (not `starting`/`sending`), as the README says, and `t3 run
--json` names the queued item on every event of a queued turn. (Since issue #12 a reactor
leases no more threads than it has slots: work waiting for one is not even sent.)"""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from t3cli.config import Config
from t3cli.engine import Engine
from tests.conftest import create_thread
from tests.reactor.conftest import count, popen_t3, queue, turn_statuses, wait_until

T3 = Callable[..., subprocess.CompletedProcess[str]]
# The `slow` provider (tests/reactor/conftest.py) streams 5 characters every 50 ms: ~3 s.
LONG = "a reply that takes its time to stream, " * 8


def _thread_json(t3: T3, thread_id: str) -> dict[str, object]:
    done = t3("threads", "--json")
    assert done.returncode == 0, done.stderr
    (row,) = [row for row in json.loads(done.stdout) if row["id"] == thread_id]
    return row  # type: ignore[no-any-return]


@pytest.mark.parametrize("on_exit", ["wait", "interrupt"])
def test_a_turn_waiting_for_a_slot_is_left_queued(
    engine: Engine, config: Config, t3_home: Path, t3: T3, on_exit: str
) -> None:
    text = LONG if on_exit == "wait" else "HANG until interrupted"
    threads = [create_thread(engine, provider="slow", title=name) for name in ("a", "b")]
    items = {thread_id: queue(engine, thread_id, text) for thread_id in threads}
    proc = popen_t3(t3_home, "run", "--max-concurrent", "1", "--on-exit", on_exit, "--json")
    try:
        # With one slot, one turn runs; the other thread's item waits, not sent.
        wait_until(
            lambda: [s for t in threads for s in turn_statuses(engine, t)] == ["running"],
            what="one turn running and the other item waiting for the slot",
        )
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    # The waiting turn never reached its agent; its item is pending again, the thread queued.
    pending = [t for t in threads if _item_status(engine, items[t]) == "pending"]
    assert len(pending) == 1, [_item_status(engine, items[t]) for t in threads]
    (waited,) = pending
    (ran,) = [t for t in threads if t != waited]
    assert _thread_json(t3, waited)["status"] == "queued"
    assert turn_statuses(engine, waited) == []  # it never reached an agent: not even a turn
    assert count(engine.conn, "SELECT count(*) FROM turns WHERE status = 'requested'") == 0
    if on_exit == "wait":
        assert turn_statuses(engine, ran) == ["completed"]
        assert _thread_json(t3, ran)["status"] == "idle"
    else:
        assert turn_statuses(engine, ran) == ["interrupted"]
        assert _item_status(engine, items[ran]) == "failed"
    # Every turn event of a queued turn names its item in `--json`.
    lines = [json.loads(line) for line in out.splitlines()]
    turn_events = [obj for obj in lines if str(obj["event"]).startswith("thread.turn-")]
    assert {obj["event"] for obj in turn_events} >= {
        "thread.turn-started",
        "thread.turn-completed",
    }, lines
    for obj in turn_events:
        assert obj["queue_item_id"] == items[str(obj["thread_id"])], obj
    if on_exit == "wait":  # a later reactor sends the requeued item, once
        drained = t3("run", "--until-idle", timeout=120)
        assert drained.returncode == 0, drained.stderr
        assert turn_statuses(engine, waited) == ["completed"]
    assert t3("replay", "--check").returncode == 0


def _item_status(engine: Engine, item: str) -> str | None:
    row = engine.conn.execute(
        "SELECT status FROM queued_turns WHERE queue_item_id = ?", (item,)
    ).fetchone()
    return None if row is None else str(row[0])

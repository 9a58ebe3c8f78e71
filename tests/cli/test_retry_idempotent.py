"""`t3 retry THREAD --command-id X` answers the same way every time X is replayed."""

from __future__ import annotations

from collections.abc import Callable

from t3cli.contracts import commands as c
from t3cli.contracts.ids import new_id
from t3cli.engine import Engine


def fail_one(engine: Engine, thread: str) -> str:
    item, turn = new_id(), new_id()
    for command in (
        c.TurnQueue(command_id=new_id(), thread_id=thread, queue_item_id=item,
                    message_id=new_id(), text="hi"),
        c.QueuedTurnSendStart(command_id=new_id(), actor="reactor", thread_id=thread,
                              queue_item_id=item, turn_id=turn),
        c.TurnCompletedCmd(command_id=new_id(), actor="reactor", thread_id=thread,
                           turn_id=turn, status="failed", error="boom"),
    ):  # fmt: skip
        engine.dispatch(command)
    return item


def test_nothing_to_retry_is_a_recorded_answer(
    engine: Engine, make_thread: Callable[..., str], t3: Callable[..., object]
) -> None:
    thread = make_thread(engine)
    first = t3("retry", thread, "--command-id", "retry-1")
    assert first.returncode == 3 and "no failed queued turn" in first.stderr  # type: ignore[attr-defined]
    fail_one(engine, thread)  # now there is something to retry...
    again = t3("retry", thread, "--command-id", "retry-1")
    # ...but the same command id replays the original answer instead of acting anew.
    assert again.returncode == 3 and "no failed queued turn" in again.stderr  # type: ignore[attr-defined]
    fresh = t3("retry", thread, "--command-id", "retry-2")
    assert fresh.returncode == 0, fresh.stderr  # type: ignore[attr-defined]


def test_retry_without_item_takes_the_failed_head(
    engine: Engine, make_thread: Callable[..., str], t3: Callable[..., object]
) -> None:
    thread = make_thread(engine)
    item = fail_one(engine, thread)
    done = t3("retry", thread, "--json")
    assert done.returncode == 0 and item in done.stdout  # type: ignore[attr-defined]
    status = engine.conn.execute(
        "SELECT status FROM queued_turns WHERE queue_item_id = ?", (item,)
    ).fetchone()
    assert status == ("pending",)

"""Command ids are idempotency keys: a replayed id returns the original outcome, appends nothing.
(The two-process race on one id is in `test_multiprocess.py`.)"""

from __future__ import annotations

import pytest

from t3cli.contracts import commands as c
from t3cli.contracts._record import replace
from t3cli.contracts.ids import new_id
from t3cli.domain.rejections import CommandRejected
from t3cli.engine import Engine
from t3cli.store import eventlog

from .support import log_state, queue_command, send_commands, thread_command


@pytest.fixture
def thread_id(fast_engine: Engine) -> str:
    thread_id = new_id()
    fast_engine.dispatch(thread_command(thread_id))
    return thread_id


def test_same_command_twice_appends_once(fast_engine: Engine, thread_id: str) -> None:
    cmd = queue_command(thread_id)
    first = fast_engine.dispatch(cmd)
    after_first = log_state(fast_engine.conn)
    again = fast_engine.dispatch(cmd)
    assert log_state(fast_engine.conn) == after_first
    assert not first.duplicate and again.duplicate
    assert again.sequence == first.sequence
    assert again.events == first.events
    assert fast_engine.conn.execute("SELECT count(*) FROM queued_turns").fetchone()[0] == 1
    receipt = eventlog.get_receipt(fast_engine.conn, cmd.command_id)
    assert receipt is not None and receipt.status == "accepted"
    assert (receipt.first_sequence, receipt.result_sequence) == (
        first.events[0].sequence,
        first.sequence,
    )


def test_a_duplicate_inside_one_batch_appends_once(fast_engine: Engine, thread_id: str) -> None:
    cmd = queue_command(thread_id)
    before = log_state(fast_engine.conn)
    first, second = fast_engine.dispatch_many([cmd, cmd])
    assert not isinstance(first, CommandRejected) and not isinstance(second, CommandRejected)
    assert (first.duplicate, second.duplicate) == (False, True)
    assert second.sequence == first.sequence
    assert log_state(fast_engine.conn).count == before.count + 2


def test_a_reused_id_returns_the_original_outcome_not_the_new_command(
    fast_engine: Engine, thread_id: str
) -> None:
    original = queue_command(thread_id, "original")
    first = fast_engine.dispatch(original)
    before = log_state(fast_engine.conn)
    other = replace(queue_command(thread_id, "other"), command_id=original.command_id)
    again = fast_engine.dispatch(other)
    assert again.duplicate and again.sequence == first.sequence
    assert log_state(fast_engine.conn) == before
    texts = [row[0] for row in fast_engine.conn.execute("SELECT text FROM messages")]
    assert texts == ["original"]


def test_a_reactor_command_replayed_after_a_crash_is_deduplicated(
    fast_engine: Engine, thread_id: str
) -> None:
    queued = queue_command(thread_id)
    fast_engine.dispatch(queued)
    send = send_commands(thread_id, queued.queue_item_id)[0]
    first = fast_engine.dispatch(send)
    before = log_state(fast_engine.conn)
    # The item is now `sending`: deciding again would reject; the receipt answers first.
    again = fast_engine.dispatch(send)
    assert again.duplicate and again.sequence == first.sequence
    assert log_state(fast_engine.conn) == before


def test_a_rejected_user_command_id_returns_the_same_rejection(
    fast_engine: Engine, thread_id: str
) -> None:
    fast_engine.dispatch(c.ThreadArchive(command_id=new_id(), thread_id=thread_id))
    cmd = queue_command(thread_id)
    before = log_state(fast_engine.conn)
    with pytest.raises(CommandRejected) as first:
        fast_engine.dispatch(cmd)
    assert log_state(fast_engine.conn) == before
    receipt = eventlog.get_receipt(fast_engine.conn, cmd.command_id)
    assert receipt is not None and receipt.status == "rejected" and receipt.result_sequence is None

    # Even once the command would be accepted, the id keeps its answer: a script that retries
    # after a timeout must not get a different outcome than the one it missed.
    fast_engine.dispatch(c.ThreadUnarchive(command_id=new_id(), thread_id=thread_id))
    after_unarchive = log_state(fast_engine.conn)
    with pytest.raises(CommandRejected) as second:
        fast_engine.dispatch(cmd)
    assert (second.value.reason, second.value.kind, second.value.hint) == (
        first.value.reason,
        first.value.kind,
        first.value.hint,
    )
    assert log_state(fast_engine.conn) == after_unarchive
    assert fast_engine.conn.execute("SELECT count(*) FROM queued_turns").fetchone()[0] == 0


def test_a_rejected_not_found_keeps_its_kind(fast_engine: Engine) -> None:
    cmd = queue_command(new_id())
    for _ in range(2):
        with pytest.raises(CommandRejected) as info:
            fast_engine.dispatch(cmd)
        assert info.value.kind == "not_found"


def test_a_rejected_reactor_command_is_decided_again(fast_engine: Engine, thread_id: str) -> None:
    # The reactor re-derives its commands from state; a transient rejection must not stick.
    queued = queue_command(thread_id)
    fast_engine.dispatch(queued)
    fast_engine.dispatch(
        c.SessionSet(command_id=new_id(), actor="reactor", thread_id=thread_id, status="running")
    )
    send = send_commands(thread_id, queued.queue_item_id)[0]
    before = log_state(fast_engine.conn)
    with pytest.raises(CommandRejected):
        fast_engine.dispatch(send)
    assert log_state(fast_engine.conn) == before
    assert eventlog.get_receipt(fast_engine.conn, send.command_id) is None
    fast_engine.dispatch(
        c.SessionSet(command_id=new_id(), actor="reactor", thread_id=thread_id, status="ready")
    )
    result = fast_engine.dispatch(send)
    assert not result.duplicate and len(result.events) == 2


def test_batch_outcomes_in_order_and_rejections_append_nothing(
    fast_engine: Engine, thread_id: str
) -> None:
    ok1, ok2 = queue_command(thread_id, "one"), queue_command(thread_id, "two")
    bad = queue_command(thread_id, "")
    missing = queue_command(new_id(), "x")
    before = log_state(fast_engine.conn)
    outcomes = fast_engine.dispatch_many([ok1, bad, ok2, missing])
    assert [type(o).__name__ for o in outcomes] == [
        "DispatchResult", "CommandRejected", "DispatchResult", "CommandRejected"
    ]  # fmt: skip
    after = log_state(fast_engine.conn)
    assert after.count == before.count + 4
    commands = {
        row[0]
        for row in fast_engine.conn.execute(
            "SELECT command_id FROM events WHERE sequence > ?", (before.head,)
        )
    }
    assert commands == {ok1.command_id, ok2.command_id}

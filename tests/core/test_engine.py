"""`Engine.dispatch` end to end on a real file: what the decider sees, what is stored."""

from __future__ import annotations

import pytest

from t3cli.contracts import commands as c
from t3cli.contracts.ids import new_id
from t3cli.domain.rejections import CommandRejected
from t3cli.engine import Engine

from .support import (
    Trace,
    assert_projections_equal_rebuild,
    assert_queue_invariants,
    dispatch_all,
    log_state,
    queue_command,
    send_commands,
    thread_command,
)


@pytest.fixture
def thread_id(fast_engine: Engine) -> str:
    thread_id = new_id()
    fast_engine.dispatch(thread_command(thread_id))
    return thread_id


def rejected_untouched(engine: Engine, command: c.Command) -> CommandRejected:
    before = log_state(engine.conn)
    with pytest.raises(CommandRejected) as info:
        engine.dispatch(command)
    assert log_state(engine.conn) == before
    return info.value


def test_reusing_a_queued_item_id_is_rejected_not_a_database_error(
    fast_engine: Engine, thread_id: str
) -> None:
    first = queue_command(thread_id)
    fast_engine.dispatch(first)
    again = c.TurnQueue(
        command_id=new_id(), thread_id=thread_id, queue_item_id=first.queue_item_id,
        message_id=new_id(), text="again",
    )  # fmt: skip
    rejection = rejected_untouched(fast_engine, again)
    assert rejection.kind == "invalid" and first.queue_item_id in rejection.reason
    # An item id is unique across threads too.
    other = new_id()
    fast_engine.dispatch(thread_command(other))
    rejected_untouched(fast_engine, c.TurnQueue(
        command_id=new_id(), thread_id=other, queue_item_id=first.queue_item_id,
        message_id=new_id(), text="elsewhere",
    ))  # fmt: skip
    assert_queue_invariants(fast_engine.conn)


def test_reusing_a_turn_id_is_rejected(fast_engine: Engine, thread_id: str) -> None:
    started = c.TurnStart(
        command_id=new_id(), thread_id=thread_id, turn_id=new_id(), message_id=new_id(), text="go"
    )
    fast_engine.dispatch(started)
    fast_engine.dispatch(
        c.TurnCompletedCmd(
            command_id=new_id(), actor="reactor", thread_id=thread_id, turn_id=started.turn_id,
            status="completed",
        )
    )  # fmt: skip
    rejected_untouched(fast_engine, c.TurnStart(
        command_id=new_id(), thread_id=thread_id, turn_id=started.turn_id, message_id=new_id(),
        text="again",
    ))  # fmt: skip
    queued = queue_command(thread_id)
    fast_engine.dispatch(queued)
    send = c.QueuedTurnSendStart(
        command_id=new_id(), actor="reactor", thread_id=thread_id,
        queue_item_id=queued.queue_item_id, turn_id=started.turn_id,
    )  # fmt: skip
    assert "already in use" in rejected_untouched(fast_engine, send).reason
    turns = fast_engine.conn.execute("SELECT count(*) FROM turns").fetchone()[0]
    assert turns == 1


def test_reusing_a_message_id_does_not_append_to_another_message(
    fast_engine: Engine, thread_id: str
) -> None:
    first = queue_command(thread_id, "first")
    fast_engine.dispatch(first)
    other = new_id()
    fast_engine.dispatch(thread_command(other))
    rejected_untouched(fast_engine, c.TurnStart(
        command_id=new_id(), thread_id=other, turn_id=new_id(), message_id=first.message_id,
        text="second",
    ))  # fmt: skip
    texts = fast_engine.conn.execute("SELECT text FROM messages").fetchall()
    assert texts == [("first",)]


def test_an_agent_reply_chunk_cannot_extend_another_threads_message(
    fast_engine: Engine, thread_id: str
) -> None:
    started = c.TurnStart(
        command_id=new_id(), thread_id=thread_id, turn_id=new_id(), message_id=new_id(), text="go"
    )
    fast_engine.dispatch(started)
    reply = new_id()
    fast_engine.dispatch(c.MessageAppend(
        command_id=new_id(), actor="reactor", thread_id=thread_id, turn_id=started.turn_id,
        message_id=reply, text="mine", complete=False, chunk=0,
    ))  # fmt: skip
    other = new_id()
    fast_engine.dispatch(thread_command(other))
    rejected_untouched(fast_engine, c.MessageAppend(
        command_id=new_id(), actor="reactor", thread_id=other, turn_id=started.turn_id,
        message_id=reply, text=" and theirs", complete=True, chunk=1,
    ))  # fmt: skip
    rejected_untouched(fast_engine, c.MessageAppend(
        command_id=new_id(), actor="reactor", thread_id=thread_id, turn_id=started.turn_id,
        message_id=reply, text="a second first chunk", complete=True, chunk=0,
    ))  # fmt: skip
    fast_engine.dispatch(c.MessageAppend(
        command_id=new_id(), actor="reactor", thread_id=thread_id, turn_id=started.turn_id,
        message_id=reply, text=" and more", complete=True, chunk=1,
    ))  # fmt: skip
    text = fast_engine.conn.execute(
        "SELECT text FROM messages WHERE message_id = ?", (reply,)
    ).fetchone()
    assert text == ("mine and more",)



def test_queueing_does_not_read_the_queue_it_appends_to(
    fast_engine: Engine, thread_id: str
) -> None:
    # `t3 queue` must cost the same behind 1 item as behind 200: the decision needs only the
    # thread and the new ids, never the items already waiting.
    dispatch_all(fast_engine, [queue_command(thread_id) for _ in range(200)])
    with Trace(fast_engine.conn) as trace:
        fast_engine.dispatch(queue_command(thread_id, "the 201st"))
    reads = [s for s in trace.statements if s.lstrip().upper().startswith("SELECT")]
    assert reads, trace.statements
    assert not [s for s in reads if "queued_turns" in s and "thread_id" in s], reads
    assert not [s for s in reads if "FROM turns" in s], reads
    positions = fast_engine.conn.execute(
        "SELECT max(position), count(*) FROM queued_turns WHERE thread_id = ?", (thread_id,)
    ).fetchone()
    assert positions == (201, 201)

def test_a_queued_message_learns_its_turn_when_sent(fast_engine: Engine, thread_id: str) -> None:
    queued = queue_command(thread_id)
    fast_engine.dispatch(queued)
    send = send_commands(thread_id, queued.queue_item_id)[0]
    assert isinstance(send, c.QueuedTurnSendStart)
    fast_engine.dispatch(send)
    row = fast_engine.conn.execute(
        "SELECT turn_id, queue_item_id FROM messages WHERE message_id = ?", (queued.message_id,)
    ).fetchone()
    assert row == (send.turn_id, queued.queue_item_id)
    turn = fast_engine.conn.execute(
        "SELECT queue_item_id, message_id, status FROM turns WHERE turn_id = ?", (send.turn_id,)
    ).fetchone()
    assert turn == (queued.queue_item_id, queued.message_id, "requested")
    assert_projections_equal_rebuild(fast_engine.conn)


def test_a_full_queued_turn_lifecycle_projects_consistently(
    fast_engine: Engine, thread_id: str
) -> None:
    conn = fast_engine.conn
    items = [queue_command(thread_id, f"step {n}") for n in range(3)]
    for item in items:
        fast_engine.dispatch(item)
    for command in send_commands(thread_id, items[0].queue_item_id, outcome="failed"):
        fast_engine.dispatch(command)
    head = conn.execute(
        "SELECT status, failure_reason, attempts FROM queued_turns WHERE position = 1"
    ).fetchone()
    assert head == ("failed", "turn failed", 1)
    counters = conn.execute(
        "SELECT pending_count, sending_count, failed_count, active_turn_id FROM threads"
    ).fetchone()
    assert counters == (2, 0, 1, None)
    fast_engine.dispatch(
        c.QueuedTurnRetry(
            command_id=new_id(), thread_id=thread_id, queue_item_id=items[0].queue_item_id
        )
    )
    for command in send_commands(thread_id, items[0].queue_item_id):
        fast_engine.dispatch(command)
    remaining = conn.execute("SELECT queue_item_id, position FROM queued_turns ORDER BY position")
    assert remaining.fetchall() == [(items[1].queue_item_id, 1), (items[2].queue_item_id, 2)]
    assert conn.execute(
        "SELECT pending_count, sending_count, failed_count FROM threads"
    ).fetchone() == (2, 0, 0)
    statuses = conn.execute("SELECT status FROM turns ORDER BY requested_sequence").fetchall()
    assert statuses == [("failed",), ("completed",)]
    assert_queue_invariants(conn)
    assert_projections_equal_rebuild(conn)

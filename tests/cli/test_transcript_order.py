"""`t3 show` reads as a conversation: each reply follows its instruction; a queued message is in
the transcript only once it has been sent (until then it belongs to the queue)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from t3cli.contracts import commands as c
from t3cli.contracts.ids import new_id
from t3cli.engine import Engine
from t3cli.store.queries import thread_messages
from tests.reactor.conftest import queue


def _send(engine: Engine, thread: str, item: str, reply: str, status: str = "completed") -> None:
    turn = new_id()
    for command in (
        c.QueuedTurnSendStart(command_id=new_id(), actor="reactor", thread_id=thread,
                              queue_item_id=item, turn_id=turn),
        c.TurnStartedCmd(command_id=new_id(), actor="reactor", thread_id=thread, turn_id=turn),
        c.MessageAppend(command_id=new_id(), actor="reactor", thread_id=thread, turn_id=turn,
                        message_id=new_id(), text=reply, complete=True),
        c.TurnCompletedCmd(command_id=new_id(), actor="reactor", thread_id=thread,
                           turn_id=turn, status=status),  # type: ignore[arg-type]
    ):  # fmt: skip
        engine.dispatch(command)


def test_queued_instructions_sit_where_they_were_sent(
    engine: Engine, fresh_db: sqlite3.Connection, make_thread: Callable[..., str]
) -> None:
    thread = make_thread(engine)
    items = [queue(engine, thread, f"instruction {index}") for index in range(3)]
    for index, item in enumerate(items[:2]):
        _send(engine, thread, item, f"reply {index}")
    texts = [m.text for m in thread_messages(fresh_db, thread)]
    assert texts == ["instruction 0", "reply 0", "instruction 1", "reply 1"]


def test_never_sent_messages_are_not_in_the_transcript(
    engine: Engine, fresh_db: sqlite3.Connection, make_thread: Callable[..., str]
) -> None:
    thread = make_thread(engine)
    cancelled = queue(engine, thread, "cancelled before it was sent")
    engine.dispatch(
        c.QueuedTurnCancel(command_id=new_id(), thread_id=thread, queue_item_id=cancelled)
    )
    queue(engine, thread, "still waiting")
    assert thread_messages(fresh_db, thread) == []
    direct_turn = new_id()
    engine.dispatch(
        c.TurnStart(command_id=new_id(), thread_id=thread, turn_id=direct_turn,
                    message_id=new_id(), text="sent at once", when_busy="queue",
                    queue_item_id=new_id())
    )  # fmt: skip
    # The thread is busy (an item waits), so `--queue-if-busy` queued it: not sent either.
    assert thread_messages(fresh_db, thread) == []


def test_a_failed_turn_keeps_its_instruction(
    engine: Engine, fresh_db: sqlite3.Connection, make_thread: Callable[..., str]
) -> None:
    thread = make_thread(engine)
    first = queue(engine, thread, "first")
    _send(engine, thread, first, "first attempt", status="failed")
    queue(engine, thread, "queued after the failure")
    texts = [m.text for m in thread_messages(fresh_db, thread)]
    assert texts == ["first", "first attempt"]  # sent (and failed): it stays
    assert [m.text for m in thread_messages(fresh_db, thread, last=1)] == ["first attempt"]
    assert [m.text for m in thread_messages(fresh_db, thread, last=5)] == texts
    assert thread_messages(fresh_db, thread, last=0) == []


def test_show_lists_a_queued_message_only_under_thequeue(cli, thread):
    tid = thread("q")
    assert cli("queue", tid, "waiting in line").code == 0
    doc = cli("show", tid, "--json").json()
    assert doc["messages"] == []
    assert [q["text"] for q in doc["queue"]] == ["waiting in line"]
    for tty in (False, True):
        shown = cli("show", tid, tty=tty).stdout
        assert shown.count("waiting in line") == 1
        assert "user:" not in shown
        assert shown.index("queue:") < shown.index("waiting in line")

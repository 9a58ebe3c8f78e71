"""`t3 show` reads as a conversation: each reply follows its instruction, pending ones last."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from t3cli.contracts import commands as c
from t3cli.contracts.ids import new_id
from t3cli.engine import Engine
from t3cli.store.queries import thread_messages


def test_queued_instructions_sit_where_they_were_sent(
    engine: Engine, fresh_db: sqlite3.Connection, make_thread: Callable[..., str]
) -> None:
    thread = make_thread(engine)
    items = [new_id() for _ in range(3)]
    for index, item in enumerate(items):
        engine.dispatch(
            c.TurnQueue(command_id=new_id(), thread_id=thread, queue_item_id=item,
                        message_id=new_id(), text=f"instruction {index}")
        )  # fmt: skip
    for index, item in enumerate(items[:2]):
        turn = new_id()
        for command in (
            c.QueuedTurnSendStart(command_id=new_id(), actor="reactor", thread_id=thread,
                                  queue_item_id=item, turn_id=turn),
            c.TurnStartedCmd(command_id=new_id(), actor="reactor", thread_id=thread, turn_id=turn),
            c.MessageAppend(command_id=new_id(), actor="reactor", thread_id=thread, turn_id=turn,
                            message_id=new_id(), text=f"reply {index}", complete=True),
            c.TurnCompletedCmd(command_id=new_id(), actor="reactor", thread_id=thread,
                               turn_id=turn, status="completed"),
        ):  # fmt: skip
            engine.dispatch(command)
    texts = [m.text for m in thread_messages(fresh_db, thread)]
    assert texts == ["instruction 0", "reply 0", "instruction 1", "reply 1", "instruction 2"]

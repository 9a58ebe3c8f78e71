"""pydantic validates the dataclass contracts: discriminated unions, unknown types, bad payloads."""

from __future__ import annotations

import json
import sqlite3

import pydantic
import pytest

from t3cli.contracts import commands as c
from t3cli.contracts._record import field_defaults, fields_of
from t3cli.contracts.events import ALL_EVENTS, EVENT_TYPES
from t3cli.contracts.ids import new_id
from t3cli.contracts.validation import (
    UnknownEvent,
    command_json_schema,
    event_json_schema,
    validate_command,
    validate_event,
    validate_event_payload,
)
from t3cli.engine import Engine


def test_every_command_class_round_trips_through_the_union() -> None:
    for cls in c.ALL_COMMANDS:
        defaults = field_defaults(cls)
        data: dict[str, object] = {"type": cls.TYPE, "command_id": new_id()}
        for name in fields_of(cls):
            if name in data or name in defaults:
                continue
            if name in ("to_position", "pgid", "leader_start"):
                data[name] = 1
            elif name == "status":
                data[name] = "ready" if cls is c.SessionSet else "completed"
            else:
                data[name] = "x"
        command = validate_command(data)
        assert type(command) is cls
        assert command.TYPE == cls.TYPE


def test_wrong_discriminator_and_wrong_types_are_rejected() -> None:
    with pytest.raises(pydantic.ValidationError):
        validate_command({"type": "thread.no-such", "command_id": "x"})
    with pytest.raises(pydantic.ValidationError):
        validate_command(
            {"type": "thread.queued-turn.move", "command_id": "x", "thread_id": "t",
             "queue_item_id": "q", "to_position": "first"}
        )  # fmt: skip


def test_unknown_event_type_is_kept_not_raised() -> None:
    result = validate_event_payload("thread.teleported", {"where": "mars"})
    assert result == UnknownEvent(type="thread.teleported", payload={"where": "mars"})


def test_newer_payload_fields_are_ignored_and_missing_fields_fail() -> None:
    payload = validate_event_payload(
        "thread.turn-queued",
        {"thread_id": "t", "queue_item_id": "q", "message_id": "m", "priority": 9},
    )
    assert payload == EVENT_TYPES["thread.turn-queued"](
        thread_id="t", queue_item_id="q", message_id="m"
    )
    with pytest.raises(pydantic.ValidationError):
        validate_event({"type": "thread.turn-queued", "payload": {"thread_id": "t"}})


def test_every_event_the_engine_wrote_validates(
    engine: Engine, fresh_db: sqlite3.Connection, make_thread
) -> None:
    thread_id = make_thread(engine)
    queued = engine.dispatch(
        c.TurnQueue(command_id=new_id(), thread_id=thread_id, queue_item_id=new_id(),
                    message_id=new_id(), text="hello")
    )  # fmt: skip
    item = queued.events[-1].payload["queue_item_id"]
    turn = new_id()
    for command in (
        c.QueuedTurnSendStart(command_id=new_id(), actor="reactor", thread_id=thread_id,
                              queue_item_id=item, turn_id=turn),
        c.TurnStartedCmd(command_id=new_id(), actor="reactor", thread_id=thread_id, turn_id=turn),
        c.ActivityAppend(command_id=new_id(), actor="reactor", thread_id=thread_id, turn_id=turn,
                         activity_id="a1", kind="command", summary="pytest -q",
                         detail={"exit_code": 0}),
        c.MessageAppend(command_id=new_id(), actor="reactor", thread_id=thread_id, turn_id=turn,
                        message_id="m1", text="hello", complete=True),
        c.TurnCompletedCmd(command_id=new_id(), actor="reactor", thread_id=thread_id,
                           turn_id=turn, status="completed", input_tokens=3, cost_usd=0.0),
        c.SessionSet(command_id=new_id(), actor="reactor", thread_id=thread_id, status="ready"),
    ):  # fmt: skip
        engine.dispatch(command)
    rows = fresh_db.execute("SELECT type, payload FROM events ORDER BY sequence").fetchall()
    seen = set()
    for event_type, payload in rows:
        typed = validate_event({"type": event_type, "payload": json.loads(payload)})
        assert typed.TYPE == event_type
        seen.add(event_type)
    assert "thread.queued-turn-resolved" in seen and "thread.activity-appended" in seen


def test_json_schemas_cover_every_type() -> None:
    events = json.dumps(event_json_schema())
    commands = json.dumps(command_json_schema())
    for cls in ALL_EVENTS:
        assert cls.TYPE in events
    for command_cls in c.ALL_COMMANDS:
        assert command_cls.TYPE in commands

"""The event envelope as stored: deterministic ids, causation, correlation, timestamps."""

from __future__ import annotations

import calendar
import re
import sqlite3
import time

import pytest

from t3cli.contracts import commands as c
from t3cli.contracts import ids
from t3cli.contracts.ids import derived_id, new_id, utc_now
from t3cli.engine import Engine
from t3cli.store import eventlog

from .support import queue_command, send_commands, thread_command

ISO_MS_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def _stored(conn: sqlite3.Connection, command_id: str) -> list[tuple[object, ...]]:
    return conn.execute(
        "SELECT event_id, causation_event_id, correlation_id, occurred_at, actor, command_id"
        " FROM events WHERE command_id = ? ORDER BY sequence",
        (command_id,),
    ).fetchall()


def test_event_ids_derive_from_the_command_id(fast_engine: Engine) -> None:
    thread_id = new_id()
    fast_engine.dispatch(thread_command(thread_id))
    cmd = c.TurnStart(
        command_id="cmd-start-1",
        thread_id=thread_id,
        turn_id=new_id(),
        message_id=new_id(),
        text="hi",
    )
    result = fast_engine.dispatch(cmd)
    expected = [derived_id("cmd-start-1", "0"), derived_id("cmd-start-1", "1")]
    assert [ev.event_id for ev in result.events] == expected
    assert [row[0] for row in _stored(fast_engine.conn, "cmd-start-1")] == expected
    assert all(re.fullmatch(r"[0-9a-f]{32}", event_id) for event_id in expected)


def test_turn_start_second_event_is_caused_by_the_message(fast_engine: Engine) -> None:
    thread_id = new_id()
    fast_engine.dispatch(thread_command(thread_id))
    cmd = c.TurnStart(
        command_id=new_id(), thread_id=thread_id, turn_id=new_id(), message_id=new_id(), text="hi"
    )
    result = fast_engine.dispatch(cmd)
    message, requested = result.events
    assert (message.type, requested.type) == ("thread.message-sent", "thread.turn-start-requested")
    assert message.causation_event_id is None
    assert requested.causation_event_id == message.event_id
    stored = _stored(fast_engine.conn, cmd.command_id)
    assert stored[1][1] == stored[0][0]
    assert message.stream_version + 1 == requested.stream_version
    assert message.sequence + 1 == requested.sequence


def test_correlation_defaults_to_the_command_id_and_passes_through(fast_engine: Engine) -> None:
    thread_id = new_id()
    fast_engine.dispatch(thread_command(thread_id))
    plain = queue_command(thread_id)
    result = fast_engine.dispatch(plain)
    assert {ev.correlation_id for ev in result.events} == {plain.command_id}
    assert {row[2] for row in _stored(fast_engine.conn, plain.command_id)} == {plain.command_id}

    send, started, *_ = send_commands(thread_id, plain.queue_item_id)
    caused = c.QueuedTurnSendStart(
        command_id=send.command_id, actor="reactor", thread_id=thread_id,
        queue_item_id=plain.queue_item_id, turn_id=started.turn_id,  # type: ignore[attr-defined]
        correlation_id="corr-1", causation_event_id=result.events[-1].event_id,
    )  # fmt: skip
    first, second = fast_engine.dispatch(caused).events
    assert (first.correlation_id, second.correlation_id) == ("corr-1", "corr-1")
    assert first.causation_event_id == result.events[-1].event_id
    assert second.causation_event_id == first.event_id
    assert first.actor == second.actor == "reactor"
    assert first.command_id == second.command_id == send.command_id


def test_occurred_at_is_utc_with_milliseconds(fast_engine: Engine) -> None:
    thread_id = new_id()
    before = time.time()
    result = fast_engine.dispatch(thread_command(thread_id))
    after = time.time()
    stamp = result.events[0].occurred_at
    assert ISO_MS_UTC.match(stamp), stamp
    parsed = (
        calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")) + int(stamp[20:23]) / 1000
    )
    assert before - 0.002 <= parsed <= after + 0.002
    assert _stored(fast_engine.conn, result.command_id)[0][3] == stamp


def test_the_engine_clock_stamps_every_event_of_a_command(fast_db: sqlite3.Connection) -> None:
    engine = Engine(fast_db, clock=lambda: "2030-01-02T03:04:05.678Z")
    from .support import project_command

    engine.dispatch(project_command())
    thread_id = new_id()
    engine.dispatch(thread_command(thread_id))
    result = engine.dispatch(queue_command(thread_id))
    assert {ev.occurred_at for ev in result.events} == {"2030-01-02T03:04:05.678Z"}
    assert eventlog.read_after(fast_db, 0)[-1].occurred_at == "2030-01-02T03:04:05.678Z"


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (0.0, "1970-01-01T00:00:00.000Z"),
        (1_800_000_000.5, "2027-01-15T08:00:00.500Z"),
        (1_800_000_000.0005, "2027-01-15T08:00:00.000Z"),
        (1_800_000_000.999, "2027-01-15T08:00:00.999Z"),
    ],
)
def test_utc_now_is_iso_utc_with_milliseconds(
    now: float, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ids.time, "time", lambda: now)
    assert utc_now() == expected


def test_record_json_shape_is_the_stored_envelope(fast_engine: Engine) -> None:
    thread_id = new_id()
    fast_engine.dispatch(thread_command(thread_id))
    (record,) = eventlog.read_after(fast_engine.conn, 1, stream_id=thread_id)
    shape = record.to_json_dict()
    assert list(shape) == [
        "sequence", "event_id", "stream_kind", "stream_id", "stream_version", "type", "payload",
        "schema_version", "command_id", "causation_event_id", "correlation_id", "actor",
        "occurred_at",
    ]  # fmt: skip
    assert shape["stream_kind"] == "thread" and shape["stream_version"] == 1
    assert shape["schema_version"] == 1 and shape["payload"]["thread_id"] == thread_id

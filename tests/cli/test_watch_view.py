"""`WatchView`: what `t3 watch` prints for a thread's events, with plain values."""

from __future__ import annotations

import io
import json
from typing import Any

from t3cli.cli.watch_view import WatchView
from t3cli.contracts.events import EventRecord
from t3cli.store.queries import MessageRow, QueueRow
from tests.conftest import event_record

THREAD = "a" * 32
TURN = "b" * 32


def ev(event_type: str, **payload: Any) -> EventRecord:
    return event_record(THREAD, event_type, **payload)


def chunk(text: str, message_id: str = "m1", complete: bool = False) -> EventRecord:
    return ev("thread.message-sent", message_id=message_id, role="assistant", text=text,
              turn_id=TURN, complete=complete)  # fmt: skip


def view(json_mode: bool = False, color: bool = False) -> tuple[WatchView, io.StringIO]:
    out = io.StringIO()
    return WatchView(out, THREAD, json=json_mode, color=color), out


def test_a_streamed_reply_continues_under_one_header_and_lines_start_fresh():
    v, out = view()
    for event in (
        ev("thread.message-sent", message_id="u1", role="user", text="hi", turn_id=TURN),
        ev("thread.turn-started", turn_id=TURN),
        chunk("Hello"), chunk(", wor"),
        ev("thread.activity-appended", turn_id=TURN, activity_id="x", kind="command",
           summary="pytest -q", status="completed"),
        chunk("ld", complete=True),
        chunk("Second message", message_id="m2", complete=True),
        ev("thread.turn-completed", turn_id=TURN, status="completed", duration_ms=1200,
           input_tokens=3, output_tokens=4),
    ):  # fmt: skip
        v.event(event)
    v.end("idle", 0, 9, "")
    assert out.getvalue() == (
        "user:\nhi\n"
        f"turn {TURN[:8]} started\n"
        "\nassistant:\nHello, wor\n"
        "· command: pytest -q (completed)\n"
        "\nassistant:\nld\n"  # the message goes on after the activity line, under its header
        "\nassistant:\nSecond message\n"
        f"turn {TURN[:8]} completed · 1.2s · tokens 3 in / 4 out\n"
    )
    assert v.failed_turns == []


def test_a_queued_message_is_shown_as_queued_then_as_sent():
    v, out = view()
    v.event(ev("thread.message-sent", message_id="u1", role="user", text="later please",
               queue_item_id="q" * 32))  # fmt: skip
    v.event(ev("thread.turn-queued", queue_item_id="q" * 32, message_id="u1"))
    v.event(ev("thread.queued-turn-send-started", queue_item_id="q" * 32, turn_id=TURN))
    v.event(ev("thread.turn-start-requested", turn_id=TURN, message_id="u1",
               queue_item_id="q" * 32))  # fmt: skip
    assert out.getvalue() == "queued qqqqqqqq (pending): later please\n\nuser:\nlater please\n"


def test_snapshot_shows_the_tail_the_running_turn_and_the_queue_but_not_the_item_being_sent():
    v, out = view()
    messages = [
        MessageRow("u1", "user", "go", TURN, "q1" * 16, True, "t0", 1),
        MessageRow("m1", "assistant", "partial rep", TURN, None, False, "t1", 3),
    ]
    queue = [
        QueueRow("q1" * 16, THREAD, 1, "sending", "go", None, 1, TURN, "t0", "u1"),
        QueueRow("q2" * 16, THREAD, 2, "pending", "next\nthing", None, 0, None, "t2", "u2"),
    ]
    v.snapshot(messages, (TURN, "running"), queue)
    v.event(chunk("ly", message_id="m1", complete=True))  # the partial message goes on
    assert out.getvalue() == (
        "user:\ngo\n"
        "\nassistant:\npartial rep\n"
        "queued q2q2q2q2 (pending): next thing\n"
        "\nassistant:\nly\n"
    )


def test_failed_turns_are_kept_for_the_exit_code():
    v, out = view()
    v.event(ev("thread.turn-completed", turn_id=TURN, status="timed_out", error="too slow"))
    v.event(ev("thread.queued-turn-send-failed", queue_item_id="q" * 32, reason="too slow"))
    assert v.failed_turns == [(TURN, "timed_out", "too slow")]
    assert out.getvalue().splitlines() == [
        f"turn {TURN[:8]} timed_out · error: too slow",
        "queued turn qqqqqqqq failed: too slow",
    ]


def test_untrusted_text_is_made_printable_but_json_keeps_it_exact():
    nasty = "ok\x1b]0;pwned\x07\rgone"
    v, out = view()
    v.event(chunk(nasty, complete=True))
    v.event(ev("thread.activity-appended", turn_id=TURN, activity_id="x", kind="tool",
               summary="\x1b[2J", status=None))  # fmt: skip
    text = out.getvalue()
    assert "\x1b" not in text and "\r" not in text
    assert "ok\\x1b]0;pwned\\x07\\rgone" in text and "\\x1b[2J" in text
    v, out = view(json_mode=True)
    v.event(chunk(nasty, complete=True))
    assert json.loads(out.getvalue())["text"] == nasty


def test_json_lines_have_fixed_keys_per_type():
    v, out = view(json_mode=True)
    v.snapshot(
        [MessageRow("u1", "user", "go", TURN, None, True, "t0", 1)],
        (TURN, "requested"),
        [QueueRow("q" * 32, THREAD, 1, "failed", "x", "boom", 1, None, "t0", "u2")],
    )
    v.event(ev("thread.turn-started", turn_id=TURN))
    v.event(chunk("re"))
    v.event(ev("thread.activity-appended", turn_id=TURN, activity_id="x", kind="command",
               summary="ls", status="started"))  # fmt: skip
    v.event(ev("thread.turn-completed", turn_id=TURN, status="completed", duration_ms=5))
    v.end("idle", 0, 42, "2026-11-22T20:09:33.000Z")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    common = {"type", "thread_id", "sequence", "at"}
    keys = {
        "message": {"message_id", "role", "text", "turn_id", "queue_item_id", "complete"},
        "queue": {"queue_item_id", "status", "text", "reason", "position"},
        "turn": {"turn_id", "status", "error", "duration_ms", "input_tokens", "output_tokens",
                 "cost_usd"},
        "text": {"message_id", "turn_id", "text", "complete"},
        "activity": {"turn_id", "activity_id", "kind", "summary", "status"},
        "end": {"status", "exit_code"},
    }  # fmt: skip
    assert [line["type"] for line in lines] == [
        "message", "queue", "turn", "text", "activity", "turn", "end",
    ]  # fmt: skip
    for line in lines:
        assert set(line) == common | keys[line["type"]], line
        assert line["thread_id"] == THREAD
    assert lines[1]["reason"] == "boom" and lines[2]["status"] == "started"
    assert lines[-1] == {
        "type": "end", "thread_id": THREAD, "sequence": 42, "at": "2026-11-22T20:09:33.000Z",
        "status": "idle", "exit_code": 0,
    }  # fmt: skip


def test_colour_only_when_asked():
    v, out = view(color=True)
    v.event(chunk("x", complete=True))
    assert "\x1b[1;32massistant:\x1b[0m" in out.getvalue()
    v, out = view(color=False)
    v.event(chunk("x", complete=True))
    assert "\x1b[" not in out.getvalue()

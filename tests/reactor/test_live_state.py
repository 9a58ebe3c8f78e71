"""The live view's model and frame, on plain values (the terminal itself: tests/tmux/): status
words, stable order, sticky focus, text kept exactly, rows that fit the height, keys decoded."""

from __future__ import annotations

import io

from rich.console import Console

from t3cli.reactor.keys import KeyDecoder
from t3cli.reactor.live_frame import frame
from t3cli.reactor.live_state import FOCUS_GRACE_S, LiveState, thread_status
from t3cli.reactor.observer import TurnResult
from t3cli.store.reactor_queries import QueueItemRow, ThreadSnapshot, TurnRow
from tests.conftest import event_record as event


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def snapshot(
    thread_id: str, *, queue: tuple[str, ...] = (), turn: str | None = None, archived: bool = False
) -> ThreadSnapshot:
    items = tuple(
        QueueItemRow(f"q{i}", f"m{i}", status, i + 1, 0, None, None)
        for i, status in enumerate(queue)
    )
    active = None if turn is None else TurnRow("t1", thread_id, "m", None, turn, False)
    return ThreadSnapshot(
        thread_id=thread_id, project_id="p", cwd="/", provider="echo", model=None,
        title=f"title {thread_id}", archived=archived, deleted=False, session_status=None,
        provider_session_id=None, stop_requested=False, queue=items, active_turn=active,
    )  # fmt: skip


def test_status_words_are_those_of_t3_threads() -> None:
    assert thread_status(snapshot("a")) == "idle"
    assert thread_status(snapshot("a", queue=("pending",))) == "queued"
    assert thread_status(snapshot("a", queue=("sending",), turn="requested")) == "starting"
    assert thread_status(snapshot("a", queue=("sending",), turn="running")) == "running"
    assert thread_status(snapshot("a", queue=("failed", "pending"))) == "blocked"
    assert thread_status(snapshot("a", archived=True)) == "archived"


def test_rows_keep_the_order_they_first_appeared_in() -> None:
    state = LiveState(clock=Clock())
    for thread_id in "abc":
        state.snapshot(snapshot(thread_id, queue=("pending",)))
    state.event(event("c", "thread.turn-started", turn_id="t"))
    state.text("c", "t", "hello")
    state.event(event("a", "thread.queued-turn-send-failed", queue_item_id="q", reason="x"))
    assert [row.thread_id for row in state.rows()] == ["a", "b", "c"]
    assert [row.status for row in state.rows()] == ["blocked", "queued", "running"]


def test_streamed_text_keeps_its_spaces() -> None:
    state = LiveState(clock=Clock())
    for chunk in ("explain the", " build", " system ", "of this"):
        state.text("a", "t1", chunk)
    row = state.row("a")
    assert row is not None
    assert row.reply == row.message == "explain the build system of this"


def test_focus_is_sticky_until_the_turn_ends_and_then_waits_a_grace() -> None:
    clock = Clock()
    state = LiveState(clock=clock)
    state.text("a", "ta", "one")
    state.text("b", "tb", "two")
    assert state.focus == "a"  # b streams too, but a's turn is still running
    state.event(event("a", "thread.turn-completed", turn_id="ta", status="completed"))
    state.text("b", "tb", " three")
    assert state.focus == "a"  # a's finished reply stays in view for the grace
    clock.now += FOCUS_GRACE_S
    state.text("b", "tb", " four")
    assert state.focus == "b"


def test_a_focus_the_user_chose_stays() -> None:
    state = LiveState(clock=Clock())
    for thread_id in "abc":
        state.snapshot(snapshot(thread_id))
    assert state.move_focus(1) == "a"
    assert state.move_focus(1) == "b"
    assert state.move_focus(5) == "c"
    assert state.move_focus(-1) == "b"
    state.text("a", "t", "text elsewhere")
    state.finished(TurnResult("b", "tb", None, "failed", "boom", ""))
    state.text("c", "t", "more elsewhere")
    assert state.focus == "b"


def test_what_does_not_fit_is_summarised_keeping_the_busiest_rows() -> None:
    state = LiveState(clock=Clock())
    for n in range(30):
        status = ("running",) if n % 10 == 4 else ("failed",) if n % 10 == 8 else ()
        turn = "running" if status == ("running",) else None
        state.snapshot(snapshot(f"t{n:02d}", queue=("sending",) if turn else status, turn=turn))
    shown, hidden = state.visible(10)
    assert len(shown) == 9
    assert sum(hidden.values()) == 21
    assert [r.status for r in shown].count("running") == 3
    assert [r.status for r in shown].count("blocked") == 3
    assert shown == sorted(shown, key=lambda r: r.order)
    assert hidden == {"idle": 21}


def test_the_frame_never_exceeds_the_terminal() -> None:
    state = LiveState(clock=Clock())
    for n in range(30):
        state.snapshot(snapshot(f"{n:08x}", queue=("pending",) * (n % 3)))
        state.text(f"{n:08x}", "t", "word " * 200 + "\n" * 30)
    for width, height, summarised in ((80, 24, True), (120, 30, True), (200, 50, False)):
        console = Console(width=width, height=height, record=True, file=io.StringIO())
        console.print(frame(state, console, width, height, now=0.0, legend="legend"))
        lines = console.export_text().rstrip("\n").split("\n")
        assert len(lines) <= height, (width, height, len(lines))
        assert lines[-1].startswith("legend")
        summary = [line for line in lines if line.startswith("  +") and " more: " in line]
        assert len(summary) == int(summarised), lines
        assert lines[-2].startswith("╰"), lines  # the panel is there, right above


def test_keys_decode_arrows_letters_and_split_sequences() -> None:
    decoder = KeyDecoder()
    assert decoder.feed(b"jk\x1b[A\x1b[BQ") == ["j", "k", "up", "down", "q"]
    assert decoder.feed(b"\x1b[") == []
    assert decoder.feed(b"A\x1bOB") == ["up", "down"]
    assert decoder.feed(b"\x1b[1;5Ar") == ["r"]  # an unknown sequence is skipped whole
    assert decoder.feed(b"\x03\x7f") == []  # control bytes are no keys


def test_an_agent_warning_and_a_failure_are_noticed_once() -> None:
    state = LiveState(clock=Clock())
    state.event(event("a", "thread.activity-appended", kind="warning", summary="retrying (1/3)"))
    assert state.notice == "a warning: retrying (1/3)"
    state.event(event("a", "thread.turn-start-requested", turn_id="t", queue_item_id="q"))
    state.event(event("a", "thread.turn-completed", turn_id="t", status="failed", error="boom"))
    assert state.notice == "a turn failed: boom"
    state.note("something else")
    # The item's failure, in the same transaction as the turn's, is not a second notice.
    state.event(event("a", "thread.queued-turn-send-failed", queue_item_id="q", turn_id="t",
                      reason="boom"))  # fmt: skip
    assert state.notice == "something else"
    row = state.row("a")
    assert row is not None and row.status == "blocked"

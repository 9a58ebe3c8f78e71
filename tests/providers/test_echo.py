"""The echo provider: deterministic reply, options, timeouts, interrupt and stop."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from t3cli.contracts.runtime import (
    SessionStarted,
    TextCompleted,
    TextDelta,
    TurnStarted,
    Usage,
)
from t3cli.providers.base import TurnRun

from .conftest import collect, final, make_provider, of_type, request, run_turn


def test_reply_is_the_message_in_protocol_order(project: Path) -> None:
    provider = make_provider("echo", {})
    events = run_turn(provider, request(project, "fix the tests please"))

    assert events[0] == SessionStarted("echo-th1")
    assert events[1] == TurnStarted()
    assert of_type(events, TextDelta) == [TextDelta("tu1:echo", "fix the tests please")]
    assert of_type(events, TextCompleted) == [TextCompleted("tu1:echo", "fix the tests please")]
    assert of_type(events, Usage) == [Usage(4, 4, 0, 0.0)]
    assert final(events).status == "completed"
    assert final(events).error is None


def test_is_deterministic_and_keeps_its_session_on_resume(project: Path) -> None:
    provider = make_provider("echo", {"chunk_chars": 2})
    first = run_turn(provider, request(project, "same words"))
    second = run_turn(provider, request(project, "same words", resume="echo-th1"))
    assert first == second


def test_chunk_chars_streams_the_reply_in_deltas(project: Path) -> None:
    provider = make_provider("echo", {"chunk_chars": 3})
    events = run_turn(provider, request(project, "abcdefgh"))
    assert [d.text for d in of_type(events, TextDelta)] == ["abc", "def", "gh"]
    assert of_type(events, TextCompleted)[0].text == "abcdefgh"
    assert final(events).status == "completed"


def test_fail_pattern_fails_the_turn(project: Path) -> None:
    provider = make_provider("echo", {"fail_pattern": r"\bboom\b"})
    events = run_turn(provider, request(project, "please boom now"))
    done = final(events)
    assert done.status == "failed"
    assert "fail_pattern" in (done.error or "")
    assert of_type(events, TextCompleted) == []
    # A message that does not match is untouched.
    assert final(run_turn(provider, request(project, "boomerang"))).status == "completed"


def test_hang_pattern_is_ended_by_the_turn_timeout(project: Path) -> None:
    provider = make_provider("echo", {"hang_pattern": "hang", "turn_timeout_s": 0.3})
    events = run_turn(provider, request(project, "please hang"))
    done = final(events)
    assert done.status == "timed_out"
    assert done.error == "echo turn timed out after 0.3 s (providers.echo.turn_timeout_s)"
    assert of_type(events, SessionStarted)  # it had started; it hung mid-turn


def test_hang_at_start_is_ended_by_the_start_timeout(project: Path) -> None:
    provider = make_provider(
        "slow", {"kind": "echo", "hang_pattern": ".", "hang_at": "start", "start_timeout_s": 0.3}
    )
    events = run_turn(provider, request(project, "anything"))
    done = final(events)
    assert done.status == "timed_out"
    assert "providers.slow.start_timeout_s" in (done.error or "")
    assert "after 0.3 s" in (done.error or "")
    assert len(events) == 1  # nothing started


async def _interrupt(run: TurnRun) -> None:
    await run.interrupt()


async def _stop(run: TurnRun) -> None:
    await run.stop()


def test_interrupt_ends_a_hung_turn(project: Path) -> None:
    provider = make_provider("echo", {"hang_pattern": "hang"})
    events = run_turn(provider, request(project, "hang"), after_first=_interrupt)
    assert final(events).status == "interrupted"


def test_stop_ends_a_hung_turn(project: Path) -> None:
    provider = make_provider("echo", {"hang_pattern": "hang"})
    events = run_turn(provider, request(project, "hang"), after_first=_stop)
    assert final(events).status == "interrupted"
    assert final(events).error == "stopped"


def test_delay_s_sleeps_before_each_delta(project: Path) -> None:
    # With a long delay, an interrupt sent after the first event lands before any delta.
    provider = make_provider("echo", {"delay_s": 30, "chunk_chars": 1})
    events = run_turn(provider, request(project, "abc"), after_first=_interrupt)
    assert of_type(events, TextDelta) == []
    assert final(events).status == "interrupted"


def test_events_can_be_iterated_only_once(project: Path) -> None:
    run = make_provider("echo", {}).start_turn(request(project))

    async def twice() -> None:
        await collect(run)
        with pytest.raises(RuntimeError):
            run.events()

    asyncio.run(twice())

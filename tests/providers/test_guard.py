"""The guard every provider's turn goes through: one TurnCompleted, last, whatever the adapter does.

The "adapters" here are small deliberately broken runs written for the test; the guard itself is
the real one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from t3cli.contracts.runtime import (
    RuntimeEvent,
    SessionStarted,
    TextDelta,
    TurnCompleted,
    TurnStarted,
)
from t3cli.providers._guard import GuardedTurn

from .conftest import collect


class Scripted:
    """A raw run that yields `script`, then optionally raises or hangs."""

    def __init__(self, script: list[RuntimeEvent], *, then: str = "end") -> None:
        self.script = script
        self.then = then
        self.stopped = asyncio.Event()

    async def interrupt(self) -> None:
        self.stopped.set()

    async def stop(self) -> None:
        self.stopped.set()

    async def events(self) -> AsyncIterator[RuntimeEvent]:
        for event in self.script:
            yield event
        if self.then == "raise":
            raise ValueError("adapter bug")
        if self.then == "hang":
            await self.stopped.wait()
            yield TurnCompleted("interrupted", error="stopped")


def guarded(inner: Scripted, start: float | None = None, turn: float | None = None) -> GuardedTurn:
    return GuardedTurn(inner, provider_name="p", start_timeout_s=start, turn_timeout_s=turn)


def test_events_after_turn_completed_are_dropped() -> None:
    inner = Scripted([TurnStarted(), TurnCompleted("completed"), TextDelta("i", "late")])
    assert asyncio.run(collect(guarded(inner))) == [TurnStarted(), TurnCompleted("completed")]


def test_a_stream_without_an_outcome_gets_a_failed_one() -> None:
    events = asyncio.run(collect(guarded(Scripted([TurnStarted()]))))
    assert events == [
        TurnStarted(),
        TurnCompleted("failed", error="p: adapter ended without an outcome"),
    ]


def test_an_adapter_exception_becomes_a_failed_turn() -> None:
    events = asyncio.run(collect(guarded(Scripted([TurnStarted()], then="raise"))))
    assert events[-1].status == "failed"  # type: ignore[union-attr]
    assert "adapter bug" in (events[-1].error or "")  # type: ignore[union-attr]


def test_turn_timeout_stops_the_adapter_and_reports_timed_out() -> None:
    inner = Scripted([SessionStarted("s"), TurnStarted()], then="hang")
    events = asyncio.run(collect(guarded(inner, turn=0.2)))
    assert inner.stopped.is_set()
    assert events == [
        SessionStarted("s"),
        TurnStarted(),
        TurnCompleted(
            "timed_out", error="p turn timed out after 0.2 s (providers.p.turn_timeout_s)"
        ),
    ]


def test_start_timeout_only_applies_before_the_first_event() -> None:
    # The start timeout is short but the first event comes at once: only the turn timeout fires.
    inner = Scripted([SessionStarted("s")], then="hang")
    events = asyncio.run(collect(guarded(inner, start=0.05, turn=0.4)))
    assert "turn_timeout_s" in (events[-1].error or "")  # type: ignore[union-attr]

"""The one place where turn timeouts and the stream invariants are enforced, for every provider.

`GuardedTurn` wraps an adapter's raw `TurnRun`. The adapter's stream is pumped by a task into a
queue; the guard reads the queue with deadlines, so a hung adapter (or a hung agent) cannot hold the
consumer past its timeout. What the guard guarantees, whatever the adapter does:

- exactly one `TurnCompleted`, and it is the last event (events an adapter yields after its own
  `TurnCompleted` are dropped; a stream that ends without one gets a `failed` one);
- an exception raised by the adapter becomes `TurnCompleted("failed", "internal error ...")`;
- start timeout: no runtime event within `start_timeout_s` of the first `events()` step; turn
  timeout: the turn is not finished `turn_timeout_s` after that step. Either kills the agent (the
  adapter's `stop()`: SIGKILL to the process group), waits for the adapter to wind down, and ends
  the stream with `TurnCompleted("timed_out", error="... timed out after N s ...")`. If the
  adapter turns out to have finished on its own in that instant, its real outcome is reported;
- abandoning the stream (aclose or cancellation of the consumer) stops the adapter.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Final, cast

from t3cli.contracts.runtime import RuntimeEvent, TurnCompleted
from t3cli.providers.base import TurnRun

STOPPED_ERROR: Final = "stopped"
# How long to wait for an adapter to end its stream after `stop()` (SIGKILL). A process that is
# SIGKILLed goes away at once; this only bounds a buggy adapter.
_WIND_DOWN_S: Final = 5.0

_End = object()  # pump sentinel: the adapter's stream ended
# Events read ahead of the consumer: a bound, so that an agent that writes faster than its output
# is recorded is slowed down (through its stdout pipe) instead of piling its reply up in memory.
_READ_AHEAD = 16


async def _get(queue: asyncio.Queue[object], timeout: float | None) -> object:
    """`queue.get()` bounded by `timeout` (TimeoutError when it runs out).

    Not `asyncio.wait_for`: in Python 3.11 it can swallow a cancellation of the caller when the
    awaited item is ready in the same instant, and then a cancelled consumer keeps running.
    """
    async with asyncio.timeout(timeout):
        return await queue.get()


def is_stop_marker(event: RuntimeEvent) -> bool:
    """True for the `TurnCompleted` an adapter yields when it was killed by `stop()`."""
    return (
        isinstance(event, TurnCompleted)
        and event.status == "interrupted"
        and event.error == STOPPED_ERROR
    )


class GuardedTurn:
    """A `TurnRun` with timeouts and the ordering invariants enforced (see module docstring)."""

    def __init__(
        self,
        inner: TurnRun,
        *,
        provider_name: str,
        start_timeout_s: float | None,
        turn_timeout_s: float | None,
    ) -> None:
        self._inner = inner
        self._name = provider_name
        self._start_timeout_s = start_timeout_s
        self._turn_timeout_s = turn_timeout_s
        self._iterated = False
        self._finished = False

    async def interrupt(self) -> None:
        if not self._finished:
            await self._inner.interrupt()

    async def stop(self) -> None:
        if not self._finished:
            await self._inner.stop()

    def events(self) -> AsyncIterator[RuntimeEvent]:
        if self._iterated:
            raise RuntimeError("TurnRun.events() can be iterated only once")
        self._iterated = True
        return self._guarded()

    async def _guarded(self) -> AsyncIterator[RuntimeEvent]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue(_READ_AHEAD)
        pump = asyncio.create_task(self._pump(queue), name=f"turn-pump-{self._name}")
        began = loop.time()
        seen_event = False
        try:
            while True:
                timeout, which = self._next_deadline(loop.time() - began, seen_event)
                try:
                    item = await _get(queue, timeout)
                except TimeoutError:
                    async for event in self._time_out(queue, which):
                        yield event
                    return
                seen_event = True
                terminal = self._terminal_for(item)
                if terminal is not None:
                    self._finished = True
                    yield terminal
                    return
                yield cast(RuntimeEvent, item)
        finally:
            if not self._finished:
                # The consumer went away mid-turn: nobody will ever read this agent's output.
                self._finished = True
                try:
                    await self._inner.stop()
                except Exception:
                    pass
            pump.cancel()
            await asyncio.gather(pump, return_exceptions=True)

    def _next_deadline(self, elapsed: float, seen_event: bool) -> tuple[float | None, str]:
        candidates: list[tuple[float, str]] = []
        if self._turn_timeout_s is not None:
            candidates.append((self._turn_timeout_s - elapsed, "turn"))
        if not seen_event and self._start_timeout_s is not None:
            candidates.append((self._start_timeout_s - elapsed, "start"))
        if not candidates:
            return None, ""
        remaining, which = min(candidates)
        return max(remaining, 0.0), which

    def _terminal_for(self, item: object) -> TurnCompleted | None:
        """The event that ends the stream for this pumped item, or None for an ordinary event."""
        if isinstance(item, TurnCompleted):
            return item
        if item is _End:
            return TurnCompleted("failed", error=f"{self._name}: adapter ended without an outcome")
        if isinstance(item, BaseException):
            return TurnCompleted(
                "failed", error=f"{self._name}: internal error in the adapter: {item!r}"
            )
        return None

    async def _time_out(
        self, queue: asyncio.Queue[object], which: str
    ) -> AsyncIterator[RuntimeEvent]:
        if which == "start":
            limit = self._start_timeout_s
            error = (
                f"{self._name} timed out after {limit:g} s waiting for the agent to start "
                f"(providers.{self._name}.start_timeout_s)"
            )
        else:
            limit = self._turn_timeout_s
            error = (
                f"{self._name} turn timed out after {limit:g} s "
                f"(providers.{self._name}.turn_timeout_s)"
            )
        try:
            await self._inner.stop()
        except Exception:
            pass
        # Forward what the adapter still reports while it winds down; its terminal event tells
        # whether the kill landed (stop marker) or the agent had finished in that same instant.
        loop = asyncio.get_running_loop()
        until = loop.time() + _WIND_DOWN_S
        while True:
            try:
                item = await _get(queue, max(until - loop.time(), 0.0))
            except TimeoutError:
                break
            terminal = self._terminal_for(item)
            if terminal is None:
                yield cast(RuntimeEvent, item)
                continue
            if not is_stop_marker(terminal) and terminal.status == "completed":
                self._finished = True
                yield terminal
                return
            break
        self._finished = True
        yield TurnCompleted("timed_out", error=error)

    async def _pump(self, queue: asyncio.Queue[object]) -> None:
        stream = self._inner.events()
        try:
            async for event in stream:
                await queue.put(event)
                if isinstance(event, TurnCompleted):
                    return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # an adapter bug must still end the turn cleanly
            await queue.put(exc)
            return
        finally:
            # Close the adapter's generator now (runs its cleanup: kills, pipe closes) rather than
            # whenever it is garbage collected.
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
        await queue.put(_End)

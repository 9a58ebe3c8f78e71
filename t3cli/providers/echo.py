"""The `echo` provider: in-process, deterministic, offline. The reply is the message text itself.

Used for demos and tests, so every behaviour is driven by options (`kind = "echo"` tables):

- `chunk_chars`: stream the reply as deltas of this many characters (default: one delta);
- `delay_s`: sleep this long before each delta;
- `fail_pattern`: a message matching this regex fails the turn (after `TurnStarted`);
- `hang_pattern`: a matching message hangs until interrupted, stopped or timed out; `hang_at`
  says where: `"turn"` (default, after `TurnStarted`: a busy agent) or `"start"` (before any event:
  a session that never starts, which the start timeout catches).

Event order of a normal turn: `SessionStarted("echo-" + thread_id)`, `TurnStarted`, `TextDelta`...,
`TextCompleted`, `Usage` (word counts as tokens, cost 0), `TurnCompleted("completed")`. The session
id depends only on the thread, so a resumed thread keeps it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import t3cli
from t3cli.contracts.runtime import (
    RuntimeEvent,
    SessionStarted,
    TextCompleted,
    TextDelta,
    TurnCompleted,
    TurnStarted,
    Usage,
)
from t3cli.providers._guard import STOPPED_ERROR
from t3cli.providers._options import EchoOptions
from t3cli.providers._provider import ProviderBase
from t3cli.providers.base import ProviderCheck, TurnRequest, TurnRun


def echo_session_id(thread_id: str) -> str:
    """The echo provider's session id for a thread (deterministic)."""
    return f"echo-{thread_id}"


class EchoProvider(ProviderBase):
    kind = "echo"

    def __init__(self, name: str, options: EchoOptions) -> None:
        super().__init__(name, options)
        self._options = options
        self._fail = re.compile(options.fail_pattern) if options.fail_pattern else None
        self._hang = re.compile(options.hang_pattern) if options.hang_pattern else None

    def _open_turn(self, request: TurnRequest) -> TurnRun:
        return EchoTurn(
            request,
            self._options,
            fails=bool(self._fail and self._fail.search(request.message)),
            hangs=bool(self._hang and self._hang.search(request.message)),
        )

    def check(self) -> ProviderCheck:
        return ProviderCheck(
            name=self.name,
            kind=self.kind,
            executable=None,
            found=True,
            version=f"built-in (t3cli {t3cli.__version__})",
            problem=None,
        )


class EchoTurn:
    """One echo turn; interrupt/stop wake any sleep or hang at once."""

    def __init__(
        self, request: TurnRequest, options: EchoOptions, *, fails: bool, hangs: bool
    ) -> None:
        self._request = request
        self._options = options
        self._fails = fails
        self._hangs = hangs
        self._wake = asyncio.Event()
        self._interrupted = False
        self._stopped = False

    async def interrupt(self) -> None:
        self._interrupted = True
        self._wake.set()

    async def stop(self) -> None:
        self._stopped = True
        self._wake.set()

    async def _woken(self, seconds: float | None) -> bool:
        """Sleep up to `seconds` (None: forever); True if interrupted or stopped meanwhile."""
        if self._interrupted or self._stopped:
            return True
        if seconds is not None and seconds <= 0:
            return False
        try:
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation.
            async with asyncio.timeout(seconds):
                await self._wake.wait()
        except TimeoutError:
            return False
        return True

    def _ended(self) -> TurnCompleted:
        if self._stopped:
            return TurnCompleted("interrupted", error=STOPPED_ERROR)
        return TurnCompleted("interrupted", error="interrupted")

    async def events(self) -> AsyncIterator[RuntimeEvent]:
        request, options = self._request, self._options
        if self._hangs and options.hang_at == "start":
            await self._woken(None)
            yield self._ended()
            return
        yield SessionStarted(echo_session_id(request.thread_id))
        yield TurnStarted()
        if self._fails:
            yield TurnCompleted(
                "failed", error=f"echo: message matched fail_pattern {options.fail_pattern!r}"
            )
            return
        if self._hangs:
            await self._woken(None)
            yield self._ended()
            return
        text = request.message
        size = options.chunk_chars or max(len(text), 1)
        item_id = f"{request.turn_id}:echo"
        for start in range(0, len(text), size):
            if await self._woken(options.delay_s):
                yield self._ended()
                return
            yield TextDelta(item_id, text[start : start + size])
        if self._interrupted or self._stopped:
            yield self._ended()
            return
        yield TextCompleted(item_id, text)
        words = len(text.split())
        yield Usage(input_tokens=words, output_tokens=words, cached_input_tokens=0, cost_usd=0.0)
        yield TurnCompleted("completed")

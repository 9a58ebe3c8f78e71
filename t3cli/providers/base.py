"""The adapter protocol every provider implements, and the request/check value types.

Guarantees every `TurnRun` gives (enforced in one place, `t3cli.providers._guard`, which every
provider's `start_turn` applies):

- `events()` may be iterated once. It yields runtime events in the order they happened and always
  ends with exactly one `TurnCompleted`; nothing follows it. No exception escapes it for anything
  the agent does (missing executable, crash, garbage output, timeout): every failure is a
  `TurnCompleted(status="failed" | "timed_out", error=...)` whose `error` is a one-line message for
  the user.
- `interrupt()` asks the turn to end (SIGINT to the agent's process group, SIGKILL after a short
  grace); the stream then ends with `TurnCompleted(status="interrupted")`, unless the agent had
  already finished successfully.
- `stop()` kills at once (SIGKILL to the process group); the stream ends with
  `TurnCompleted(status="interrupted", error="stopped")`.
- The start timeout (no runtime event within `start_timeout_s`) and the turn timeout (whole turn
  longer than `turn_timeout_s`) end the stream with `TurnCompleted(status="timed_out", error=...)`
  after the process group has been killed.
- Abandoning the stream (`aclose()` on the iterator, or cancelling the task that iterates it) kills
  the agent's process group too: no child outlives a turn nobody listens to.

This module is imported on the CLI hot path: it must not import asyncio, pydantic or an adapter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from t3cli.contracts.runtime import (
    Activity,
    RuntimeEvent,
    SessionStarted,
    TextCompleted,
    TextDelta,
    TurnCompleted,
    TurnStarted,
    Usage,
)

__all__ = [
    "Activity",
    "Provider",
    "ProviderCheck",
    "RuntimeEvent",
    "SessionStarted",
    "TextCompleted",
    "TextDelta",
    "TurnCompleted",
    "TurnRequest",
    "TurnRun",
    "TurnStarted",
    "Usage",
]


@dataclass(frozen=True, slots=True)
class TurnRequest:
    """Everything an adapter needs to run one turn of one thread."""

    thread_id: str
    turn_id: str
    cwd: Path  # project directory; the agent runs there
    message: str
    resume_session_id: str | None  # provider session id from an earlier turn of this thread
    model: str | None = None  # per-thread model override, else the provider config's model
    # For providers whose usage is a running total of the session (`Provider.cumulative_usage`):
    # the total that session reported after its previous turn, as recorded in the log; None when
    # unknown (then the turn's whole reported figure counts as its own).
    session_usage: Mapping[str, int] | None = None


class TurnRun(Protocol):
    """One running turn. See the module docstring for the ordering and kill guarantees."""

    def events(self) -> AsyncIterator[RuntimeEvent]: ...

    async def interrupt(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ProviderCheck:
    """What `t3 providers` reports for one configured provider."""

    name: str
    kind: str
    executable: str | None  # resolved path (or the configured name when not found); None for echo
    found: bool
    version: str | None
    problem: str | None  # one line saying what is wrong and what to fix, else None


class Provider(Protocol):
    """A configured provider. `start_turn` never blocks and never raises for agent failures."""

    name: str  # the configured name, e.g. "echo", "codex", "smol"
    kind: str  # "echo" | "codex" | "claude" | "command"
    start_timeout_s: float | None
    turn_timeout_s: float | None
    # True when the agent reports usage as a running total of its session (codex): the reactor
    # then passes the previous total in `TurnRequest.session_usage`.
    cumulative_usage: bool

    def start_turn(self, request: TurnRequest) -> TurnRun: ...

    def check(self) -> ProviderCheck: ...

"""Provider runtime events: what an adapter reports while it runs one turn.

An adapter yields these, in order, for exactly one turn. Guarantees every adapter gives:

- `SessionStarted` comes before any other event that refers to the provider's session, and carries
  the session id read from the provider's own stream (never invented).
- `TextDelta`s of one `item_id` concatenate to the `TextCompleted.text` of that item when the
  provider streams; a provider that does not stream yields only `TextCompleted`.
- Exactly one `TurnCompleted` ends the stream, whatever happened (crash, timeout, interrupt,
  garbage output); nothing follows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

TurnStatus = Literal["completed", "failed", "interrupted", "timed_out"]
ActivityKind = Literal[
    "command", "file_change", "tool_call", "plan", "reasoning", "web_search", "warning", "error"
]


@dataclass(frozen=True, slots=True)
class SessionStarted:
    provider_session_id: str
    type: Literal["session.started"] = "session.started"


@dataclass(frozen=True, slots=True)
class TurnStarted:
    type: Literal["turn.started"] = "turn.started"


@dataclass(frozen=True, slots=True)
class TextDelta:
    item_id: str
    text: str
    type: Literal["text.delta"] = "text.delta"


@dataclass(frozen=True, slots=True)
class TextCompleted:
    item_id: str
    text: str
    type: Literal["text.completed"] = "text.completed"


@dataclass(frozen=True, slots=True)
class Activity:
    """Something the agent did: `summary` is one human line; `detail` keeps the structured data
    (command and exit code, changed paths, tool name and arguments, plan items, ...)."""

    kind: ActivityKind
    summary: str
    item_id: str | None = None
    status: str | None = None  # in_progress | completed | failed | declined, when the agent says
    detail: dict[str, Any] = field(default_factory=dict)
    type: Literal["activity"] = "activity"


@dataclass(frozen=True, slots=True)
class Usage:
    """Token usage of (part of) the turn, in t3's one meaning: `input_tokens` counts every input
    token the model processed, cache reads included; `cached_input_tokens` says how many of those
    were cache reads. `reported` keeps the provider's own figures exactly as it reported them;
    `session_total` is the provider session's running total after this report, for providers
    that report cumulative usage (codex), so the next turn's share can be computed from it."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_input_tokens: int | None = None
    cost_usd: float | None = None
    reported: dict[str, int] | None = None
    session_total: dict[str, int] | None = None
    type: Literal["usage"] = "usage"


@dataclass(frozen=True, slots=True)
class TurnCompleted:
    status: TurnStatus
    error: str | None = None
    type: Literal["turn.completed"] = "turn.completed"


RuntimeEvent = (
    SessionStarted | TurnStarted | TextDelta | TextCompleted | Activity | Usage | TurnCompleted
)

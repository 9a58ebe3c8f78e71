"""Events: facts appended to the log, the only source of truth.

Each payload class names its `TYPE`, the `STREAM_KIND` of the stream it belongs to, and the
`SCHEMA_VERSION` of its payload. Stored payloads are JSON objects of the class's fields. Events are
only ever added: a payload change bumps `SCHEMA_VERSION` and gets an upcaster in
`t3cli.contracts.upcasting`; old rows are never rewritten.

An event type this version does not know (written by a newer t3cli) decodes to `UnknownEvent`:
it is kept, counted and reported, and never crashes a reader.
"""

from __future__ import annotations

from dataclasses import field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # a cheap dataclass at run time; see t3cli.contracts._record
    from t3cli.contracts._record import record as dataclass

StreamKind = Literal["project", "thread"]


@dataclass(frozen=True, kw_only=True)
class EventPayload:
    TYPE: ClassVar[str] = ""
    STREAM_KIND: ClassVar[StreamKind] = "thread"
    SCHEMA_VERSION: ClassVar[int] = 1
    __record_fields__: ClassVar[tuple[str, ...]]

    def stream_id(self) -> str:
        raise NotImplementedError

    def to_payload(self) -> dict[str, Any]:
        """The JSON object stored in `events.payload`."""
        return {name: getattr(self, name) for name in self.__record_fields__}


@dataclass(frozen=True, kw_only=True)
class ProjectEvent(EventPayload):
    STREAM_KIND: ClassVar[StreamKind] = "project"
    project_id: str

    def stream_id(self) -> str:
        return self.project_id


@dataclass(frozen=True, kw_only=True)
class ThreadEvent(EventPayload):
    thread_id: str

    def stream_id(self) -> str:
        return self.thread_id


@dataclass(frozen=True, kw_only=True)
class ProjectCreated(ProjectEvent):
    TYPE: ClassVar[str] = "project.created"
    path: str
    title: str
    default_provider: str


@dataclass(frozen=True, kw_only=True)
class ProjectUpdated(ProjectEvent):
    TYPE: ClassVar[str] = "project.updated"
    title: str | None = None
    default_provider: str | None = None


@dataclass(frozen=True, kw_only=True)
class ThreadCreated(ThreadEvent):
    TYPE: ClassVar[str] = "thread.created"
    project_id: str
    provider: str
    title: str
    model: str | None = None


@dataclass(frozen=True, kw_only=True)
class ThreadUpdated(ThreadEvent):
    TYPE: ClassVar[str] = "thread.updated"
    title: str | None = None
    model: str | None = None
    provider_options: dict[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class ThreadArchived(ThreadEvent):
    TYPE: ClassVar[str] = "thread.archived"


@dataclass(frozen=True, kw_only=True)
class ThreadUnarchived(ThreadEvent):
    TYPE: ClassVar[str] = "thread.unarchived"


@dataclass(frozen=True, kw_only=True)
class ThreadDeleted(ThreadEvent):
    TYPE: ClassVar[str] = "thread.deleted"


@dataclass(frozen=True, kw_only=True)
class MessageSent(ThreadEvent):
    """A transcript message. Assistant text arrives in coalesced chunks: a chunk whose
    `message_id` already exists is appended to that message."""

    TYPE: ClassVar[str] = "thread.message-sent"
    message_id: str
    role: Literal["user", "assistant"]
    text: str
    turn_id: str | None = None
    queue_item_id: str | None = None
    complete: bool = True
    chunk: int = 0  # 0 for the first (or only) chunk of a message


@dataclass(frozen=True, kw_only=True)
class TurnStartRequested(ThreadEvent):
    TYPE: ClassVar[str] = "thread.turn-start-requested"
    turn_id: str
    message_id: str
    queue_item_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class TurnStarted(ThreadEvent):
    TYPE: ClassVar[str] = "thread.turn-started"
    turn_id: str
    provider_session_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class TurnCompleted(ThreadEvent):
    TYPE: ClassVar[str] = "thread.turn-completed"
    turn_id: str
    status: Literal["completed", "failed", "interrupted", "timed_out"]
    error: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_input_tokens: int | None = None
    cost_usd: float | None = None
    duration_ms: int | None = None
    # Token usage as the provider reported it, before normalisation (audit), and, for providers
    # whose usage is a running total of their session (codex), that total after this turn and the
    # session it belongs to: the next turn's share is computed from it, also after a restart.
    reported_usage: dict[str, int] | None = None
    session_usage: dict[str, int] | None = None
    provider_session_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class TurnInterruptRequested(ThreadEvent):
    TYPE: ClassVar[str] = "thread.turn-interrupt-requested"
    turn_id: str


@dataclass(frozen=True, kw_only=True)
class SessionSet(ThreadEvent):
    TYPE: ClassVar[str] = "thread.session-set"
    status: Literal["idle", "starting", "ready", "running", "stopped", "error"]
    provider: str | None = None
    provider_session_id: str | None = None
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class SessionStopRequested(ThreadEvent):
    TYPE: ClassVar[str] = "thread.session-stop-requested"


@dataclass(frozen=True, kw_only=True)
class ActivityAppended(ThreadEvent):
    TYPE: ClassVar[str] = "thread.activity-appended"
    turn_id: str
    activity_id: str
    kind: str
    summary: str
    status: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class TurnQueued(ThreadEvent):
    TYPE: ClassVar[str] = "thread.turn-queued"
    queue_item_id: str
    message_id: str


@dataclass(frozen=True, kw_only=True)
class QueuedTurnSendStarted(ThreadEvent):
    TYPE: ClassVar[str] = "thread.queued-turn-send-started"
    queue_item_id: str
    turn_id: str


@dataclass(frozen=True, kw_only=True)
class QueuedTurnResolved(ThreadEvent):
    TYPE: ClassVar[str] = "thread.queued-turn-resolved"
    queue_item_id: str
    turn_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class QueuedTurnSendFailed(ThreadEvent):
    TYPE: ClassVar[str] = "thread.queued-turn-send-failed"
    queue_item_id: str
    reason: str
    turn_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class QueuedTurnRequeued(ThreadEvent):
    TYPE: ClassVar[str] = "thread.queued-turn-requeued"
    queue_item_id: str


@dataclass(frozen=True, kw_only=True)
class QueuedTurnCancelled(ThreadEvent):
    TYPE: ClassVar[str] = "thread.queued-turn-cancelled"
    queue_item_id: str
    from_status: Literal["pending", "failed"] = "pending"


@dataclass(frozen=True, kw_only=True)
class QueuedTurnMoved(ThreadEvent):
    TYPE: ClassVar[str] = "thread.queued-turn-moved"
    queue_item_id: str
    to_position: int


ALL_EVENTS: tuple[type[EventPayload], ...] = (
    ProjectCreated, ProjectUpdated, ThreadCreated, ThreadUpdated, ThreadArchived,
    ThreadUnarchived, ThreadDeleted, MessageSent, TurnStartRequested, TurnStarted, TurnCompleted,
    TurnInterruptRequested, SessionSet, SessionStopRequested, ActivityAppended, TurnQueued,
    QueuedTurnSendStarted, QueuedTurnResolved, QueuedTurnSendFailed, QueuedTurnRequeued,
    QueuedTurnCancelled, QueuedTurnMoved,
)  # fmt: skip
EVENT_TYPES: dict[str, type[EventPayload]] = {cls.TYPE: cls for cls in ALL_EVENTS}


@dataclass(frozen=True)
class NewEvent:
    """An event decided but not yet appended (no sequence, no envelope yet)."""

    payload: EventPayload
    causation_index: int | None = None  # index of an earlier event of the same command it follows


@dataclass(frozen=True)
class EventRecord:
    """An appended event with its envelope. `payload` is the decoded JSON object."""

    sequence: int
    event_id: str
    stream_kind: str
    stream_id: str
    stream_version: int
    type: str
    payload: dict[str, Any]
    schema_version: int
    command_id: str | None
    causation_event_id: str | None
    correlation_id: str | None
    actor: str
    occurred_at: str

    @property
    def known(self) -> bool:
        """False for an event type this version of t3cli does not know (from a newer writer)."""
        return self.type in EVENT_TYPES

    def to_json_dict(self) -> dict[str, Any]:
        """The stable JSON shape of `t3 events --json` (one object per line)."""
        return {
            "sequence": self.sequence,
            "event_id": self.event_id,
            "stream_kind": self.stream_kind,
            "stream_id": self.stream_id,
            "stream_version": self.stream_version,
            "type": self.type,
            "payload": self.payload,
            "schema_version": self.schema_version,
            "command_id": self.command_id,
            "causation_event_id": self.causation_event_id,
            "correlation_id": self.correlation_id,
            "actor": self.actor,
            "occurred_at": self.occurred_at,
        }

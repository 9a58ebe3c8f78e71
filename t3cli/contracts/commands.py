"""Commands: intents, validated by the decider against the current state.

Every command carries `command_id` (idempotency key: a command id seen before returns its original
outcome and appends nothing), `actor`, and optional `correlation_id` / `causation_event_id`.
Client commands come from the CLI; reactor commands from the reactor, with deterministic ids
derived from the event or provider output that caused them.
"""

from __future__ import annotations

from dataclasses import field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # a cheap dataclass at run time; see t3cli.contracts._record
    from t3cli.contracts._record import record as dataclass

Actor = Literal["user", "reactor", "provider"]
SessionStatus = Literal["idle", "starting", "ready", "running", "stopped", "error"]
TurnOutcome = Literal["completed", "failed", "interrupted", "timed_out"]
Role = Literal["user", "assistant"]


@dataclass(frozen=True, kw_only=True)
class CommandBase:
    TYPE: ClassVar[str] = ""
    __record_fields__: ClassVar[tuple[str, ...]]
    command_id: str
    actor: Actor = "user"
    correlation_id: str | None = None
    causation_event_id: str | None = None


# --- client commands -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ProjectCreate(CommandBase):
    TYPE: ClassVar[str] = "project.create"
    project_id: str
    path: str
    title: str
    default_provider: str
    type: Literal["project.create"] = "project.create"


@dataclass(frozen=True, kw_only=True)
class ProjectUpdate(CommandBase):
    TYPE: ClassVar[str] = "project.update"
    project_id: str
    title: str | None = None
    default_provider: str | None = None
    type: Literal["project.update"] = "project.update"


@dataclass(frozen=True, kw_only=True)
class ThreadCreate(CommandBase):
    TYPE: ClassVar[str] = "thread.create"
    thread_id: str
    project_id: str
    provider: str
    title: str
    model: str | None = None
    type: Literal["thread.create"] = "thread.create"


@dataclass(frozen=True, kw_only=True)
class ThreadUpdate(CommandBase):
    TYPE: ClassVar[str] = "thread.update"
    thread_id: str
    title: str | None = None
    model: str | None = None
    provider_options: dict[str, Any] | None = None
    type: Literal["thread.update"] = "thread.update"


@dataclass(frozen=True, kw_only=True)
class ThreadArchive(CommandBase):
    TYPE: ClassVar[str] = "thread.archive"
    thread_id: str
    type: Literal["thread.archive"] = "thread.archive"


@dataclass(frozen=True, kw_only=True)
class ThreadUnarchive(CommandBase):
    TYPE: ClassVar[str] = "thread.unarchive"
    thread_id: str
    type: Literal["thread.unarchive"] = "thread.unarchive"


@dataclass(frozen=True, kw_only=True)
class ThreadDelete(CommandBase):
    TYPE: ClassVar[str] = "thread.delete"
    thread_id: str
    force: bool = False  # also drop pending or failed queued turns
    type: Literal["thread.delete"] = "thread.delete"


@dataclass(frozen=True, kw_only=True)
class TurnStart(CommandBase):
    """Start a turn now. `when_busy="queue"` queues it instead of rejecting a busy thread."""

    TYPE: ClassVar[str] = "thread.turn.start"
    thread_id: str
    turn_id: str
    message_id: str
    text: str
    when_busy: Literal["reject", "queue"] = "reject"
    queue_item_id: str | None = None  # used when queued because busy
    type: Literal["thread.turn.start"] = "thread.turn.start"


@dataclass(frozen=True, kw_only=True)
class TurnQueue(CommandBase):
    TYPE: ClassVar[str] = "thread.turn.queue"
    thread_id: str
    queue_item_id: str
    message_id: str
    text: str
    type: Literal["thread.turn.queue"] = "thread.turn.queue"


@dataclass(frozen=True, kw_only=True)
class QueuedTurnRetry(CommandBase):
    TYPE: ClassVar[str] = "thread.queued-turn.retry"
    thread_id: str
    # None: the first failed item in queue order, chosen under the write lock, so that a retried
    # --command-id can never see "nothing to retry" once and succeed the next time.
    queue_item_id: str | None = None
    type: Literal["thread.queued-turn.retry"] = "thread.queued-turn.retry"


@dataclass(frozen=True, kw_only=True)
class QueuedTurnCancel(CommandBase):
    TYPE: ClassVar[str] = "thread.queued-turn.cancel"
    thread_id: str
    queue_item_id: str
    type: Literal["thread.queued-turn.cancel"] = "thread.queued-turn.cancel"


@dataclass(frozen=True, kw_only=True)
class QueuedTurnMove(CommandBase):
    TYPE: ClassVar[str] = "thread.queued-turn.move"
    thread_id: str
    queue_item_id: str
    to_position: int  # 1-based position in the thread's queue
    type: Literal["thread.queued-turn.move"] = "thread.queued-turn.move"


@dataclass(frozen=True, kw_only=True)
class TurnInterrupt(CommandBase):
    TYPE: ClassVar[str] = "thread.turn.interrupt"
    thread_id: str
    turn_id: str | None = None  # None: the thread's active turn
    type: Literal["thread.turn.interrupt"] = "thread.turn.interrupt"


@dataclass(frozen=True, kw_only=True)
class SessionStop(CommandBase):
    TYPE: ClassVar[str] = "thread.session.stop"
    thread_id: str
    type: Literal["thread.session.stop"] = "thread.session.stop"


# --- reactor commands ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SessionSet(CommandBase):
    TYPE: ClassVar[str] = "thread.session.set"
    thread_id: str
    status: SessionStatus
    provider: str | None = None
    provider_session_id: str | None = None
    error: str | None = None
    type: Literal["thread.session.set"] = "thread.session.set"


@dataclass(frozen=True, kw_only=True)
class QueuedTurnSendStart(CommandBase):
    TYPE: ClassVar[str] = "thread.queued-turn.send.start"
    thread_id: str
    queue_item_id: str
    turn_id: str
    type: Literal["thread.queued-turn.send.start"] = "thread.queued-turn.send.start"


@dataclass(frozen=True, kw_only=True)
class QueuedTurnResolve(CommandBase):
    TYPE: ClassVar[str] = "thread.queued-turn.resolve"
    thread_id: str
    queue_item_id: str
    turn_id: str | None = None
    type: Literal["thread.queued-turn.resolve"] = "thread.queued-turn.resolve"


@dataclass(frozen=True, kw_only=True)
class QueuedTurnSendFail(CommandBase):
    TYPE: ClassVar[str] = "thread.queued-turn.send.fail"
    thread_id: str
    queue_item_id: str
    reason: str
    turn_id: str | None = None
    type: Literal["thread.queued-turn.send.fail"] = "thread.queued-turn.send.fail"


@dataclass(frozen=True, kw_only=True)
class TurnStartedCmd(CommandBase):
    TYPE: ClassVar[str] = "thread.turn.started"
    thread_id: str
    turn_id: str
    provider_session_id: str | None = None
    type: Literal["thread.turn.started"] = "thread.turn.started"


@dataclass(frozen=True, kw_only=True)
class TurnCompletedCmd(CommandBase):
    """End a turn. A turn linked to a queued item also resolves it (completed) or marks it failed
    (any other status) in the same transaction, so no crash can separate the two."""

    TYPE: ClassVar[str] = "thread.turn.completed"
    thread_id: str
    turn_id: str
    status: TurnOutcome
    error: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_input_tokens: int | None = None
    cost_usd: float | None = None
    duration_ms: int | None = None
    queue_failure_reason: str | None = None  # overrides the reason given to a linked queued item
    reported_usage: dict[str, int] | None = None  # see events.TurnCompleted
    session_usage: dict[str, int] | None = None
    provider_session_id: str | None = None
    type: Literal["thread.turn.completed"] = "thread.turn.completed"


@dataclass(frozen=True, kw_only=True)
class MessageAppend(CommandBase):
    """Append assistant text to message `message_id` (created by its first chunk)."""

    TYPE: ClassVar[str] = "thread.message.append"
    thread_id: str
    turn_id: str
    message_id: str
    text: str
    complete: bool = False
    chunk: int = 0  # 0 for the first chunk of the message, then 1, 2, ...
    type: Literal["thread.message.append"] = "thread.message.append"


@dataclass(frozen=True, kw_only=True)
class ActivityAppend(CommandBase):
    TYPE: ClassVar[str] = "thread.activity.append"
    thread_id: str
    turn_id: str
    activity_id: str
    kind: str
    summary: str
    status: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    type: Literal["thread.activity.append"] = "thread.activity.append"


ClientCommand = (
    ProjectCreate
    | ProjectUpdate
    | ThreadCreate
    | ThreadUpdate
    | ThreadArchive
    | ThreadUnarchive
    | ThreadDelete
    | TurnStart
    | TurnQueue
    | QueuedTurnRetry
    | QueuedTurnCancel
    | QueuedTurnMove
    | TurnInterrupt
    | SessionStop
)
ReactorCommand = (
    SessionSet
    | QueuedTurnSendStart
    | QueuedTurnResolve
    | QueuedTurnSendFail
    | TurnStartedCmd
    | TurnCompletedCmd
    | MessageAppend
    | ActivityAppend
)
Command = ClientCommand | ReactorCommand

ALL_COMMANDS: tuple[type[CommandBase], ...] = (
    ProjectCreate, ProjectUpdate, ThreadCreate, ThreadUpdate, ThreadArchive, ThreadUnarchive,
    ThreadDelete, TurnStart, TurnQueue, QueuedTurnRetry, QueuedTurnCancel, QueuedTurnMove,
    TurnInterrupt, SessionStop, SessionSet, QueuedTurnSendStart, QueuedTurnResolve,
    QueuedTurnSendFail, TurnStartedCmd, TurnCompletedCmd, MessageAppend, ActivityAppend,
)  # fmt: skip

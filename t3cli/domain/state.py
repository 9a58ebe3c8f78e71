"""The state the decider decides against: one project and/or one thread, as the core projections
hold them inside the command's write transaction. Plain values, no I/O."""

from __future__ import annotations

from dataclasses import field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # a cheap dataclass at run time; see t3cli.contracts._record
    from t3cli.contracts._record import record as dataclass

FREE_SESSION_STATES = frozenset({"idle", "ready", "stopped"})
BUSY_SESSION_STATES = frozenset({"starting", "running"})
ACTIVE_TURN_STATES = frozenset({"requested", "running"})


@dataclass
class ProjectState:
    project_id: str
    path: str


@dataclass
class QueueItemState:
    queue_item_id: str
    message_id: str
    status: str  # pending | sending | failed
    position: int  # 1-based, dense within the thread's queue
    attempts: int = 0
    turn_id: str | None = None


@dataclass
class TurnState:
    turn_id: str
    status: str  # requested | running | completed | failed | interrupted | timed_out
    queue_item_id: str | None = None
    interrupt_requested: bool = False


@dataclass
class ThreadState:
    thread_id: str
    project_id: str
    provider: str
    archived: bool = False
    deleted: bool = False
    session_status: str | None = None  # None: no session yet (counts as free)
    queue: list[QueueItemState] = field(default_factory=list)  # ordered by position
    active_turn: TurnState | None = None
    turn: TurnState | None = None  # the turn a command names, whatever its status
    # False when `queue` and `active_turn` were not read because the command's decision does not
    # look at them (the high-volume appends); reading them then is a bug, not an empty queue.
    work_loaded: bool = True

    def item(self, queue_item_id: str) -> QueueItemState | None:
        assert self.work_loaded, "the queue was not loaded for this command"
        for item in self.queue:
            if item.queue_item_id == queue_item_id:
                return item
        return None

    @property
    def session_free(self) -> bool:
        return self.session_status is None or self.session_status in FREE_SESSION_STATES

    @property
    def busy(self) -> bool:
        """A turn would not start now: a turn is active, an item is waiting or being sent, or the
        session is starting or running. Failed items alone do not make a thread busy."""
        assert self.work_loaded, "the queue was not loaded for this command"
        if self.active_turn is not None:
            return True
        if self.session_status in BUSY_SESSION_STATES:
            return True
        return any(item.status in ("pending", "sending") for item in self.queue)

    @property
    def blocked_by(self) -> QueueItemState | None:
        """The failed head item that holds the queue until it is retried or cancelled; None
        when the head is not failed (or the queue is empty)."""
        assert self.work_loaded, "the queue was not loaded for this command"
        head = self.queue[0] if self.queue else None
        return head if head is not None and head.status == "failed" else None


@dataclass(frozen=True)
class MessageState:
    """An existing message, for `message.append`: whose it is."""

    thread_id: str
    turn_id: str | None


@dataclass
class DecisionState:
    project: ProjectState | None = None
    project_at_path: ProjectState | None = None  # for project.create: who already has the path
    thread: ThreadState | None = None
    # Of the ids the command would introduce (turn, message, queue item), those already in use.
    ids_in_use: frozenset[str] = frozenset()
    # For message.append: the message appended to, if it exists.
    message: MessageState | None = None

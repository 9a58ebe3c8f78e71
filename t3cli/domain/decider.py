"""The decider: `decide(command, state, limits) -> events`, pure.

Guarantees: no I/O, no clock, no randomness — the same command and state always give the same
events, in the same order. Every invariant violation raises `CommandRejected` and yields nothing,
so a rejected command never touches the log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # a cheap dataclass at run time; see t3cli.contracts._record
    from t3cli.contracts._record import record as dataclass

from t3cli.contracts import commands as c
from t3cli.contracts import events as e
from t3cli.domain.rejections import CommandRejected
from t3cli.domain.state import DecisionState, QueueItemState, ThreadState

DEFAULT_MAX_MESSAGE_CHARS = 120_000
MAX_TITLE_CHARS = 200


@dataclass(frozen=True)
class Limits:
    max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS


def decide(
    command: c.Command, state: DecisionState, limits: Limits | None = None
) -> list[e.NewEvent]:
    """Validate `command` against `state` and return the events it produces (never empty)."""
    handler = _HANDLERS.get(type(command))
    if handler is None:  # pragma: no cover - every command class has a handler (tested)
        raise CommandRejected(f"unknown command type {command.TYPE!r}", kind="invalid")
    return handler(command, state, limits or Limits())


# --- checks ------------------------------------------------------------------------------------


def _thread(state: DecisionState, thread_id: str, *, allow_deleted: bool = False) -> ThreadState:
    thread = state.thread
    if thread is None or thread.thread_id != thread_id or (thread.deleted and not allow_deleted):
        raise CommandRejected(
            f"no thread {thread_id}", kind="not_found", hint="`t3 threads --all` lists threads"
        )
    return thread


def _writable(state: DecisionState, thread_id: str) -> ThreadState:
    thread = _thread(state, thread_id)
    if thread.archived:
        raise CommandRejected(
            f"thread {thread_id[:8]} is archived",
            hint=f"`t3 unarchive {thread_id[:8]}` to use it again",
        )
    return thread


def _text(text: str, limits: Limits) -> None:
    if not text.strip():
        raise CommandRejected("the message is empty", kind="invalid", hint="give a message text")
    if len(text) > limits.max_message_chars:
        raise CommandRejected(
            f"the message is {len(text):,} characters; the limit is {limits.max_message_chars:,}",
            kind="invalid",
            hint="shorten it, or raise max_message_chars in config.toml",
        )


def _title(title: str) -> None:
    if not title.strip():
        raise CommandRejected("the title is empty", kind="invalid", hint="give a non-blank title")
    if len(title) > MAX_TITLE_CHARS:
        raise CommandRejected(
            f"the title is {len(title)} characters; the limit is {MAX_TITLE_CHARS}",
            kind="invalid",
            hint="shorten it",
        )


def _no_project(project_id: str) -> CommandRejected:
    return CommandRejected(
        f"no project {project_id}", kind="not_found", hint="`t3 projects` lists projects"
    )


def _item(thread: ThreadState, queue_item_id: str) -> QueueItemState:
    item = thread.item(queue_item_id)
    if item is None:
        raise CommandRejected(
            f"no queued turn {queue_item_id} in thread {thread.thread_id[:8]}",
            kind="not_found",
            hint=f"`t3 queue list {thread.thread_id[:8]}` shows the queue",
        )
    return item


def _new_ids(state: DecisionState, **ids: str | None) -> None:
    """Each id a command introduces must name nothing yet: reusing one would merge two turns,
    messages or queue items (or fail a projection's key) instead of being a clear rejection."""
    for kind, value in ids.items():
        if value is not None and value in state.ids_in_use:
            raise CommandRejected(
                f"{kind.replace('_', ' ')} {value} is already in use",
                kind="invalid",
                hint="give a new id, or leave it out to get a fresh one",
            )


def _ev(payload: e.EventPayload, causation_index: int | None = None) -> e.NewEvent:
    return e.NewEvent(payload=payload, causation_index=causation_index)


# --- projects and threads ----------------------------------------------------------------------


def _project_create(cmd: c.ProjectCreate, state: DecisionState, _: Limits) -> list[e.NewEvent]:
    if state.project is not None or state.project_at_path is not None:
        raise CommandRejected(
            f"project {cmd.path} is already registered", hint="`t3 projects` lists projects"
        )
    if not cmd.path.startswith("/"):
        raise CommandRejected(
            f"project path must be absolute, got {cmd.path!r}",
            kind="invalid",
            hint="give an absolute directory path",
        )
    _title(cmd.title)
    return [
        _ev(
            e.ProjectCreated(
                project_id=cmd.project_id,
                path=cmd.path,
                title=cmd.title,
                default_provider=cmd.default_provider,
            )
        )
    ]


def _project_update(cmd: c.ProjectUpdate, state: DecisionState, _: Limits) -> list[e.NewEvent]:
    if state.project is None or state.project.project_id != cmd.project_id:
        raise _no_project(cmd.project_id)
    if cmd.title is not None:
        _title(cmd.title)
    return [
        _ev(
            e.ProjectUpdated(
                project_id=cmd.project_id, title=cmd.title, default_provider=cmd.default_provider
            )
        )
    ]


def _thread_create(cmd: c.ThreadCreate, state: DecisionState, _: Limits) -> list[e.NewEvent]:
    if state.project is None or state.project.project_id != cmd.project_id:
        raise _no_project(cmd.project_id)
    if state.thread is not None:
        raise CommandRejected(
            f"thread {cmd.thread_id} already exists",
            hint="give a new --command-id (a thread's id derives from it)",
        )
    _title(cmd.title)
    if not cmd.provider:
        raise CommandRejected(
            "the provider name is empty", kind="invalid", hint="`t3 providers` lists them"
        )
    return [
        _ev(
            e.ThreadCreated(
                thread_id=cmd.thread_id,
                project_id=cmd.project_id,
                provider=cmd.provider,
                title=cmd.title,
                model=cmd.model,
            )
        )
    ]


def _thread_update(cmd: c.ThreadUpdate, state: DecisionState, _: Limits) -> list[e.NewEvent]:
    _thread(state, cmd.thread_id)
    if cmd.title is None and cmd.model is None and cmd.provider_options is None:
        raise CommandRejected(
            "nothing to update", kind="invalid", hint="give a title, model or provider options"
        )
    if cmd.title is not None:
        _title(cmd.title)
    return [
        _ev(
            e.ThreadUpdated(
                thread_id=cmd.thread_id,
                title=cmd.title,
                model=cmd.model,
                provider_options=cmd.provider_options,
            )
        )
    ]


def _refuse_running(thread: ThreadState, verb: str) -> None:
    """`archive` and `rm` refuse a thread with a turn in flight in the same words."""
    short = thread.thread_id[:8]
    if thread.active_turn is not None or any(i.status == "sending" for i in thread.queue):
        raise CommandRejected(
            f"cannot {verb} thread {short}: a turn is running",
            hint=f"wait for it to end, or `t3 interrupt {short}` first",
        )


def _refuse_queued(thread: ThreadState, verb: str, statuses: tuple[str, ...], hint: str) -> None:
    count = sum(item.status in statuses for item in thread.queue)
    if count:
        raise CommandRejected(
            f"cannot {verb} thread {thread.thread_id[:8]}: {count} queued turn(s) are waiting",
            hint=hint,
        )


def _thread_archive(cmd: c.ThreadArchive, state: DecisionState, _: Limits) -> list[e.NewEvent]:
    thread = _thread(state, cmd.thread_id)
    short = cmd.thread_id[:8]
    if thread.archived:
        raise CommandRejected(
            f"thread {short} is already archived", hint=f"`t3 unarchive {short}` brings it back"
        )
    _refuse_running(thread, "archive")
    _refuse_queued(
        thread, "archive", ("pending",),
        f"wait for them to run, or `t3 queue cancel {short} ITEM` each first",
    )  # fmt: skip
    return [_ev(e.ThreadArchived(thread_id=cmd.thread_id))]


def _thread_unarchive(cmd: c.ThreadUnarchive, state: DecisionState, _: Limits) -> list[e.NewEvent]:
    thread = _thread(state, cmd.thread_id)
    if not thread.archived:
        raise CommandRejected(
            f"thread {cmd.thread_id[:8]} is not archived", hint="nothing to do: it is in use"
        )
    return [_ev(e.ThreadUnarchived(thread_id=cmd.thread_id))]


def _thread_delete(cmd: c.ThreadDelete, state: DecisionState, _: Limits) -> list[e.NewEvent]:
    thread = _thread(state, cmd.thread_id)
    short = cmd.thread_id[:8]
    _refuse_running(thread, "delete")
    if not cmd.force:
        _refuse_queued(
            thread, "delete", ("pending", "failed"),
            f"`t3 rm {short} --force` deletes them with the thread, or `t3 queue cancel {short}"
            " ITEM` each first",
        )  # fmt: skip
    return [_ev(e.ThreadDeleted(thread_id=cmd.thread_id))]


# --- turns and the queue -----------------------------------------------------------------------


def _queue_events(
    thread_id: str, queue_item_id: str, message_id: str, text: str
) -> list[e.NewEvent]:
    return [
        _ev(
            e.MessageSent(
                thread_id=thread_id,
                message_id=message_id,
                role="user",
                text=text,
                queue_item_id=queue_item_id,
            )
        ),
        _ev(
            e.TurnQueued(thread_id=thread_id, queue_item_id=queue_item_id, message_id=message_id),
            causation_index=0,
        ),
    ]


def _turn_start(cmd: c.TurnStart, state: DecisionState, limits: Limits) -> list[e.NewEvent]:
    thread = _writable(state, cmd.thread_id)
    _text(cmd.text, limits)
    # A message never overtakes the queue: not work in flight, and not a failed head item that
    # holds the queue until the user retries or cancels it (what follows may depend on it).
    blocked = thread.blocked_by
    if thread.busy or blocked is not None:
        if cmd.when_busy == "queue":
            if cmd.queue_item_id is None:
                raise CommandRejected(
                    "queue_item_id is required to queue",
                    kind="invalid",
                    hint="give the id the message is queued under",
                )
            _new_ids(state, queue_item_id=cmd.queue_item_id, message_id=cmd.message_id)
            return _queue_events(cmd.thread_id, cmd.queue_item_id, cmd.message_id, cmd.text)
        short = cmd.thread_id[:8]
        if blocked is not None and not thread.busy:
            raise CommandRejected(
                f"thread {short}'s queue is blocked by failed item {blocked.queue_item_id[:8]}",
                hint=f"`t3 retry {short}` sends it again, `t3 queue cancel {short} 1` drops it;"
                " or pass --queue-if-busy to queue this message behind it",
            )
        raise CommandRejected(
            f"thread {short} is busy",
            hint=f"`t3 queue {short} ...` runs it after the current work, or pass --queue-if-busy",
        )
    _new_ids(state, turn_id=cmd.turn_id, message_id=cmd.message_id)
    return [
        _ev(
            e.MessageSent(
                thread_id=cmd.thread_id,
                message_id=cmd.message_id,
                role="user",
                text=cmd.text,
                turn_id=cmd.turn_id,
            )
        ),
        _ev(
            e.TurnStartRequested(
                thread_id=cmd.thread_id, turn_id=cmd.turn_id, message_id=cmd.message_id
            ),
            causation_index=0,
        ),
    ]


def _turn_queue(cmd: c.TurnQueue, state: DecisionState, limits: Limits) -> list[e.NewEvent]:
    _writable(state, cmd.thread_id)
    _text(cmd.text, limits)
    _new_ids(state, queue_item_id=cmd.queue_item_id, message_id=cmd.message_id)
    return _queue_events(cmd.thread_id, cmd.queue_item_id, cmd.message_id, cmd.text)


def _retry(cmd: c.QueuedTurnRetry, state: DecisionState, _: Limits) -> list[e.NewEvent]:
    thread = _writable(state, cmd.thread_id)
    if cmd.queue_item_id is None:
        failed = [i for i in thread.queue if i.status == "failed"]
        if not failed:
            raise CommandRejected(
                f"thread {cmd.thread_id[:8]} has no failed queued turn to retry",
                hint=f"`t3 queue list {cmd.thread_id[:8]}` shows its queue",
            )
        item = failed[0]
    else:
        item = _item(thread, cmd.queue_item_id)
    if item.status != "failed":
        raise CommandRejected(
            f"queued turn {item.queue_item_id[:8]} is {item.status}; only a failed item is retried",
            hint="a pending item runs by itself when its turn comes (`t3 run`)",
        )
    return [_ev(e.QueuedTurnRequeued(thread_id=cmd.thread_id, queue_item_id=item.queue_item_id))]


def _cancel(cmd: c.QueuedTurnCancel, state: DecisionState, _: Limits) -> list[e.NewEvent]:
    thread = _thread(state, cmd.thread_id)
    item = _item(thread, cmd.queue_item_id)
    if item.status not in ("pending", "failed"):
        raise CommandRejected(
            f"queued turn {cmd.queue_item_id[:8]} is being sent and cannot be cancelled",
            hint=f"`t3 interrupt {cmd.thread_id[:8]}` ends the running turn",
        )
    from_status: Literal["pending", "failed"] = "pending" if item.status == "pending" else "failed"
    return [
        _ev(
            e.QueuedTurnCancelled(
                thread_id=cmd.thread_id, queue_item_id=cmd.queue_item_id, from_status=from_status
            )
        )
    ]


def _move(cmd: c.QueuedTurnMove, state: DecisionState, _: Limits) -> list[e.NewEvent]:
    thread = _thread(state, cmd.thread_id)
    item = _item(thread, cmd.queue_item_id)
    if item.status not in ("pending", "failed"):
        raise CommandRejected(
            f"queued turn {cmd.queue_item_id[:8]} is being sent; it cannot move",
            hint=f"`t3 interrupt {cmd.thread_id[:8]}` ends the running turn",
        )
    lowest = 2 if any(i.status == "sending" for i in thread.queue) else 1
    if not lowest <= cmd.to_position <= len(thread.queue):
        raise CommandRejected(
            f"position {cmd.to_position} is outside {lowest}..{len(thread.queue)}",
            kind="invalid",
            hint="positions start at 1; an item being sent keeps position 1",
        )
    return [
        _ev(
            e.QueuedTurnMoved(
                thread_id=cmd.thread_id,
                queue_item_id=cmd.queue_item_id,
                to_position=cmd.to_position,
            )
        )
    ]


def _interrupt(cmd: c.TurnInterrupt, state: DecisionState, _: Limits) -> list[e.NewEvent]:
    thread = _thread(state, cmd.thread_id)
    active = thread.active_turn
    if active is None or (cmd.turn_id is not None and cmd.turn_id != active.turn_id):
        raise CommandRejected(
            f"thread {cmd.thread_id[:8]} has no running turn to interrupt",
            hint=f"`t3 show {cmd.thread_id[:8]}` shows its turns and queue",
        )
    return [_ev(e.TurnInterruptRequested(thread_id=cmd.thread_id, turn_id=active.turn_id))]


def _session_stop(cmd: c.SessionStop, state: DecisionState, _: Limits) -> list[e.NewEvent]:
    _thread(state, cmd.thread_id)
    return [_ev(e.SessionStopRequested(thread_id=cmd.thread_id))]


# --- reactor commands --------------------------------------------------------------------------


def _session_set(cmd: c.SessionSet, state: DecisionState, _: Limits) -> list[e.NewEvent]:
    _thread(state, cmd.thread_id, allow_deleted=True)
    return [
        _ev(
            e.SessionSet(
                thread_id=cmd.thread_id,
                status=cmd.status,
                provider=cmd.provider,
                provider_session_id=cmd.provider_session_id,
                error=cmd.error,
            )
        )
    ]


def _send_start(cmd: c.QueuedTurnSendStart, state: DecisionState, _: Limits) -> list[e.NewEvent]:
    thread = _writable(state, cmd.thread_id)
    item = _item(thread, cmd.queue_item_id)
    if item.status != "pending":
        raise CommandRejected(f"queued turn {cmd.queue_item_id[:8]} is {item.status}, not pending")
    if thread.queue[0].queue_item_id != item.queue_item_id:
        raise CommandRejected(
            f"queued turn {cmd.queue_item_id[:8]} is not at the head of its queue (FIFO)"
        )
    if thread.active_turn is not None or any(i.status == "sending" for i in thread.queue):
        raise CommandRejected(f"thread {cmd.thread_id[:8]} already has a turn in flight")
    if not thread.session_free:
        raise CommandRejected(f"thread {cmd.thread_id[:8]}'s session is {thread.session_status}")
    _new_ids(state, turn_id=cmd.turn_id)
    return [
        _ev(
            e.QueuedTurnSendStarted(
                thread_id=cmd.thread_id, queue_item_id=cmd.queue_item_id, turn_id=cmd.turn_id
            )
        ),
        _ev(
            e.TurnStartRequested(
                thread_id=cmd.thread_id,
                turn_id=cmd.turn_id,
                message_id=item.message_id,
                queue_item_id=cmd.queue_item_id,
            ),
            causation_index=0,
        ),
    ]


def _resolve(cmd: c.QueuedTurnResolve, state: DecisionState, _: Limits) -> list[e.NewEvent]:
    thread = _thread(state, cmd.thread_id, allow_deleted=True)
    item = _item(thread, cmd.queue_item_id)
    if item.status != "sending":
        raise CommandRejected(f"queued turn {cmd.queue_item_id[:8]} is {item.status}, not sending")
    return [
        _ev(
            e.QueuedTurnResolved(
                thread_id=cmd.thread_id, queue_item_id=cmd.queue_item_id, turn_id=cmd.turn_id
            )
        )
    ]


def _send_fail(cmd: c.QueuedTurnSendFail, state: DecisionState, _: Limits) -> list[e.NewEvent]:
    thread = _thread(state, cmd.thread_id, allow_deleted=True)
    item = _item(thread, cmd.queue_item_id)
    if item.status != "sending":
        raise CommandRejected(f"queued turn {cmd.queue_item_id[:8]} is {item.status}, not sending")
    return [
        _ev(
            e.QueuedTurnSendFailed(
                thread_id=cmd.thread_id,
                queue_item_id=cmd.queue_item_id,
                reason=cmd.reason,
                turn_id=cmd.turn_id,
            )
        )
    ]


def _turn_of(thread: ThreadState, turn_id: str) -> Any:
    turn = thread.turn
    if turn is None or turn.turn_id != turn_id:
        raise CommandRejected(
            f"no turn {turn_id} in thread {thread.thread_id[:8]}", kind="not_found"
        )
    return turn


def _turn_started(cmd: c.TurnStartedCmd, state: DecisionState, _: Limits) -> list[e.NewEvent]:
    thread = _thread(state, cmd.thread_id, allow_deleted=True)
    turn = _turn_of(thread, cmd.turn_id)
    if turn.status != "requested":
        raise CommandRejected(f"turn {cmd.turn_id[:8]} is {turn.status}, not requested")
    return [
        _ev(
            e.TurnStarted(
                thread_id=cmd.thread_id,
                turn_id=cmd.turn_id,
                provider_session_id=cmd.provider_session_id,
            )
        )
    ]


def _turn_completed(cmd: c.TurnCompletedCmd, state: DecisionState, _: Limits) -> list[e.NewEvent]:
    thread = _thread(state, cmd.thread_id, allow_deleted=True)
    turn = _turn_of(thread, cmd.turn_id)
    if turn.status not in ("requested", "running"):
        raise CommandRejected(f"turn {cmd.turn_id[:8]} already ended ({turn.status})")
    out = [
        _ev(
            e.TurnCompleted(
                thread_id=cmd.thread_id,
                turn_id=cmd.turn_id,
                status=cmd.status,
                error=cmd.error,
                input_tokens=cmd.input_tokens,
                output_tokens=cmd.output_tokens,
                cached_input_tokens=cmd.cached_input_tokens,
                cost_usd=cmd.cost_usd,
                duration_ms=cmd.duration_ms,
                reported_usage=cmd.reported_usage,
                session_usage=cmd.session_usage,
                provider_session_id=cmd.provider_session_id,
            )
        )
    ]
    item = thread.item(turn.queue_item_id) if turn.queue_item_id else None
    if item is not None and item.status == "sending" and item.turn_id == cmd.turn_id:
        if cmd.status == "completed":
            out.append(
                _ev(
                    e.QueuedTurnResolved(
                        thread_id=cmd.thread_id,
                        queue_item_id=item.queue_item_id,
                        turn_id=cmd.turn_id,
                    ),
                    causation_index=0,
                )
            )
        else:
            reason = cmd.queue_failure_reason or cmd.error or f"turn {cmd.status}"
            out.append(
                _ev(
                    e.QueuedTurnSendFailed(
                        thread_id=cmd.thread_id,
                        queue_item_id=item.queue_item_id,
                        reason=reason,
                        turn_id=cmd.turn_id,
                    ),
                    causation_index=0,
                )
            )
    return out


def _message_append(cmd: c.MessageAppend, state: DecisionState, _: Limits) -> list[e.NewEvent]:
    _thread(state, cmd.thread_id, allow_deleted=True)
    # Chunk 0 creates the message; every later chunk extends that same message of that same
    # turn. Anything else would put text into another thread's transcript, or drop it.
    message = state.message
    if cmd.chunk == 0:
        if message is not None:
            raise CommandRejected(f"message {cmd.message_id} already exists")
    elif message is None or (message.thread_id, message.turn_id) != (cmd.thread_id, cmd.turn_id):
        raise CommandRejected(
            f"no message {cmd.message_id} of turn {cmd.turn_id} to append chunk {cmd.chunk} to",
            kind="not_found",
        )
    return [
        _ev(
            e.MessageSent(
                thread_id=cmd.thread_id,
                message_id=cmd.message_id,
                role="assistant",
                text=cmd.text,
                turn_id=cmd.turn_id,
                complete=cmd.complete,
                chunk=cmd.chunk,
            )
        )
    ]


def _activity_append(cmd: c.ActivityAppend, state: DecisionState, _: Limits) -> list[e.NewEvent]:
    _thread(state, cmd.thread_id, allow_deleted=True)
    return [
        _ev(
            e.ActivityAppended(
                thread_id=cmd.thread_id,
                turn_id=cmd.turn_id,
                activity_id=cmd.activity_id,
                kind=cmd.kind,
                summary=cmd.summary,
                status=cmd.status,
                detail=cmd.detail,
            )
        )
    ]


_HANDLERS: dict[type[Any], Callable[[Any, DecisionState, Limits], list[e.NewEvent]]] = {
    c.ProjectCreate: _project_create,
    c.ProjectUpdate: _project_update,
    c.ThreadCreate: _thread_create,
    c.ThreadUpdate: _thread_update,
    c.ThreadArchive: _thread_archive,
    c.ThreadUnarchive: _thread_unarchive,
    c.ThreadDelete: _thread_delete,
    c.TurnStart: _turn_start,
    c.TurnQueue: _turn_queue,
    c.QueuedTurnRetry: _retry,
    c.QueuedTurnCancel: _cancel,
    c.QueuedTurnMove: _move,
    c.TurnInterrupt: _interrupt,
    c.SessionStop: _session_stop,
    c.SessionSet: _session_set,
    c.QueuedTurnSendStart: _send_start,
    c.QueuedTurnResolve: _resolve,
    c.QueuedTurnSendFail: _send_fail,
    c.TurnStartedCmd: _turn_started,
    c.TurnCompletedCmd: _turn_completed,
    c.MessageAppend: _message_append,
    c.ActivityAppend: _activity_append,
}

"""`Engine.dispatch`: one transaction from a command to committed events.

Guarantees of `dispatch(command)`:
- Atomic: deciding, appending the events, updating the core projections and their cursors, and
  writing the command receipt happen in one `BEGIN IMMEDIATE` transaction — all or nothing.
- Idempotent by `command_id`: a command id seen before returns the original outcome (its events,
  with their sequences, and `duplicate=True`; or the same rejection) and appends nothing. This
  holds across processes: the receipt is read under the write lock.
- Bound to its command: dispatched with a `fingerprint` (a digest of the command's kind and
  arguments), an id whose receipt holds a different fingerprint is refused (`invalid`, nothing
  appended, the receipt untouched) instead of replaying another command's outcome. A receipt
  without a fingerprint (written before schema 3, or by a caller that gave none) replays as before.
- A rejected command never touches the log. A user's rejection is remembered in its receipt
  (so a retried id gives the same answer); a reactor's is not, because the reactor re-derives its
  commands from state and a transient rejection must not stick.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # a cheap dataclass at run time; see t3cli.contracts._record
    from t3cli.contracts._record import record as dataclass

from t3cli.contracts import commands as c
from t3cli.contracts.events import EventRecord
from t3cli.contracts.ids import utc_now
from t3cli.domain.decider import Limits, decide
from t3cli.domain.rejections import CommandRejected
from t3cli.domain.state import (
    ACTIVE_TURN_STATES,
    DecisionState,
    MessageState,
    ProjectState,
    QueueItemState,
    ThreadState,
    TurnState,
)
from t3cli.store import eventlog, pipeline
from t3cli.store.db import database_path, translate, write_transaction
from t3cli.store.projectors import CORE_PROJECTORS


@dataclass(frozen=True)
class DispatchResult:
    command_id: str
    events: tuple[EventRecord, ...]
    duplicate: bool = False  # True when the command id had been accepted before

    @property
    def sequence(self) -> int:
        """The sequence of the command's last event."""
        return self.events[-1].sequence if self.events else 0

    def first(self, event_type: str) -> EventRecord | None:
        return next((ev for ev in self.events if ev.type == event_type), None)


def load_state(conn: sqlite3.Connection, command: c.Command) -> DecisionState:
    """Read what the decider needs for `command` from the core projections (indexed lookups only;
    cost independent of the log's and the thread's history length)."""
    state = DecisionState()
    project_id = getattr(command, "project_id", None)
    if project_id is not None:
        row = conn.execute(
            "SELECT project_id, path FROM projects WHERE project_id = ?", (project_id,)
        ).fetchone()
        state.project = ProjectState(*row) if row else None
    if isinstance(command, c.ProjectCreate):
        row = conn.execute(
            "SELECT project_id, path FROM projects WHERE path = ?", (command.path,)
        ).fetchone()
        state.project_at_path = ProjectState(*row) if row else None
    thread_id = getattr(command, "thread_id", None)
    if thread_id is not None:
        state.thread = _load_thread(
            conn,
            thread_id,
            getattr(command, "turn_id", None),
            with_work=not isinstance(command, _DECIDED_WITHOUT_WORK),
        )
    state.ids_in_use = _ids_in_use(conn, command)
    if isinstance(command, c.MessageAppend):
        row = conn.execute(
            "SELECT thread_id, turn_id FROM messages WHERE message_id = ?", (command.message_id,)
        ).fetchone()
        state.message = MessageState(*row) if row else None
    return state


# Commands whose decision reads neither the thread's queue nor its active turn: the high-volume
# appends. Not reading them keeps `t3 queue` independent of how deep the queue already is.
_DECIDED_WITHOUT_WORK = (c.TurnQueue, c.MessageAppend, c.ActivityAppend)


# The ids a command introduces, and the table whose key each must not already be.
_NEW_ID_TABLES = (
    ("turn_id", "turns"),
    ("message_id", "messages"),
    ("queue_item_id", "queued_turns"),
)


def _ids_in_use(conn: sqlite3.Connection, command: c.Command) -> frozenset[str]:
    if not isinstance(command, (c.TurnStart, c.TurnQueue, c.QueuedTurnSendStart)):
        return frozenset()
    taken: set[str] = set()
    for attribute, table in _NEW_ID_TABLES:
        value = getattr(command, attribute, None)
        if (
            value is not None
            and conn.execute(f"SELECT 1 FROM {table} WHERE {attribute} = ?", (value,)).fetchone()
        ):
            taken.add(value)
    return frozenset(taken)


def _load_thread(
    conn: sqlite3.Connection, thread_id: str, turn_id: str | None, *, with_work: bool = True
) -> ThreadState | None:
    row = conn.execute(
        "SELECT t.project_id, t.provider, t.archived, t.deleted, s.status FROM threads t"
        " LEFT JOIN sessions s ON s.thread_id = t.thread_id WHERE t.thread_id = ?",
        (thread_id,),
    ).fetchone()
    if row is None:
        return None
    thread = ThreadState(
        thread_id=thread_id,
        project_id=row[0],
        provider=row[1],
        archived=bool(row[2]),
        deleted=bool(row[3]),
        session_status=row[4],
    )
    if not with_work:
        thread.work_loaded = False
        return thread
    thread.queue = [
        QueueItemState(*item)
        for item in conn.execute(
            "SELECT queue_item_id, message_id, status, position, attempts, turn_id"
            " FROM queued_turns WHERE thread_id = ? ORDER BY position",
            (thread_id,),
        ).fetchall()
    ]
    active = conn.execute(
        "SELECT turn_id, status, queue_item_id, interrupt_requested FROM turns"
        " WHERE thread_id = ? AND status IN ('requested', 'running') LIMIT 1",
        (thread_id,),
    ).fetchone()
    if active:
        thread.active_turn = TurnState(active[0], active[1], active[2], bool(active[3]))
    if turn_id is not None:
        if thread.active_turn is not None and thread.active_turn.turn_id == turn_id:
            thread.turn = thread.active_turn
        else:
            named = conn.execute(
                "SELECT turn_id, status, queue_item_id, interrupt_requested FROM turns"
                " WHERE turn_id = ? AND thread_id = ?",
                (turn_id, thread_id),
            ).fetchone()
            thread.turn = TurnState(named[0], named[1], named[2], bool(named[3])) if named else None
    assert thread.active_turn is None or thread.active_turn.status in ACTIVE_TURN_STATES
    return thread


def _stream_of(command: c.Command) -> str | None:
    return getattr(command, "thread_id", None) or getattr(command, "project_id", None)


class Engine:
    """The write side. One engine per connection; not shared between threads concurrently."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        limits: Limits | None = None,
        clock: Callable[[], str] = utc_now,
    ) -> None:
        self.conn = conn
        self.limits = limits or Limits()
        self.clock = clock

    def dispatch(self, command: c.Command, *, fingerprint: str | None = None) -> DispatchResult:
        """Decide and commit `command`. Raises `CommandRejected` (nothing appended) or
        `t3cli.errors.DatabaseError` (nothing appended; safe to retry with the same id).
        `fingerprint` binds the command id to this command (see the module docstring)."""
        prints = {command.command_id: fingerprint} if fingerprint is not None else None
        result = self.dispatch_many([command], fingerprints=prints)[0]
        if isinstance(result, CommandRejected):
            raise result
        return result

    def dispatch_many(
        self,
        commands: Sequence[c.Command],
        *,
        fingerprints: Mapping[str, str] | None = None,
        all_or_nothing: bool = False,
    ) -> list[DispatchResult | CommandRejected]:
        """Dispatch several commands in one transaction (the reactor's batched ingestion).
        Each command is decided against the state its predecessors left; each outcome is
        returned in order. All accepted commands commit together.

        `fingerprints` maps command ids to their fingerprints. With `all_or_nothing`, the first
        rejection ends the batch: it is the last outcome returned and nothing of the batch
        (not even a rejection's receipt) is committed — for a user's command made of several
        (`t3 new` creating a thread and queueing its message)."""
        outcomes: list[DispatchResult | CommandRejected] = []
        try:
            with write_transaction(self.conn):
                if pipeline.lagging(self.conn, CORE_PROJECTORS):
                    pipeline.catch_up_in_transaction(self.conn, CORE_PROJECTORS)
                appended = 0
                for command in commands:
                    fingerprint = fingerprints.get(command.command_id) if fingerprints else None
                    outcome = self._dispatch_one(command, fingerprint)
                    outcomes.append(outcome)
                    if isinstance(outcome, CommandRejected) and all_or_nothing:
                        raise _Abandoned
                    if isinstance(outcome, DispatchResult) and not outcome.duplicate:
                        appended = outcome.sequence
                if appended:
                    # Once per transaction: the cursors commit together with every row the
                    # batch projected, and no command reads them in between.
                    pipeline.advance_cursors(self.conn, CORE_PROJECTORS, appended)
        except _Abandoned:
            pass  # rolled back by write_transaction
        except sqlite3.Error as exc:
            raise translate(exc, database_path(self.conn)) from None
        return outcomes

    def _dispatch_one(
        self, command: c.Command, fingerprint: str | None = None
    ) -> DispatchResult | CommandRejected:
        conn = self.conn
        receipt = eventlog.get_receipt(conn, command.command_id)
        if receipt is not None:
            if (
                fingerprint is not None
                and receipt.fingerprint is not None
                and receipt.fingerprint != fingerprint
            ):
                return CommandRejected(
                    f"command id {command.command_id!r} was already used for a different command",
                    kind="invalid",
                    hint="retrying needs the same command and arguments; give each distinct"
                    " command its own --command-id",
                )
            if receipt.status == "accepted":
                events = eventlog.events_of_command(conn, receipt)
                return DispatchResult(command.command_id, tuple(events), duplicate=True)
            return CommandRejected(
                receipt.error or "rejected",
                kind=receipt.error_kind or "rejected",  # type: ignore[arg-type]
                hint=receipt.hint,
            )
        now = self.clock()
        try:
            new_events = decide(command, load_state(conn, command), self.limits)
        except CommandRejected as rejection:
            if command.actor == "user":
                eventlog.put_receipt(
                    conn,
                    command_id=command.command_id,
                    command_type=command.TYPE,
                    stream_id=_stream_of(command),
                    status="rejected",
                    first_sequence=None,
                    result_sequence=None,
                    error=rejection.reason,
                    error_kind=rejection.kind,
                    hint=rejection.hint,
                    at=now,
                    fingerprint=fingerprint,
                )
            return rejection
        envelope = eventlog.Envelope(
            command_id=command.command_id,
            actor=command.actor,
            occurred_at=now,
            correlation_id=command.correlation_id,
            causation_event_id=command.causation_event_id,
        )
        records = eventlog.append(conn, new_events, envelope)
        last = records[-1].sequence
        for projector in CORE_PROJECTORS:
            handlers = projector.handlers
            for record in records:
                handler = handlers.get(record.type)
                if handler is not None:
                    handler(conn, record)
        eventlog.put_receipt(
            conn,
            command_id=command.command_id,
            command_type=command.TYPE,
            stream_id=_stream_of(command),
            status="accepted",
            first_sequence=records[0].sequence,
            result_sequence=last,
            error=None,
            error_kind=None,
            hint=None,
            at=now,
            fingerprint=fingerprint,
        )
        return DispatchResult(command.command_id, tuple(records))


class _Abandoned(Exception):
    """Raised inside an all-or-nothing batch's transaction to roll it back."""

"""The decider's invariants, on plain values (no database)."""

from __future__ import annotations

from typing import Any

import pytest

from t3cli.contracts import commands as c
from t3cli.contracts import events as e
from t3cli.domain.decider import DEFAULT_MAX_MESSAGE_CHARS, Limits, decide
from t3cli.domain.rejections import CommandRejected
from t3cli.domain.state import (
    DecisionState,
    MessageState,
    ProjectState,
    QueueItemState,
    ThreadState,
    TurnState,
)

T = "a1b2c3d4" * 4


def thread(**fields: Any) -> ThreadState:
    return ThreadState(thread_id=T, project_id="p", provider="echo", **fields)


def state(**fields: Any) -> DecisionState:
    return DecisionState(thread=thread(**fields))


def item(
    qid: str, position: int, status: str = "pending", turn_id: str | None = None
) -> QueueItemState:
    return QueueItemState(
        queue_item_id=qid, message_id=f"m-{qid}", status=status, position=position, turn_id=turn_id
    )


def types(events: list[e.NewEvent]) -> list[str]:
    return [ev.payload.TYPE for ev in events]


def rejected(command: c.Command, st: DecisionState, kind: str | None = None) -> CommandRejected:
    with pytest.raises(CommandRejected) as info:
        decide(command, st)
    if kind is not None:
        assert info.value.kind == kind
    assert info.value.reason
    return info.value


def queue(text: str = "hi", thread_id: str = T, qid: str = "q-new") -> c.TurnQueue:
    return c.TurnQueue(
        command_id="cmd", thread_id=thread_id, queue_item_id=qid, message_id="m", text=text
    )


def start(text: str = "hi", when_busy: str = "reject", qid: str | None = None) -> c.TurnStart:
    return c.TurnStart(
        command_id="cmd", thread_id=T, turn_id="turn-new", message_id="m", text=text,
        when_busy=when_busy, queue_item_id=qid,  # type: ignore[arg-type]
    )  # fmt: skip


def send_start(qid: str, turn_id: str = "turn-new") -> c.QueuedTurnSendStart:
    return c.QueuedTurnSendStart(
        command_id="cmd", actor="reactor", thread_id=T, queue_item_id=qid, turn_id=turn_id
    )


# --- thread exists and is not deleted ------------------------------------------------------------

THREAD_COMMANDS: list[c.Command] = [
    queue(),
    start(),
    c.ThreadUpdate(command_id="x", thread_id=T, title="t"),
    c.ThreadArchive(command_id="x", thread_id=T),
    c.ThreadUnarchive(command_id="x", thread_id=T),
    c.ThreadDelete(command_id="x", thread_id=T),
    c.QueuedTurnRetry(command_id="x", thread_id=T, queue_item_id="q1"),
    c.QueuedTurnCancel(command_id="x", thread_id=T, queue_item_id="q1"),
    c.QueuedTurnMove(command_id="x", thread_id=T, queue_item_id="q1", to_position=1),
    c.TurnInterrupt(command_id="x", thread_id=T),
    c.SessionStop(command_id="x", thread_id=T),
    send_start("q1"),
]


@pytest.mark.parametrize("command", THREAD_COMMANDS, ids=lambda cmd: cmd.TYPE)
def test_unknown_thread_is_not_found(command: c.Command) -> None:
    rejected(command, DecisionState(), kind="not_found")
    other = DecisionState(thread=ThreadState(thread_id="other", project_id="p", provider="echo"))
    rejected(command, other, kind="not_found")


@pytest.mark.parametrize("command", THREAD_COMMANDS, ids=lambda cmd: cmd.TYPE)
def test_deleted_thread_is_not_found(command: c.Command) -> None:
    st = state(deleted=True, queue=[item("q1", 1, "failed")])
    rejected(command, st, kind="not_found")


def test_reactor_reports_about_a_deleted_thread_are_still_recorded() -> None:
    # A provider can still report on a thread deleted under it; the log keeps that truth.
    st = state(deleted=True, session_status="running")
    cmd = c.SessionSet(command_id="x", actor="reactor", thread_id=T, status="stopped")
    assert types(decide(cmd, st)) == ["thread.session-set"]
    with pytest.raises(CommandRejected):
        decide(
            c.SessionSet(command_id="x", actor="reactor", thread_id=T, status="idle"),
            DecisionState(),
        )


def test_thread_create_needs_its_project_and_a_fresh_id() -> None:
    cmd = c.ThreadCreate(command_id="x", thread_id=T, project_id="p", provider="echo", title="t")
    rejected(cmd, DecisionState(), kind="not_found")
    project = ProjectState("p", "/tmp/p")
    assert types(decide(cmd, DecisionState(project=project))) == ["thread.created"]
    rejected(cmd, DecisionState(project=project, thread=thread()))
    empty_title = c.ThreadCreate(
        command_id="x", thread_id=T, project_id="p", provider="echo", title=" "
    )
    rejected(empty_title, DecisionState(project=project), kind="invalid")


def test_project_create_needs_an_absolute_unregistered_path() -> None:
    cmd = c.ProjectCreate(
        command_id="x", project_id="p", path="rel/dir", title="t", default_provider="echo"
    )
    rejected(cmd, DecisionState(), kind="invalid")
    ok = c.ProjectCreate(
        command_id="x", project_id="p", path="/abs", title="t", default_provider="echo"
    )
    assert types(decide(ok, DecisionState())) == ["project.created"]
    rejected(ok, DecisionState(project_at_path=ProjectState("other", "/abs")))


# --- messages -------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [queue, start], ids=["queue", "start"])
@pytest.mark.parametrize("text", ["", " ", "\n\t  "])
def test_empty_message_is_invalid(make: Any, text: str) -> None:
    rejected(make(text=text), state(), kind="invalid")


@pytest.mark.parametrize("make", [queue, start], ids=["queue", "start"])
def test_message_size_limit_is_inclusive_at_120000(make: Any) -> None:
    assert DEFAULT_MAX_MESSAGE_CHARS == 120_000
    assert decide(make(text="x" * 120_000), state())
    reason = rejected(make(text="x" * 120_001), state(), kind="invalid").reason
    assert "120,001" in reason and "120,000" in reason


def test_message_limit_is_configurable() -> None:
    with pytest.raises(CommandRejected):
        decide(queue(text="x" * 11), state(), Limits(max_message_chars=10))
    assert decide(queue(text="x" * 10), state(), Limits(max_message_chars=10))


def test_archived_thread_refuses_new_turns_until_unarchived() -> None:
    st = state(archived=True)
    hint = rejected(queue(), st).hint
    assert hint is not None and "unarchive" in hint
    rejected(start(), st)


# --- turn start on a busy thread -----------------------------------------------------------------


def test_idle_thread_starts_a_turn_message_first() -> None:
    events = decide(start(), state())
    assert types(events) == ["thread.message-sent", "thread.turn-start-requested"]
    assert events[1].causation_index == 0
    sent = events[0].payload
    assert isinstance(sent, e.MessageSent) and sent.turn_id == "turn-new" and sent.role == "user"


BUSY_STATES: dict[str, dict[str, Any]] = {
    "active turn": {"active_turn": TurnState("t1", "running")},
    "requested turn": {"active_turn": TurnState("t1", "requested")},
    "session starting": {"session_status": "starting"},
    "session running": {"session_status": "running"},
    "pending item": {"queue": [item("q1", 1)]},
    "sending item": {"queue": [item("q1", 1, "sending", "t1")]},
}


@pytest.mark.parametrize("busy", list(BUSY_STATES), ids=list(BUSY_STATES))
def test_busy_thread_rejects_an_immediate_start_with_a_hint_to_queue(busy: str) -> None:
    rejection = rejected(start(), state(**BUSY_STATES[busy]), kind="rejected")
    assert rejection.hint is not None and "queue" in rejection.hint


@pytest.mark.parametrize("busy", list(BUSY_STATES), ids=list(BUSY_STATES))
def test_busy_thread_queues_the_start_when_asked(busy: str) -> None:
    events = decide(start(when_busy="queue", qid="q-new"), state(**BUSY_STATES[busy]))
    assert types(events) == ["thread.message-sent", "thread.turn-queued"]
    queued = events[1].payload
    assert isinstance(queued, e.TurnQueued) and queued.queue_item_id == "q-new"
    rejected(start(when_busy="queue"), state(**BUSY_STATES[busy]), kind="invalid")  # no item id


@pytest.mark.parametrize("session", [None, "idle", "ready", "stopped", "error"])
def test_free_or_absent_session_starts_a_turn(session: str | None) -> None:
    st = state(session_status=session)
    assert types(decide(start(), st))[-1] == "thread.turn-start-requested"


@pytest.mark.parametrize(
    "queue_",
    [[item("q1", 1, "failed")], [item("q1", 1, "failed"), item("q2", 2, "failed")]],
    ids=["one failed item", "two failed items"],
)
def test_a_failed_head_item_blocks_an_immediate_start(queue_: list[QueueItemState]) -> None:
    # README: a message never overtakes the queue; a failed head holds it until retry or cancel.
    rejection = rejected(start(), state(queue=queue_), kind="rejected")
    assert "blocked" in rejection.reason and "q1"[:8] in rejection.reason
    assert rejection.hint is not None
    assert "t3 retry" in rejection.hint and "t3 queue cancel" in rejection.hint
    assert "--queue-if-busy" in rejection.hint
    queued = decide(start(when_busy="queue", qid="q-new"), state(queue=queue_))
    assert types(queued) == ["thread.message-sent", "thread.turn-queued"]


def test_a_failed_item_behind_pending_work_is_plain_busy() -> None:
    st = state(queue=[item("q1", 1), item("q2", 2, "failed")])
    rejection = rejected(start(), st, kind="rejected")
    assert "busy" in rejection.reason


def test_queue_emits_message_then_queued_item() -> None:
    events = decide(queue(), state(active_turn=TurnState("t1", "running")))
    assert types(events) == ["thread.message-sent", "thread.turn-queued"]
    assert events[1].causation_index == 0


# --- retry and cancel ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["pending", "sending"])
def test_retry_only_a_failed_item(status: str) -> None:
    cmd = c.QueuedTurnRetry(command_id="x", thread_id=T, queue_item_id="q1")
    rejected(cmd, state(queue=[item("q1", 1, status)]), kind="rejected")
    assert types(decide(cmd, state(queue=[item("q1", 1, "failed")]))) == [
        "thread.queued-turn-requeued"
    ]
    rejected(cmd, state(queue=[item("q2", 1, "failed")]), kind="not_found")


@pytest.mark.parametrize("status", ["pending", "failed"])
def test_cancel_a_pending_or_failed_item(status: str) -> None:
    cmd = c.QueuedTurnCancel(command_id="x", thread_id=T, queue_item_id="q1")
    (event,) = decide(cmd, state(queue=[item("q1", 1, status)]))
    assert isinstance(event.payload, e.QueuedTurnCancelled)
    assert event.payload.from_status == status


def test_cancel_refuses_the_item_being_sent() -> None:
    cmd = c.QueuedTurnCancel(command_id="x", thread_id=T, queue_item_id="q1")
    rejection = rejected(cmd, state(queue=[item("q1", 1, "sending", "t1")]), kind="rejected")
    assert rejection.hint is not None and "interrupt" in rejection.hint
    rejected(cmd, state(queue=[]), kind="not_found")


# --- move ----------------------------------------------------------------------------------------


def three(head_status: str = "pending") -> DecisionState:
    return state(queue=[item("q1", 1, head_status), item("q2", 2), item("q3", 3)])


@pytest.mark.parametrize("to", [1, 2, 3])
def test_move_within_bounds(to: int) -> None:
    cmd = c.QueuedTurnMove(command_id="x", thread_id=T, queue_item_id="q3", to_position=to)
    (event,) = decide(cmd, three())
    assert isinstance(event.payload, e.QueuedTurnMoved) and event.payload.to_position == to


@pytest.mark.parametrize("to", [0, -1, 4, 100])
def test_move_out_of_bounds_is_invalid(to: int) -> None:
    cmd = c.QueuedTurnMove(command_id="x", thread_id=T, queue_item_id="q3", to_position=to)
    rejected(cmd, three(), kind="invalid")


def test_the_sending_item_keeps_position_one() -> None:
    st = three("sending")
    to_head = c.QueuedTurnMove(command_id="x", thread_id=T, queue_item_id="q3", to_position=1)
    hint = rejected(to_head, st, kind="invalid").hint
    assert hint is not None and "position 1" in hint
    to_two = c.QueuedTurnMove(command_id="x", thread_id=T, queue_item_id="q3", to_position=2)
    assert decide(to_two, st)
    sending = c.QueuedTurnMove(command_id="x", thread_id=T, queue_item_id="q1", to_position=3)
    rejected(sending, st, kind="rejected")


def test_a_failed_head_may_be_moved_behind_pending_items() -> None:
    cmd = c.QueuedTurnMove(command_id="x", thread_id=T, queue_item_id="q1", to_position=3)
    assert decide(cmd, three("failed"))


# --- send.start ----------------------------------------------------------------------------------


@pytest.mark.parametrize("session", [None, "idle", "ready", "stopped"])
def test_send_start_for_the_pending_head_with_a_free_or_absent_session(session: str | None) -> None:
    events = decide(send_start("q1"), three() if session is None else state(
        session_status=session, queue=three().thread.queue  # type: ignore[union-attr]
    ))  # fmt: skip
    assert types(events) == ["thread.queued-turn-send-started", "thread.turn-start-requested"]
    requested = events[1].payload
    assert isinstance(requested, e.TurnStartRequested)
    assert (requested.queue_item_id, requested.message_id, requested.turn_id) == (
        "q1",
        "m-q1",
        "turn-new",
    )
    assert events[1].causation_index == 0


@pytest.mark.parametrize("session", ["starting", "running", "error"])
def test_send_start_needs_a_free_session(session: str) -> None:
    st = three()
    assert st.thread is not None
    st.thread.session_status = session
    assert session in rejected(send_start("q1"), st, kind="rejected").reason


def test_send_start_only_for_the_head() -> None:
    assert "head" in rejected(send_start("q2"), three(), kind="rejected").reason


@pytest.mark.parametrize("status", ["sending", "failed"])
def test_send_start_only_for_a_pending_item(status: str) -> None:
    rejected(send_start("q1"), three(status), kind="rejected")


def test_a_failed_head_blocks_the_queue() -> None:
    # The next item must not run after a failure: queued instructions often depend on each other.
    rejected(send_start("q2"), three("failed"), kind="rejected")


def test_send_start_refused_while_a_turn_is_active() -> None:
    st = three()
    assert st.thread is not None
    st.thread.active_turn = TurnState("t0", "running")
    rejected(send_start("q1"), st, kind="rejected")


def test_send_start_refused_while_another_item_is_sending() -> None:
    # Not reachable through the projections (the sending item is the head), but the decider
    # must not rely on that.
    st = state(queue=[item("q1", 1), item("q2", 2, "sending", "t0")])
    rejected(send_start("q1"), st, kind="rejected")


def test_send_start_on_an_archived_thread_is_refused() -> None:
    st = three()
    assert st.thread is not None
    st.thread.archived = True
    rejected(send_start("q1"), st)


# --- resolve, fail, turn completion --------------------------------------------------------------


@pytest.mark.parametrize("status", ["pending", "failed"])
def test_resolve_and_fail_only_the_item_being_sent(status: str) -> None:
    st = state(queue=[item("q1", 1, status)])
    resolve = c.QueuedTurnResolve(command_id="x", actor="reactor", thread_id=T, queue_item_id="q1")
    fail = c.QueuedTurnSendFail(
        command_id="x", actor="reactor", thread_id=T, queue_item_id="q1", reason="r"
    )
    rejected(resolve, st)
    rejected(fail, st)
    sending = state(queue=[item("q1", 1, "sending", "t1")])
    assert types(decide(resolve, sending)) == ["thread.queued-turn-resolved"]
    assert types(decide(fail, sending)) == ["thread.queued-turn-send-failed"]


def linked(status: str = "running") -> DecisionState:
    turn = TurnState("t1", status, queue_item_id="q1")
    return state(queue=[item("q1", 1, "sending", "t1"), item("q2", 2)], active_turn=turn, turn=turn)


def completed(status: str, **fields: Any) -> c.TurnCompletedCmd:
    return c.TurnCompletedCmd(
        command_id="x",
        actor="reactor",
        thread_id=T,
        turn_id="t1",
        status=status,
        **fields,  # type: ignore[arg-type]
    )


def test_completed_turn_resolves_its_item_in_the_same_command() -> None:
    events = decide(completed("completed"), linked())
    assert types(events) == ["thread.turn-completed", "thread.queued-turn-resolved"]
    resolved = events[1].payload
    assert isinstance(resolved, e.QueuedTurnResolved)
    assert (resolved.queue_item_id, resolved.turn_id) == ("q1", "t1")
    assert events[1].causation_index == 0


@pytest.mark.parametrize("outcome", ["failed", "interrupted", "timed_out"])
def test_unsuccessful_turn_fails_its_item_with_a_reason(outcome: str) -> None:
    events = decide(completed(outcome), linked("requested"))
    assert types(events) == ["thread.turn-completed", "thread.queued-turn-send-failed"]
    failed = events[1].payload
    assert isinstance(failed, e.QueuedTurnSendFailed) and failed.reason == f"turn {outcome}"
    with_error = decide(completed(outcome, error="boom"), linked())[1].payload
    assert isinstance(with_error, e.QueuedTurnSendFailed) and with_error.reason == "boom"
    override = decide(completed(outcome, error="boom", queue_failure_reason="why"), linked())
    assert isinstance(override[1].payload, e.QueuedTurnSendFailed)
    assert override[1].payload.reason == "why"


def test_turn_without_an_item_completes_alone() -> None:
    turn = TurnState("t1", "running")
    assert types(decide(completed("failed"), state(active_turn=turn, turn=turn))) == [
        "thread.turn-completed"
    ]


def test_turn_completion_leaves_an_item_no_longer_linked() -> None:
    # The item was failed and requeued meanwhile: the old turn's end must not touch it.
    turn = TurnState("t1", "running", queue_item_id="q1")
    st = state(queue=[item("q1", 1, "pending")], active_turn=turn, turn=turn)
    assert types(decide(completed("completed"), st)) == ["thread.turn-completed"]


@pytest.mark.parametrize("status", ["completed", "failed", "interrupted", "timed_out"])
def test_an_ended_turn_cannot_end_again(status: str) -> None:
    ended = TurnState("t1", status)
    rejected(completed("completed"), state(turn=ended))
    started = c.TurnStartedCmd(command_id="x", actor="reactor", thread_id=T, turn_id="t1")
    rejected(started, state(turn=ended))


def test_unknown_turn_is_not_found() -> None:
    rejected(completed("completed"), state(), kind="not_found")
    started = c.TurnStartedCmd(command_id="x", actor="reactor", thread_id=T, turn_id="t1")
    rejected(started, state(), kind="not_found")
    assert types(decide(started, state(turn=TurnState("t1", "requested")))) == [
        "thread.turn-started"
    ]


def test_interrupt_needs_the_active_turn() -> None:
    cmd = c.TurnInterrupt(command_id="x", thread_id=T)
    rejected(cmd, state())
    turn = TurnState("t1", "running")
    (event,) = decide(cmd, state(active_turn=turn))
    assert isinstance(event.payload, e.TurnInterruptRequested) and event.payload.turn_id == "t1"
    rejected(c.TurnInterrupt(command_id="x", thread_id=T, turn_id="t2"), state(active_turn=turn))


# --- archive and delete --------------------------------------------------------------------------


@pytest.mark.parametrize("busy", ["active turn", "pending item", "sending item"])
def test_archive_refuses_a_thread_with_work(busy: str) -> None:
    cmd = c.ThreadArchive(command_id="x", thread_id=T)
    rejected(cmd, state(**BUSY_STATES[busy]))


def test_archive_and_unarchive_toggle() -> None:
    archive = c.ThreadArchive(command_id="x", thread_id=T)
    unarchive = c.ThreadUnarchive(command_id="x", thread_id=T)
    assert types(decide(archive, state(queue=[item("q1", 1, "failed")]))) == ["thread.archived"]
    rejected(archive, state(archived=True))
    rejected(unarchive, state())
    assert types(decide(unarchive, state(archived=True))) == ["thread.unarchived"]


def test_delete_with_queued_items_needs_force() -> None:
    st = state(queue=[item("q1", 1), item("q2", 2, "failed")])
    hint = rejected(c.ThreadDelete(command_id="x", thread_id=T), st).hint
    assert hint is not None and "--force" in hint
    assert types(decide(c.ThreadDelete(command_id="x", thread_id=T, force=True), st)) == [
        "thread.deleted"
    ]


@pytest.mark.parametrize("busy", ["active turn", "sending item"])
def test_delete_refuses_running_work_even_with_force(busy: str) -> None:
    rejected(c.ThreadDelete(command_id="x", thread_id=T, force=True), state(**BUSY_STATES[busy]))


# --- purity -------------------------------------------------------------------------------------


def test_decide_is_deterministic_and_does_not_mutate_state() -> None:
    st = linked()
    before = repr(st)
    first = decide(completed("failed", error="e"), st)
    second = decide(completed("failed", error="e"), st)
    assert first == second
    assert repr(st) == before


def test_every_command_type_has_a_handler() -> None:
    from t3cli.domain.decider import _HANDLERS

    assert set(c.ALL_COMMANDS) <= set(_HANDLERS)


# --- ids a command introduces -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "used"),
    [
        (queue(qid="q-new"), "q-new"),
        (queue(), "m"),
        (start(), "turn-new"),
        (start(), "m"),
        (send_start("q1", turn_id="turn-old"), "turn-old"),
    ],
    ids=["queue item", "queued message", "turn", "started message", "sent turn"],
)
def test_an_id_already_in_use_is_invalid(command: c.Command, used: str) -> None:
    st = three() if isinstance(command, c.QueuedTurnSendStart) else state()
    st.ids_in_use = frozenset({used})
    reason = rejected(command, st, kind="invalid").reason
    assert used in reason and "already in use" in reason
    st.ids_in_use = frozenset({"something-else"})
    assert decide(command, st)


def test_a_busy_start_checks_the_ids_it_queues_under() -> None:
    st = state(active_turn=TurnState("t1", "running"))
    st.ids_in_use = frozenset({"turn-new"})  # not used when queued
    assert types(decide(start(when_busy="queue", qid="q-new"), st))[-1] == "thread.turn-queued"
    st.ids_in_use = frozenset({"q-new"})
    rejected(start(when_busy="queue", qid="q-new"), st, kind="invalid")


def append(chunk: int, *, thread_id: str = T, turn_id: str = "turn-1") -> c.MessageAppend:
    return c.MessageAppend(
        command_id="cmd", actor="reactor", thread_id=thread_id, turn_id=turn_id,
        message_id="m-1", text="part", complete=False, chunk=chunk,
    )  # fmt: skip


def test_a_message_is_created_by_its_first_chunk_only() -> None:
    assert types(decide(append(0), state())) == ["thread.message-sent"]
    existing = DecisionState(thread=thread(), message=MessageState(T, "turn-1"))
    rejected(append(0), existing, "rejected")


def test_later_chunks_extend_only_their_own_turns_message() -> None:
    own = DecisionState(thread=thread(), message=MessageState(T, "turn-1"))
    assert types(decide(append(3), own)) == ["thread.message-sent"]
    rejected(append(1), state(), "not_found")  # no such message: its text would be dropped
    other_turn = DecisionState(thread=thread(), message=MessageState(T, "turn-0"))
    rejected(append(1), other_turn, "not_found")
    other_thread = DecisionState(thread=thread(), message=MessageState("b" * 32, "turn-1"))
    rejected(append(1), other_thread, "not_found")


def test_the_high_volume_appends_are_decided_without_the_queue() -> None:
    unread = DecisionState(thread=thread(work_loaded=False))
    assert types(decide(queue(), unread)) == ["thread.message-sent", "thread.turn-queued"]
    assert types(decide(append(0), unread)) == ["thread.message-sent"]
    archived = DecisionState(thread=thread(work_loaded=False, archived=True))
    rejected(queue(), archived, "rejected")
    # A command that does need the queue must never be decided on an unread one.
    with pytest.raises(AssertionError):
        decide(start(), unread)

"""Property-based: random sequences of valid and invalid commands over several threads, on a real
database file per example. After every step:

- the incremental projections equal a from-scratch rebuild of the same log (row by row);
- a rejected command left the log untouched (count and head unchanged by it), and a replayed
  command id returned its original outcome;
- the log has no gap in `sequence` and every stream's versions are contiguous;
- each thread's queue has dense positions 1..n, at most one `sending` item (at the head), and the
  `threads` counters equal the counts in `queued_turns`.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from t3cli.contracts import commands as c
from t3cli.contracts._record import replace
from t3cli.contracts.ids import derived_id
from t3cli.domain.rejections import CommandRejected
from t3cli.engine import DispatchResult, Engine
from t3cli.store import eventlog, pipeline
from t3cli.store.db import connect
from t3cli.store.projectors import ALL_PROJECTORS, CORE_PROJECTORS
from t3cli.store.projectors.summaries import THREAD_SUMMARIES

from .support import (
    PROJECT_ID,
    assert_log_contiguous,
    assert_queue_invariants,
    assert_replay_check_ok,
    log_state,
    project_command,
    projection_rows,
    rebuilt_copy,
)

SIZED = {"<max>": "x" * 120_000, "<over>": "y" * 120_001, "<5k>": "z" * 5000}
# Markers keep hypothesis' reports short; `SIZED` expands them when a command is built.
TEXTS = st.sampled_from(
    ["do the thing", "fix the test", "ünïcødé ✓ 🚀", "more", "", "   \n", "<max>", "<over>"]
)
# Mostly the first live threads; 8 names a deleted thread (if any), 9 an unknown one.
THREAD_REF = st.sampled_from([0, 0, 0, 1, 1, 2, 3, 8, 9])
# -1: the queue's head, -2: its second item; else any item ever seen in the thread.
ITEM_REF = st.sampled_from([-1, -1, -2, -2, 0, 1, 2, 5])
# -1: the thread's active turn; else any turn ever requested in the thread.
TURN_REF = st.sampled_from([-1, -1, -1, 0, 1, 3])
OUTCOMES = st.sampled_from(["completed", "failed", "interrupted", "timed_out"])
SESSION_STATES = st.sampled_from(["idle", "starting", "ready", "running", "stopped", "error"])


@dataclass
class Known:
    """What the test remembers of a command id's first decisive outcome."""

    command: c.Command
    accepted: DispatchResult | None = None
    rejection: CommandRejected | None = None  # only a user's rejection is remembered


@dataclass
class Pools:
    threads: list[str] = field(default_factory=list)  # not deleted
    deleted: list[str] = field(default_factory=list)
    items: dict[str, list[str]] = field(default_factory=dict)
    turns: dict[str, list[str]] = field(default_factory=dict)
    messages: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # (id, next chunk)
    activities: list[str] = field(default_factory=list)


class CoreMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="t3-core-prop-"))
        self.conn: sqlite3.Connection = connect(self.dir / "t3.db", durability="normal")
        self.engine = Engine(self.conn)
        self.engine.dispatch(project_command())
        self.counter = 0
        self.pools = Pools()
        self.known: dict[str, Known] = {}
        self.history: list[str] = []
        self.pending: list[c.Command] = []
        self.batch_size = 1

    # --- helpers --------------------------------------------------------------------------------

    def fresh(self, kind: str) -> str:
        self.counter += 1
        return derived_id("prop", kind, str(self.counter))

    def thread(self, ref: int) -> str:
        live = self.pools.threads
        if ref == 8 and self.pools.deleted:
            return self.pools.deleted[-1]
        if ref < 8 and live:
            return live[ref % len(live)]
        return derived_id("unknown-thread", str(ref))

    def item(self, thread_id: str, ref: int) -> str:
        if ref < 0:
            row = self.conn.execute(
                "SELECT queue_item_id FROM queued_turns WHERE thread_id = ? AND position = ?",
                (thread_id, -ref),
            ).fetchone()
            if row:
                return str(row[0])
            ref = 0
        seen = self.pools.items.get(thread_id, [])
        return seen[ref % len(seen)] if seen else derived_id("unknown-item", str(ref))

    def turn(self, thread_id: str, ref: int) -> str:
        if ref < 0:
            row = self.conn.execute(
                "SELECT active_turn_id FROM threads WHERE thread_id = ?", (thread_id,)
            ).fetchone()
            if row and row[0]:
                return str(row[0])
            ref = 0
        seen = self.pools.turns.get(thread_id, [])
        return seen[ref % len(seen)] if seen else derived_id("unknown-turn", str(ref))

    def submit(self, command: c.Command) -> None:
        self.pending.append(command)
        if len(self.pending) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        commands, self.pending = self.pending, []
        self.batch_size = 1
        if not commands:
            return
        before = log_state(self.conn)
        if len(commands) == 1:
            try:
                outcomes: list[DispatchResult | CommandRejected] = [
                    self.engine.dispatch(commands[0])
                ]
            except CommandRejected as rejection:
                outcomes = [rejection]
        else:
            outcomes = self.engine.dispatch_many(commands)
        after = log_state(self.conn)

        appended = 0
        expected_next = before.head + 1
        for command, outcome in zip(commands, outcomes, strict=True):
            earlier = self.known.get(command.command_id)
            if isinstance(outcome, CommandRejected):
                self.check_rejection(command, outcome, earlier)
            else:
                appended += self.check_acceptance(command, outcome, earlier, expected_next)
                if not outcome.duplicate:
                    expected_next = outcome.sequence + 1
        assert after.count == before.count + appended
        assert after.head == before.head + appended

    def check_rejection(
        self, command: c.Command, rejection: CommandRejected, earlier: Known | None
    ) -> None:
        assert rejection.reason
        appended = self.conn.execute(
            "SELECT count(*) FROM events WHERE command_id = ?", (command.command_id,)
        ).fetchone()[0]
        assert appended == 0, "a rejected command appended events"
        if earlier is not None:
            assert earlier.accepted is None, "an accepted command id was later rejected"
            if earlier.rejection is not None:  # the same answer, from the receipt
                assert (rejection.reason, rejection.kind, rejection.hint) == (
                    earlier.rejection.reason,
                    earlier.rejection.kind,
                    earlier.rejection.hint,
                )
                return
        receipt = eventlog.get_receipt(self.conn, command.command_id)
        if command.actor == "user":
            assert receipt is not None and receipt.status == "rejected"
            assert receipt.error == rejection.reason
            self.known[command.command_id] = Known(command, rejection=rejection)
        else:
            assert receipt is None, "a reactor rejection must not stick"
            self.known.setdefault(command.command_id, Known(command))
        self.history.append(command.command_id)

    def check_acceptance(
        self,
        command: c.Command,
        result: DispatchResult,
        earlier: Known | None,
        expected_next: int,
    ) -> int:
        assert result.command_id == command.command_id and result.events
        if earlier is not None and earlier.accepted is not None:
            assert result.duplicate
            assert result.sequence == earlier.accepted.sequence
            assert result.events == earlier.accepted.events
            return 0
        assert earlier is None or earlier.rejection is None, "a rejected user id was accepted"
        assert not result.duplicate
        sequences = [ev.sequence for ev in result.events]
        assert sequences == list(range(expected_next, expected_next + len(sequences)))
        receipt = eventlog.get_receipt(self.conn, command.command_id)
        assert receipt is not None and receipt.status == "accepted"
        assert receipt.result_sequence == result.sequence
        self.known[command.command_id] = Known(command, accepted=result)
        self.history.append(command.command_id)
        self.remember(result)
        return len(sequences)

    def remember(self, result: DispatchResult) -> None:
        pools = self.pools
        for ev in result.events:
            p = ev.payload
            if ev.type == "thread.created":
                pools.threads.append(p["thread_id"])
            elif ev.type == "thread.deleted":
                pools.threads.remove(p["thread_id"])
                pools.deleted.append(p["thread_id"])
            elif ev.type == "thread.turn-queued":
                pools.items.setdefault(p["thread_id"], []).append(p["queue_item_id"])
            elif ev.type == "thread.turn-start-requested":
                pools.turns.setdefault(p["thread_id"], []).append(p["turn_id"])
            elif ev.type == "thread.message-sent" and p["role"] == "assistant":
                chunks = pools.messages.setdefault(p["thread_id"], [])
                chunks[:] = [m for m in chunks if m[0] != p["message_id"]]
                chunks.append((p["message_id"], p["chunk"] + 1))
            elif ev.type == "thread.activity-appended":
                pools.activities.append(p["activity_id"])

    # --- client commands ------------------------------------------------------------------------

    @initialize(count=st.integers(1, 3))
    def some_threads(self, count: int) -> None:
        for _ in range(count):
            self.create_thread(duplicate=False, title="a thread")

    @rule(
        duplicate=st.sampled_from([False, False, False, True]),
        title=st.sampled_from(["a thread", "", "<long title>"]),
    )
    def create_thread(self, duplicate: bool, title: str) -> None:
        thread_id = (
            self.pools.threads[0] if duplicate and self.pools.threads else self.fresh("thread")
        )
        self.submit(
            c.ThreadCreate(
                command_id=self.fresh("cmd"), thread_id=thread_id, project_id=PROJECT_ID,
                provider="echo", title="t" * 201 if title == "<long title>" else title or "a",
            )
        )  # fmt: skip

    @rule(ref=THREAD_REF, text=TEXTS, reuse=st.sampled_from([None] * 6 + ["item", "message"]))
    def queue(self, ref: int, text: str, reuse: str | None) -> None:
        thread_id = self.thread(ref)
        item_id = self.item(thread_id, 0) if reuse == "item" else self.fresh("item")
        message_id = self.fresh("message")
        if reuse == "message":
            row = self.conn.execute("SELECT message_id FROM messages LIMIT 1").fetchone()
            message_id = row[0] if row else message_id
        self.submit(
            c.TurnQueue(
                command_id=self.fresh("cmd"), thread_id=thread_id, queue_item_id=item_id,
                message_id=message_id, text=SIZED.get(text, text),
            )
        )  # fmt: skip

    @rule(
        ref=THREAD_REF,
        text=TEXTS,
        when_busy=st.sampled_from(["reject", "queue"]),
        reuse_turn=st.booleans(),
    )
    def start_turn(self, ref: int, text: str, when_busy: str, reuse_turn: bool) -> None:
        thread_id = self.thread(ref)
        turn_id = self.turn(thread_id, 0) if reuse_turn else self.fresh("turn")
        self.submit(
            c.TurnStart(
                command_id=self.fresh("cmd"), thread_id=thread_id, turn_id=turn_id,
                message_id=self.fresh("message"), text=SIZED.get(text, text),
                when_busy=when_busy,  # type: ignore[arg-type]
                queue_item_id=self.fresh("item") if when_busy == "queue" else None,
            )
        )  # fmt: skip

    @rule(ref=THREAD_REF, item=ITEM_REF)
    def retry(self, ref: int, item: int) -> None:
        thread_id = self.thread(ref)
        self.submit(
            c.QueuedTurnRetry(
                command_id=self.fresh("cmd"), thread_id=thread_id,
                queue_item_id=self.item(thread_id, item),
            )
        )  # fmt: skip

    @rule(ref=THREAD_REF, item=ITEM_REF)
    def cancel(self, ref: int, item: int) -> None:
        thread_id = self.thread(ref)
        self.submit(
            c.QueuedTurnCancel(
                command_id=self.fresh("cmd"), thread_id=thread_id,
                queue_item_id=self.item(thread_id, item),
            )
        )  # fmt: skip

    @rule(ref=THREAD_REF, text=TEXTS)
    def queue_again(self, ref: int, text: str) -> None:
        """Queueing is the common case: a second rule doubles its share of the steps."""
        self.queue(ref, text, None)

    @rule(ref=THREAD_REF, item=ITEM_REF, to=st.integers(-1, 5))
    def move(self, ref: int, item: int, to: int) -> None:
        thread_id = self.thread(ref)
        self.submit(
            c.QueuedTurnMove(
                command_id=self.fresh("cmd"), thread_id=thread_id,
                queue_item_id=self.item(thread_id, item), to_position=to,
            )
        )  # fmt: skip

    @rule(ref=THREAD_REF, turn=st.one_of(st.none(), TURN_REF))
    def interrupt(self, ref: int, turn: int | None) -> None:
        thread_id = self.thread(ref)
        self.submit(
            c.TurnInterrupt(
                command_id=self.fresh("cmd"), thread_id=thread_id,
                turn_id=None if turn is None else self.turn(thread_id, turn),
            )
        )  # fmt: skip

    @rule(ref=THREAD_REF, action=st.sampled_from(["archive", "unarchive", "stop", "update"]))
    def thread_flag(self, ref: int, action: str) -> None:
        thread_id = self.thread(ref)
        command_id = self.fresh("cmd")
        command: c.Command
        if action == "archive":
            command = c.ThreadArchive(command_id=command_id, thread_id=thread_id)
        elif action == "unarchive":
            command = c.ThreadUnarchive(command_id=command_id, thread_id=thread_id)
        elif action == "stop":
            command = c.SessionStop(command_id=command_id, thread_id=thread_id)
        else:
            command = c.ThreadUpdate(
                command_id=command_id, thread_id=thread_id, title=f"renamed {self.counter}",
                model="m1", provider_options={"effort": "high"},
            )  # fmt: skip
        self.submit(command)

    @rule(ref=THREAD_REF, force=st.booleans())
    def delete(self, ref: int, force: bool) -> None:
        self.submit(
            c.ThreadDelete(command_id=self.fresh("cmd"), thread_id=self.thread(ref), force=force)
        )

    # --- reactor commands -----------------------------------------------------------------------

    @rule(ref=THREAD_REF, item=ITEM_REF, reuse_turn=st.booleans())
    def send_start(self, ref: int, item: int, reuse_turn: bool) -> None:
        thread_id = self.thread(ref)
        self.submit(
            c.QueuedTurnSendStart(
                command_id=self.fresh("cmd"), actor="reactor", thread_id=thread_id,
                queue_item_id=self.item(thread_id, item),
                turn_id=self.turn(thread_id, 0) if reuse_turn else self.fresh("turn"),
            )
        )  # fmt: skip

    @rule(ref=THREAD_REF, turn=TURN_REF)
    def turn_started(self, ref: int, turn: int) -> None:
        thread_id = self.thread(ref)
        self.submit(
            c.TurnStartedCmd(
                command_id=self.fresh("cmd"), actor="reactor", thread_id=thread_id,
                turn_id=self.turn(thread_id, turn), provider_session_id=f"s-{self.counter}",
            )
        )  # fmt: skip

    @rule(
        ref=THREAD_REF, turn=TURN_REF, status=OUTCOMES, error=st.sampled_from([None, "boom"]),
        reason=st.sampled_from([None, "reactor stopped"]),
    )  # fmt: skip
    def turn_completed(
        self, ref: int, turn: int, status: str, error: str | None, reason: str | None
    ) -> None:
        thread_id = self.thread(ref)
        self.submit(
            c.TurnCompletedCmd(
                command_id=self.fresh("cmd"), actor="reactor", thread_id=thread_id,
                turn_id=self.turn(thread_id, turn), status=status,  # type: ignore[arg-type]
                error=error, queue_failure_reason=reason, input_tokens=5, output_tokens=7,
                cost_usd=0.25, duration_ms=10,
            )
        )  # fmt: skip

    @rule(ref=THREAD_REF, item=ITEM_REF, fail=st.booleans())
    def resolve_or_fail(self, ref: int, item: int, fail: bool) -> None:
        thread_id = self.thread(ref)
        item_id = self.item(thread_id, item)
        command_id = self.fresh("cmd")
        if fail:
            self.submit(
                c.QueuedTurnSendFail(
                    command_id=command_id, actor="reactor", thread_id=thread_id,
                    queue_item_id=item_id, reason="could not start the agent",
                )
            )  # fmt: skip
        else:
            self.submit(
                c.QueuedTurnResolve(
                    command_id=command_id, actor="reactor", thread_id=thread_id,
                    queue_item_id=item_id,
                )
            )  # fmt: skip

    @rule(ref=THREAD_REF, status=SESSION_STATES)
    def session_set(self, ref: int, status: str) -> None:
        self.submit(
            c.SessionSet(
                command_id=self.fresh("cmd"), actor="reactor", thread_id=self.thread(ref),
                status=status,  # type: ignore[arg-type]
                provider="echo", provider_session_id=f"s-{self.counter}",
                error="crashed" if status == "error" else None,
            )
        )  # fmt: skip

    @rule(
        ref=THREAD_REF, turn=TURN_REF, follow_up=st.booleans(),
        text=st.sampled_from(["Hello", " world", "", "<5k>"]), complete=st.booleans(),
    )  # fmt: skip
    def message_append(
        self, ref: int, turn: int, follow_up: bool, text: str, complete: bool
    ) -> None:
        thread_id = self.thread(ref)
        earlier = self.pools.messages.get(thread_id)
        if follow_up and earlier:
            message_id, chunk = earlier[-1]
        else:
            message_id, chunk = self.fresh("assistant"), 0
        self.submit(
            c.MessageAppend(
                command_id=self.fresh("cmd"), actor="reactor", thread_id=thread_id,
                turn_id=self.turn(thread_id, turn), message_id=message_id,
                text=SIZED.get(text, text), complete=complete, chunk=chunk,
            )
        )  # fmt: skip

    @rule(
        ref=THREAD_REF,
        turn=TURN_REF,
        again=st.booleans(),
        status=st.sampled_from([None, "started", "completed"]),
    )
    def activity_append(self, ref: int, turn: int, again: bool, status: str | None) -> None:
        thread_id = self.thread(ref)
        activities = self.pools.activities
        activity_id = activities[-1] if again and activities else self.fresh("activity")
        self.submit(
            c.ActivityAppend(
                command_id=self.fresh("cmd"), actor="reactor", thread_id=thread_id,
                turn_id=self.turn(thread_id, turn), activity_id=activity_id, kind="command",
                summary=f"ran step {self.counter}", status=status, detail={"n": self.counter},
            )
        )  # fmt: skip

    @rule(ref=THREAD_REF, status=OUTCOMES, chunks=st.integers(0, 2))
    def drive_again(self, ref: int, status: str, chunks: int) -> None:
        self.drive(ref, status, chunks)

    @rule(ref=THREAD_REF, status=OUTCOMES, chunks=st.integers(0, 2))
    def drive(self, ref: int, status: str, chunks: int) -> None:
        """What a reactor would do next on the thread: free its session, retry or cancel a
        failed head, send a pending head, start the requested turn, stream a reply and end the
        running turn. Keeps queues and turns moving through their whole lifecycle."""
        thread_id = self.thread(ref)
        row = self.conn.execute(
            "SELECT t.active_turn_id, t.active_turn_status, s.status, q.status FROM threads t"
            " LEFT JOIN sessions s ON s.thread_id = t.thread_id"
            " LEFT JOIN queued_turns q ON q.thread_id = t.thread_id AND q.position = 1"
            " WHERE t.thread_id = ?",
            (thread_id,),
        ).fetchone()
        turn_id, turn_status, session, head = row if row else (None, None, None, None)
        if turn_id is None:
            if session not in (None, "idle", "ready", "stopped"):
                self.session_set(ref, "ready")
            elif head == "failed" and status == "completed":
                self.retry(ref, -1)
            elif head == "failed":
                self.cancel(ref, -1)
            elif head is None:
                self.queue(ref, "more", None)
            else:
                self.send_start(ref, -1, reuse_turn=False)
        elif turn_status == "requested":
            self.turn_started(ref, -1)
        else:
            message_id = self.fresh("assistant")
            for chunk in range(chunks):
                self.submit(
                    c.MessageAppend(
                        command_id=self.fresh("cmd"), actor="reactor", thread_id=thread_id,
                        turn_id=turn_id, message_id=message_id, text=f"part {chunk}",
                        complete=chunk == chunks - 1, chunk=chunk,
                    )
                )  # fmt: skip
            self.turn_completed(ref, -1, status, None, None)

    # --- ids, batches, the asynchronous projector -----------------------------------------------

    @precondition(lambda self: bool(self.history))
    @rule(index=st.integers(0, 10_000))
    def replay_command(self, index: int) -> None:
        """A retry of an earlier command with the same id (e.g. after a timeout or a crash)."""
        command_id = self.history[index % len(self.history)]
        self.submit(self.known[command_id].command)

    @precondition(lambda self: bool(self.history) and bool(self.pools.threads))
    @rule(index=st.integers(0, 10_000), ref=THREAD_REF)
    def reuse_command_id(self, index: int, ref: int) -> None:
        """A different command under an earlier id gets the earlier outcome (or, for a reactor id
        that was rejected and left no receipt, a fresh decision)."""
        command_id = self.history[index % len(self.history)]
        command = c.TurnQueue(
            command_id=command_id, thread_id=self.thread(ref), queue_item_id=self.fresh("item"),
            message_id=self.fresh("message"), text="reused id",
        )  # fmt: skip
        earlier = self.known[command_id].command
        if earlier.actor != "user":
            command = replace(command, actor=earlier.actor)
        self.submit(command)

    @rule(size=st.integers(2, 5))
    def start_batch(self, size: int) -> None:
        """Dispatch the next commands together with `dispatch_many`."""
        self.flush()
        self.batch_size = size

    @rule()
    def catch_up_summaries(self) -> None:
        pipeline.catch_up(self.conn, [THREAD_SUMMARIES])

    # --- invariants -----------------------------------------------------------------------------

    @invariant()
    def log_is_contiguous(self) -> None:
        assert_log_contiguous(self.conn)

    @invariant()
    def queues_are_consistent(self) -> None:
        assert_queue_invariants(self.conn)

    @invariant()
    def projections_equal_a_rebuild(self) -> None:
        head = log_state(self.conn).head
        current = pipeline.read_cursors(self.conn)
        assert all(current[p.name].last_applied_sequence == head for p in CORE_PROJECTORS)
        compared = list(CORE_PROJECTORS)
        if pipeline.projected_up_to(self.conn, THREAD_SUMMARIES) == head:
            compared.append(THREAD_SUMMARIES)
        copy = rebuilt_copy(self.conn)
        try:
            live, rebuilt = projection_rows(self.conn, compared), projection_rows(copy, compared)
        finally:
            copy.close()
        for table in live:
            assert live[table] == rebuilt[table], f"{table}: incremental differs from a rebuild"

    def teardown(self) -> None:
        try:
            self.flush()
            pipeline.catch_up(self.conn, ALL_PROJECTORS)
            assert_replay_check_ok(self.conn)
        finally:
            self.conn.close()
            shutil.rmtree(self.dir, ignore_errors=True)


CoreMachine.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TestCoreMachine = CoreMachine.TestCase

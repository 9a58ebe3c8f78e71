"""Helpers for the core tests: inspecting a real database file, comparing projections with a
rebuild, checking the log's and the queue's structural invariants, and driving the real engine
to a log of a given size.

Everything here reads real SQLite files; nothing replaces the code under test.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from t3cli.contracts import commands as c
from t3cli.contracts import events as e
from t3cli.contracts.events import NewEvent
from t3cli.contracts.ids import derived_id, new_id, utc_now
from t3cli.engine import Engine
from t3cli.store import eventlog, replay
from t3cli.store.db import connect, write_transaction
from t3cli.store.projectors import ALL_PROJECTORS, CORE_PROJECTORS, Projector

PROJECT_PATH = "/tmp/t3-core-project"
PROJECT_ID = derived_id("project", PROJECT_PATH)


@dataclass(frozen=True)
class LogState:
    count: int
    head: int


def log_state(conn: sqlite3.Connection) -> LogState:
    count, head = conn.execute("SELECT count(*), coalesce(max(sequence), 0) FROM events").fetchone()
    return LogState(count, head)


def table_rows(conn: sqlite3.Connection, table: str, key: str) -> list[tuple[object, ...]]:
    return conn.execute(f"SELECT * FROM {table} ORDER BY {key}").fetchall()


def projection_rows(
    conn: sqlite3.Connection, projectors: Iterable[Projector] = ALL_PROJECTORS
) -> dict[str, list[tuple[object, ...]]]:
    return {
        table: table_rows(conn, table, projector.keys[table])
        for projector in projectors
        for table in projector.tables
    }


def rebuilt_copy(conn: sqlite3.Connection) -> sqlite3.Connection:
    """An in-memory copy of `conn`'s database with every projection rebuilt from its log by
    `replay.rebuild` (the live file is not touched)."""
    copy = sqlite3.connect(":memory:", isolation_level=None)
    conn.backup(copy)
    replay.rebuild(copy)
    return copy


def assert_projections_equal_rebuild(
    conn: sqlite3.Connection, projectors: Iterable[Projector] = CORE_PROJECTORS
) -> None:
    """Every row of `projectors`' tables equals a from-scratch rebuild of the same log."""
    projectors = tuple(projectors)
    copy = rebuilt_copy(conn)
    try:
        live = projection_rows(conn, projectors)
        rebuilt = projection_rows(copy, projectors)
    finally:
        copy.close()
    for table in live:
        assert live[table] == rebuilt[table], f"{table}: incremental differs from a rebuild"


def assert_replay_check_ok(conn: sqlite3.Connection) -> replay.CheckReport:
    report = replay.check(conn)
    assert report.ok, [d.describe() for d in report.differences]
    return report


def assert_log_contiguous(conn: sqlite3.Connection) -> None:
    """`sequence` is 1..max with no gap, and every stream's versions are 1..n, in sequence order."""
    count, low, high = conn.execute(
        "SELECT count(*), coalesce(min(sequence), 0), coalesce(max(sequence), 0) FROM events"
    ).fetchone()
    if count:
        assert (low, high) == (1, count), f"sequence gap: {count} events span {low}..{high}"
    bad = conn.execute(
        "SELECT stream_id, count(*), min(stream_version), max(stream_version) FROM events"
        " GROUP BY stream_id HAVING min(stream_version) != 1 OR max(stream_version) != count(*)"
    ).fetchall()
    assert not bad, f"streams with non-contiguous versions: {bad}"
    disordered = conn.execute(
        "SELECT a.sequence FROM events a JOIN events b ON a.stream_id = b.stream_id"
        " AND b.stream_version = a.stream_version + 1 WHERE b.sequence < a.sequence LIMIT 1"
    ).fetchall()
    assert not disordered, "a stream's versions do not follow its sequence order"


def assert_queue_invariants(conn: sqlite3.Connection) -> None:
    """Per thread: positions are exactly 1..n, at most one item is `sending` (and it is at
    position 1), and the `threads` counters equal the counts in `queued_turns`."""
    queues: dict[str, list[tuple[int, str]]] = {}
    for thread_id, position, status in conn.execute(
        "SELECT thread_id, position, status FROM queued_turns ORDER BY thread_id, position"
    ):
        queues.setdefault(thread_id, []).append((position, status))
    for thread_id, items in queues.items():
        positions = [position for position, _ in items]
        assert positions == list(range(1, len(items) + 1)), (thread_id, positions)
        sending = [position for position, status in items if status == "sending"]
        assert sending in ([], [1]), f"thread {thread_id}: sending items at {sending}"
    counters = {
        row[0]: row[1:]
        for row in conn.execute(
            "SELECT thread_id, pending_count, sending_count, failed_count, deleted FROM threads"
        )
    }
    for thread_id, (pending, sending, failed, deleted) in counters.items():
        statuses = [status for _, status in queues.get(thread_id, [])]
        expected = (statuses.count("pending"), statuses.count("sending"), statuses.count("failed"))
        assert (pending, sending, failed) == expected, (thread_id, (pending, sending, failed))
        if deleted:
            assert not statuses, f"deleted thread {thread_id} still has queued turns"
    orphans = set(queues) - set(counters)
    assert not orphans, f"queued turns of unknown threads: {orphans}"


class Trace:
    """Records every SQL statement (bound values expanded) run on a connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.statements: list[str] = []

    def __enter__(self) -> Trace:
        self.conn.set_trace_callback(self.statements.append)
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.set_trace_callback(None)


def open_fast(path: Path) -> sqlite3.Connection:
    """A connection for building test logs quickly; durability changes no result."""
    return connect(path, durability="normal")


# --- commands ----------------------------------------------------------------------------------


def project_command() -> c.ProjectCreate:
    return c.ProjectCreate(
        command_id=new_id(),
        project_id=PROJECT_ID,
        path=PROJECT_PATH,
        title="core",
        default_provider="echo",
    )


def thread_command(thread_id: str | None = None) -> c.ThreadCreate:
    thread_id = thread_id or new_id()
    return c.ThreadCreate(
        command_id=new_id(),
        thread_id=thread_id,
        project_id=PROJECT_ID,
        provider="echo",
        title=f"thread {thread_id[:8]}",
    )


def queue_command(thread_id: str, text: str = "please do the next thing") -> c.TurnQueue:
    return c.TurnQueue(
        command_id=new_id(),
        thread_id=thread_id,
        queue_item_id=new_id(),
        message_id=new_id(),
        text=text,
    )


def send_commands(
    thread_id: str, item_id: str, *, outcome: str = "completed", chunks: int = 2
) -> list[c.Command]:
    """What the reactor dispatches to run queued item `item_id`: send.start, turn started, an
    activity, coalesced assistant chunks, turn completed (which resolves or fails the item)."""
    turn, message = new_id(), new_id()
    commands: list[c.Command] = [
        c.QueuedTurnSendStart(
            command_id=new_id(), actor="reactor", thread_id=thread_id, queue_item_id=item_id,
            turn_id=turn,
        ),
        c.TurnStartedCmd(
            command_id=new_id(), actor="reactor", thread_id=thread_id, turn_id=turn,
            provider_session_id="session-1",
        ),
        c.ActivityAppend(
            command_id=new_id(), actor="reactor", thread_id=thread_id, turn_id=turn,
            activity_id=new_id(), kind="command", summary="ran pytest", status="completed",
            detail={"exit_code": 0},
        ),
    ]  # fmt: skip
    for chunk in range(chunks):
        commands.append(
            c.MessageAppend(
                command_id=new_id(), actor="reactor", thread_id=thread_id, turn_id=turn,
                message_id=message, text=f"part {chunk} ", chunk=chunk,
                complete=chunk == chunks - 1,
            )
        )  # fmt: skip
    commands.append(
        c.TurnCompletedCmd(
            command_id=new_id(), actor="reactor", thread_id=thread_id, turn_id=turn,
            status=outcome,  # type: ignore[arg-type]
            error=None if outcome == "completed" else f"turn {outcome}",
            input_tokens=10, output_tokens=20, cost_usd=0.01, duration_ms=1500,
        )
    )  # fmt: skip
    return commands


def turn_cycle(thread_id: str, *, fail_first: bool = False) -> list[c.Command]:
    """One queued turn from queueing to resolution. With `fail_first`, the first attempt fails,
    the item is retried and the second attempt completes."""
    queued = queue_command(thread_id)
    commands: list[c.Command] = [queued]
    if fail_first:
        commands += send_commands(thread_id, queued.queue_item_id, outcome="failed")
        commands.append(
            c.QueuedTurnRetry(
                command_id=new_id(), thread_id=thread_id, queue_item_id=queued.queue_item_id
            )
        )
    commands += send_commands(thread_id, queued.queue_item_id)
    return commands


def chunks(items: list[c.Command], size: int) -> Iterator[list[c.Command]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def dispatch_all(engine: Engine, commands: list[c.Command], *, batch: int = 200) -> None:
    """Dispatch `commands` in batches with `dispatch_many`; every one must be accepted."""
    for part in chunks(commands, batch):
        for outcome in engine.dispatch_many(part):
            assert not isinstance(outcome, Exception), outcome


def build_log(
    engine: Engine, *, threads: int, cycles: int, pending_per_thread: int = 1
) -> list[str]:
    """Drive the real engine to a log of `threads` threads, each with `cycles` resolved queued
    turns (every 5th failing once and retried) and `pending_per_thread` items left pending.
    Returns the thread ids. About 12 events per cycle."""
    if not engine.conn.execute(
        "SELECT 1 FROM projects WHERE project_id = ?", (PROJECT_ID,)
    ).fetchone():
        engine.dispatch(project_command())
    thread_ids = [new_id() for _ in range(threads)]
    commands: list[c.Command] = [thread_command(t) for t in thread_ids]
    for n in range(cycles):
        for thread_id in thread_ids:
            commands += turn_cycle(thread_id, fail_first=n % 5 == 4)
    for thread_id in thread_ids:
        commands += [
            queue_command(thread_id, "queued for later") for _ in range(pending_per_thread)
        ]
    dispatch_all(engine, commands)
    return thread_ids


def append_unprojected(
    conn: sqlite3.Connection, payloads: list[e.EventPayload], *, per_command: int = 500
) -> None:
    """Append events with `eventlog.append` only — as a writer that does not project would (a log
    restored from elsewhere, or one written before a projector existed). Projections lag behind."""
    for start in range(0, len(payloads), per_command):
        part = payloads[start : start + per_command]
        with write_transaction(conn):
            eventlog.append(
                conn,
                [NewEvent(payload=payload) for payload in part],
                eventlog.Envelope(command_id=new_id(), actor="reactor", occurred_at=utc_now()),
            )


def traffic(thread_ids: list[str], turn_ids: dict[str, str], count: int) -> list[e.EventPayload]:
    """`count` realistic events on running turns: activities, assistant chunks, session changes,
    and newly queued items (message + item)."""
    payloads: list[e.EventPayload] = []
    messages = {thread_id: new_id() for thread_id in thread_ids}
    chunk = dict.fromkeys(thread_ids, 0)
    n = 0
    while len(payloads) < count:
        thread_id = thread_ids[n % len(thread_ids)]
        turn_id = turn_ids[thread_id]
        kind = n % 6
        if kind in (0, 1):
            payloads.append(
                e.ActivityAppended(
                    thread_id=thread_id, turn_id=turn_id, activity_id=new_id(), kind="command",
                    summary=f"step {n}", status="completed", detail={"n": n},
                )
            )  # fmt: skip
        elif kind in (2, 3):
            payloads.append(
                e.MessageSent(
                    thread_id=thread_id, message_id=messages[thread_id], role="assistant",
                    text=f"chunk {chunk[thread_id]} ", turn_id=turn_id, complete=False,
                    chunk=chunk[thread_id],
                )
            )  # fmt: skip
            chunk[thread_id] += 1
        elif kind == 4:
            payloads.append(e.SessionSet(thread_id=thread_id, status="running", provider="echo"))
        else:
            item, message = new_id(), new_id()
            payloads.append(
                e.MessageSent(
                    thread_id=thread_id, message_id=message, role="user", text=f"later {n}",
                    queue_item_id=item,
                )
            )  # fmt: skip
            payloads.append(
                e.TurnQueued(thread_id=thread_id, queue_item_id=item, message_id=message)
            )
        n += 1
    return payloads


def start_running_turns(engine: Engine, thread_ids: list[str]) -> dict[str, str]:
    """Start one running turn per thread through the engine; returns thread id -> turn id."""
    turns = {}
    for thread_id in thread_ids:
        turn_id = new_id()
        engine.dispatch(
            c.TurnStart(
                command_id=new_id(), thread_id=thread_id, turn_id=turn_id, message_id=new_id(),
                text="go",
            )
        )  # fmt: skip
        engine.dispatch(
            c.TurnStartedCmd(
                command_id=new_id(), actor="reactor", thread_id=thread_id, turn_id=turn_id
            )
        )
        turns[thread_id] = turn_id
    return turns

"""Issue 6: the append path with the summary projection synchronous versus asynchronous.

On a thread that already holds N messages (default 10,000: 5,000 turns, a log from `_logcache`),
each timed append is one `thread.turn.queue` command (a user message: what grows a thread):

- **async** — the real append path: `Engine.dispatch` (core projections only, one transaction);
  `thread_summaries` is left to the reactor's background worker or a reader's barrier.
- **sync** — a hypothetical design that also catches the `thread_summaries` projector up inside
  each append's transaction: `Engine._dispatch_one` and `pipeline.catch_up_in_transaction`
  between one `BEGIN IMMEDIATE` and its `COMMIT`.

After each timed append the queued item is cancelled (untimed, and in the sync variant the summary
caught up, untimed), so the thread's queue stays short and both variants start from the same state.
The two variants alternate, one append each, on one connection with `durability="normal"`: a
commit's fsync costs both variants the same, and on a shared disk its jitter (0.2 to 2 ms here)
would drown the difference being measured — so the ratio shown is the projection's share at its
largest. Reported: median ms per append of each, and sync / async.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench._logcache import LogSpec, build_log
from t3cli.contracts import commands as c
from t3cli.contracts.ids import new_id
from t3cli.engine import Engine
from t3cli.store import pipeline
from t3cli.store.db import connect, write_transaction
from t3cli.store.projectors import ASYNC_PROJECTORS, CORE_PROJECTORS


@dataclass(frozen=True, slots=True)
class SummaryResult:
    sync_ms: float
    async_ms: float
    messages: int  # messages in the thread before the first timed append

    @property
    def ratio(self) -> float:
        return self.sync_ms / self.async_ms


def thread_spec(messages: int) -> LogSpec:
    """One thread whose turns (a user and an assistant message each) hold `messages` messages:
    `core_bench.build_log` writes the project and the thread (2 events), 13 events per turn, and
    a tail of 9 (two pending items, one running turn: 3 more messages)."""
    turns = messages // 2
    return LogSpec(threads=1, events=2 + 13 * turns + 9)


def measure(messages: int, appends: int) -> SummaryResult:
    built = build_log(thread_spec(messages))
    thread_id = built.thread_ids[0]
    text = "and now add a regression test for the parser fix"
    with tempfile.TemporaryDirectory(prefix="t3-bench-summary-") as tmp:
        db = Path(tmp) / "t3.db"
        shutil.copyfile(built.db, db)
        conn = connect(db, durability="normal")
        try:
            engine = Engine(conn)
            count = conn.execute(
                "SELECT count(*) FROM messages WHERE thread_id = ?", (thread_id,)
            ).fetchone()[0]
            sync_ms: list[float] = []
            async_ms: list[float] = []

            def cancel(item: str, catch_up: bool) -> None:
                engine.dispatch(
                    c.QueuedTurnCancel(command_id=new_id(), thread_id=thread_id, queue_item_id=item)
                )
                if catch_up:
                    pipeline.catch_up(conn, ASYNC_PROJECTORS)

            def queued() -> c.TurnQueue:
                return c.TurnQueue(
                    command_id=new_id(), thread_id=thread_id, queue_item_id=new_id(),
                    message_id=new_id(), text=text,
                )  # fmt: skip

            pipeline.catch_up(conn, ASYNC_PROJECTORS)
            for _ in range(appends):
                command = queued()
                began = time.perf_counter()
                with write_transaction(conn):
                    outcome = engine._dispatch_one(command)
                    # What Engine.dispatch does once per transaction after its commands.
                    assert not isinstance(outcome, Exception), outcome
                    pipeline.advance_cursors(conn, CORE_PROJECTORS, outcome.sequence)
                    pipeline.catch_up_in_transaction(conn, ASYNC_PROJECTORS)
                sync_ms.append((time.perf_counter() - began) * 1000)
                cancel(command.queue_item_id, catch_up=True)

                command = queued()
                began = time.perf_counter()
                engine.dispatch(command)
                async_ms.append((time.perf_counter() - began) * 1000)
                cancel(command.queue_item_id, catch_up=True)
        finally:
            conn.close()
    return SummaryResult(statistics.median(sync_ms), statistics.median(async_ms), int(count))

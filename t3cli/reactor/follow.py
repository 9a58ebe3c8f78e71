"""Following a thread through the log: a turn, for `t3 send` when another reactor drives the
thread; the whole thread, for `t3 watch` (through `ThreadTail`).

`ThreadTail` is the shared part: a cursor over one thread's events, read with an indexed range
read of its stream, and whether a live reactor drives the thread. It reads only the log and the
leases, so it works whichever process drives the thread.

The turn follower never runs anything: it reads the thread's events from the turn's request onwards
(an indexed range read of the thread's stream every poll interval), prints the assistant text the
driving reactor persists (coalesced chunks, so it arrives in bursts of up to ~250 ms), and returns
the turn's outcome from its `thread.turn-completed` event.

- Ctrl-C: the follower records a `thread.turn.interrupt` (as `t3 interrupt` would), keeps
  following until the driving reactor records the end, and reports it.
- If the thread's lease is released or expires while the turn is unfinished (the driving reactor
  went away), `follow` returns `ORPHANED` and the caller drives the thread itself.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from t3cli.contracts import commands as c
from t3cli.contracts.events import EventRecord
from t3cli.contracts.ids import new_id
from t3cli.reactor.dbworker import DbWorker
from t3cli.reactor.observer import TurnResult
from t3cli.store import eventlog, leases
from t3cli.store import reactor_queries as rq
from t3cli.store.db import connect

ORPHANED: Final = "orphaned"
_INTERRUPT_WAIT_S = 30.0


class ThreadTail:
    """A cursor over one thread's events in the log.

    `read` returns the events appended after the cursor, in sequence order, at most `limit` of
    them, and moves the cursor past them: every event is returned exactly once. It reads what
    is committed, so it runs inside a caller's read transaction as well as on its own."""

    def __init__(self, thread_id: str, cursor: int = 0) -> None:
        self.thread_id = thread_id
        self.cursor = cursor

    def read(self, conn: sqlite3.Connection, limit: int = 500) -> list[EventRecord]:
        events = eventlog.read_after(conn, self.cursor, limit, stream_id=self.thread_id)
        if events:
            self.cursor = events[-1].sequence
        return events

    def driven(self, conn: sqlite3.Connection) -> bool:
        """Whether a live reactor (`t3 run`, `t3 send`, on any process) holds the thread."""
        return leases.live_holder(conn, self.thread_id) is not None


@dataclass(slots=True)
class Target:
    thread_id: str
    turn_id: str | None
    queue_item_id: str | None

    def matches(self, turn_id: str | None, queue_item_id: str | None) -> bool:
        if self.turn_id is not None and turn_id == self.turn_id:
            return True
        return self.queue_item_id is not None and queue_item_id == self.queue_item_id


def _cancelled(target: Target) -> TurnResult:
    return TurnResult(
        target.thread_id, target.turn_id or "", target.queue_item_id, "cancelled",
        "the queued turn was cancelled", "", launched=False,
    )  # fmt: skip


class _Follower:
    def __init__(self, target: Target, emit: Callable[[str], None]) -> None:
        self.target = target
        self.emit = emit
        self.turn_id = target.turn_id
        self.tail = ThreadTail(target.thread_id)
        self.reply: list[str] = []

    def locate(self, conn: sqlite3.Connection) -> TurnResult | None:
        """Set the starting cursor just before the turn (or the queued item) appeared."""
        target = self.target
        if target.turn_id is not None:
            turn = rq.turn(conn, target.turn_id)
            self.tail.cursor = turn.requested_sequence - 1 if turn else 0
            return None
        assert target.queue_item_id is not None
        item = rq.queue_item(conn, target.queue_item_id)
        if item is not None:
            self.tail.cursor = item[1] - 1
            return None
        turn = rq.latest_turn_of_item(conn, target.queue_item_id)
        if turn is None:
            return _cancelled(target)
        self.turn_id = turn.turn_id
        self.tail.cursor = turn.requested_sequence - 1
        return None

    def apply(self, event: EventRecord) -> TurnResult | None:
        p = event.payload
        qid = self.target.queue_item_id
        if (
            event.type == "thread.queued-turn-send-started"
            and qid
            and p.get("queue_item_id") == qid
        ):
            self.turn_id = str(p["turn_id"])
        elif event.type == "thread.queued-turn-cancelled" and qid and p.get("queue_item_id") == qid:
            return _cancelled(self.target)
        elif (
            event.type == "thread.message-sent"
            and p.get("role") == "assistant"
            and self.turn_id is not None
            and p.get("turn_id") == self.turn_id
        ):
            text = str(p.get("text", ""))
            self.reply.append(text)
            if text:
                self.emit(text)
        elif event.type == "thread.turn-completed" and p.get("turn_id") == self.turn_id:
            assert self.turn_id is not None
            return TurnResult(
                thread_id=self.target.thread_id,
                turn_id=self.turn_id,
                queue_item_id=self.target.queue_item_id,
                status=str(p["status"]),
                error=p.get("error"),
                reply="".join(self.reply),
                input_tokens=p.get("input_tokens"),
                output_tokens=p.get("output_tokens"),
                cost_usd=p.get("cost_usd"),
                duration_ms=p.get("duration_ms"),
            )
        return None

    def orphaned(self, conn: sqlite3.Connection) -> bool:
        """Nobody holds the lease and the turn (or item) is not finished."""
        if self.tail.driven(conn):
            return False
        if self.turn_id is not None:
            turn = rq.turn(conn, self.turn_id)
            return turn is not None and turn.status in ("requested", "running")
        qid = self.target.queue_item_id
        return qid is not None and rq.queue_item(conn, qid) is not None


async def follow(
    database: Path,
    target: Target,
    emit: Callable[[str], None],
    interrupt: asyncio.Event,
    *,
    poll_s: float,
    lease_check_s: float,
) -> TurnResult | Literal["orphaned"]:
    """Follow `target` until its turn ends (see module docstring)."""
    worker = DbWorker("t3-follow", lambda: connect(database))
    await worker.start()
    follower = _Follower(target, emit)
    try:
        early = await worker.call(follower.locate)
        if early is not None:
            return early
        next_lease_check = time.monotonic() + lease_check_s
        interrupted_at: float | None = None
        while True:
            for event in await worker.call(follower.tail.read):
                result = follower.apply(event)
                if result is not None:
                    return result
            if interrupt.is_set() and follower.turn_id is None:
                return TurnResult(
                    target.thread_id, "", target.queue_item_id, "interrupted",
                    "left in the queue; `t3 queue cancel` drops it", "", launched=False,
                )  # fmt: skip
            if interrupt.is_set() and interrupted_at is None and follower.turn_id is not None:
                interrupted_at = time.monotonic()
                await worker.dispatch_one(
                    c.TurnInterrupt(
                        command_id=new_id(), thread_id=target.thread_id, turn_id=follower.turn_id
                    )
                )  # a rejection means the turn already ended: its end is about to be read
            if interrupted_at is not None and time.monotonic() - interrupted_at > _INTERRUPT_WAIT_S:
                return TurnResult(
                    target.thread_id, follower.turn_id or "", target.queue_item_id, "interrupted",
                    "the driving reactor did not record the interrupt in time",
                    "".join(follower.reply),
                )  # fmt: skip
            if time.monotonic() >= next_lease_check:
                next_lease_check = time.monotonic() + lease_check_s
                if await worker.call(follower.orphaned):
                    return ORPHANED
            await asyncio.sleep(poll_s)
    finally:
        await worker.close()

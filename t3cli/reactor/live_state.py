"""What the live view of `t3 run` knows: a row per thread, the focused thread, the last notice.

Pure (no terminal, no rich, no I/O); `t3cli.reactor.live` feeds it from the reactor's observer
calls and draws it. Guarantees:

- **Stable order.** Rows are ordered by when the view first saw their thread and never move:
  a status change or streamed text changes a row, not its place. When the terminal cannot show
  every row, `visible` keeps the focused row and the busiest ones (running, starting, blocked,
  queued, idle) — still in that stable order — and counts the rest by status.
- **One vocabulary.** A row's status is a documented thread status (`idle`, `starting`,
  `running`, `queued`, `blocked`, `archived`), derived exactly as `t3 threads` derives it.
- **Sticky focus.** Without a choice by the user the focus goes to a thread that streams text
  and stays there until that thread's turn ends; its finished reply stays in view for
  `FOCUS_GRACE_S`, then the next thread to stream takes the focus. A thread the user chose
  (keys, or the single `--thread`) keeps the focus until the user moves it.
- **Bounded memory.** Each row keeps only a tail of its text (`REPLY_CHARS`); at most `MAX_ROWS`
  rows are kept (the idle ones that changed longest ago are dropped first).
- Streamed text is kept exactly as it arrived (chunks are concatenated, never stripped), so the
  spaces between chunks survive; whitespace is flattened only when a row is drawn.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from t3cli.contracts.events import EventRecord
from t3cli.reactor.observer import TurnResult, describe
from t3cli.store.reactor_queries import ThreadSnapshot

REPLY_CHARS = 4000  # the tail of a reply the panel can show
MESSAGE_CHARS = 400  # the part of the last message a row can show
MAX_ROWS = 500
FOCUS_GRACE_S = 3.0  # how long a finished reply stays in view before another thread's text
# Thread statuses, busiest first: which rows stay visible when not all fit, and the order in
# which counts are given.
STATUS_ORDER = ("running", "blocked", "starting", "queued", "idle", "archived")
_RANK = {status: rank for rank, status in enumerate(STATUS_ORDER)}
_ENDED = frozenset({"completed", "failed", "interrupted", "timed_out"})


def thread_status(snapshot: ThreadSnapshot) -> str:
    """The thread's documented status, as `t3 threads` derives it (`store.queries`)."""
    if snapshot.archived:
        return "archived"
    turn = snapshot.active_turn
    if turn is not None:
        return "starting" if turn.status == "requested" else "running"
    if any(item.status == "failed" for item in snapshot.queue):
        return "blocked"
    return "queued" if snapshot.queue else "idle"


@dataclass(slots=True)
class ThreadRow:
    thread_id: str
    order: int  # when the view first saw the thread: the row's place, for good
    title: str = ""
    provider: str = ""
    status: str = "idle"
    queue_depth: int = 0  # pending, sending and failed items, as `t3 threads` counts them
    turn_id: str | None = None  # the active turn
    turn_item: str | None = None  # its queued item, if it came from the queue
    turn_started: float | None = None  # clock time the active turn started running
    message: str = ""  # the thread's last message as it arrived (user text, or the reply)
    streaming: bool = False  # `message` is the reply of the running turn, growing
    reply: str = ""  # the tail of the reply of `reply_turn`
    reply_turn: str | None = None
    ended_turn: str | None = None  # the last turn whose end the view saw
    outcome: str | None = None  # how it ended: completed, failed, interrupted, timed_out
    error: str | None = None  # its error, if it did not complete
    changed: float = 0.0  # clock time of the last status change


def count_line(counts: collections.Counter[str]) -> str:
    """`3 running, 2 blocked, 13 idle`: non-zero counts, busiest status first."""
    return ", ".join(f"{counts[s]} {s}" for s in STATUS_ORDER if counts[s])


def _tail(text: str, size: int) -> str:
    return text if len(text) <= size else text[-size:]


class LiveState:
    """The view's model; every method is cheap and synchronous (called on the event loop)."""

    def __init__(
        self, *, focus: str | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._rows: dict[str, ThreadRow] = {}
        self._next_order = 0
        self.focus: str | None = focus
        self.pinned = focus is not None  # the user chose the focus: only they move it
        # When the auto focus's turn ended: from then (plus the grace) the next thread to stream
        # takes the focus.
        self._released: float | None = None
        self.notice = ""

    # --- reading ------------------------------------------------------------------------------

    def rows(self) -> list[ThreadRow]:
        """Every row, in the stable order."""
        return sorted(self._rows.values(), key=lambda row: row.order)

    def row(self, thread_id: str) -> ThreadRow | None:
        return self._rows.get(thread_id)

    def counts(self, rows: Iterable[ThreadRow] | None = None) -> collections.Counter[str]:
        chosen = self._rows.values() if rows is None else rows
        return collections.Counter(row.status for row in chosen)

    def visible(self, capacity: int) -> tuple[list[ThreadRow], collections.Counter[str]]:
        """At most `capacity` lines of table: the rows to draw (stable order) and, when some do
        not fit, the hidden ones counted by status (drawn as one summary line, so at most
        `capacity - 1` rows are returned then). The focused row is always among those drawn."""
        rows = self.rows()
        if len(rows) <= capacity:
            return rows, collections.Counter()
        room = max(0, capacity - 1)
        busiest = sorted(
            rows, key=lambda r: (r.thread_id != self.focus, _RANK.get(r.status, 9), r.order)
        )
        shown = sorted(busiest[:room], key=lambda r: r.order)
        return shown, self.counts(busiest[room:])

    # --- updates from the reactor -------------------------------------------------------------

    def _row(self, thread_id: str) -> ThreadRow:
        row = self._rows.get(thread_id)
        if row is None:
            row = ThreadRow(thread_id, self._next_order, changed=self._clock())
            self._next_order += 1
            self._rows[thread_id] = row
            if len(self._rows) > MAX_ROWS:
                self._evict()
        return row

    def _evict(self) -> None:
        idle = [r for r in self._rows.values() if r.status == "idle" and r.thread_id != self.focus]
        candidates = idle or [r for r in self._rows.values() if r.thread_id != self.focus]
        oldest = min(candidates, key=lambda r: r.changed)
        del self._rows[oldest.thread_id]

    def _set_status(self, row: ThreadRow, status: str) -> None:
        if row.status != status:
            row.status = status
            row.changed = self._clock()

    def snapshot(self, snapshot: ThreadSnapshot) -> None:
        """The thread's state as its lane just read it: authoritative for status and queue."""
        row = self._row(snapshot.thread_id)
        row.title = snapshot.title
        row.provider = snapshot.provider
        row.queue_depth = len(snapshot.queue)
        self._set_status(row, thread_status(snapshot))
        turn = snapshot.active_turn
        if turn is None:
            row.turn_started = None
        else:
            row.turn_id, row.turn_item = turn.turn_id, turn.queue_item_id
            if turn.status == "running" and row.turn_started is None:
                row.turn_started = self._clock()

    def event(self, record: EventRecord) -> None:
        """An event of a thread the reactor drives, in log order."""
        kind, p = record.type, record.payload
        if kind == "thread.deleted":
            self._forget(record.stream_id)
            return
        row = self._row(record.stream_id)
        if kind in ("thread.created", "thread.updated"):
            row.title = str(p.get("title") or row.title)
            row.provider = str(p.get("provider") or row.provider)
        elif kind == "thread.message-sent" and p.get("role") == "user":
            row.message, row.streaming = _tail(str(p.get("text", "")), MESSAGE_CHARS), False
        elif kind == "thread.turn-start-requested":
            row.turn_id, row.turn_item = str(p["turn_id"]), p.get("queue_item_id")
            if row.status != "running":
                self._set_status(row, "starting")
        elif kind == "thread.turn-started":
            row.turn_id = str(p["turn_id"])
            if row.turn_started is None:
                row.turn_started = self._clock()
            self._set_status(row, "running")
        elif kind == "thread.turn-completed":
            self._turn_ended(row, str(p["turn_id"]), str(p.get("status")), p.get("error"))
        elif kind == "thread.turn-queued":
            row.queue_depth += 1
            if row.status == "idle":
                self._set_status(row, "queued")
        elif kind in ("thread.queued-turn-resolved", "thread.queued-turn-cancelled"):
            row.queue_depth = max(0, row.queue_depth - 1)
        elif kind == "thread.queued-turn-send-failed":
            self._set_status(row, "blocked")
            if p.get("turn_id") is None or p.get("turn_id") != row.ended_turn:
                self.notice = f"{row.thread_id[:8]} queued turn failed: {p.get('reason')}"
        elif kind == "thread.queued-turn-requeued" and row.status == "blocked":
            self._set_status(row, "queued")
        elif kind == "thread.activity-appended" and p.get("kind") == "warning":
            self.notice = f"{row.thread_id[:8]} {describe(record)}"  # an agent retrying, ...
        elif kind == "thread.archived":
            self._set_status(row, "archived")
        elif kind == "thread.unarchived":
            self._set_status(row, "queued" if row.queue_depth else "idle")

    def _turn_ended(self, row: ThreadRow, turn_id: str, status: str, error: object) -> None:
        row.outcome = status if status in _ENDED else None
        row.error = None if status == "completed" or error is None else str(error)
        row.turn_started = None
        row.streaming = False
        row.ended_turn = turn_id
        # Until the lane's next snapshot: a failed queued turn blocks its thread.
        from_queue = row.turn_item is not None and row.turn_id == turn_id
        if status != "completed" and from_queue:
            self._set_status(row, "blocked")
        else:
            self._set_status(row, "queued" if row.queue_depth > int(from_queue) else "idle")
        row.turn_id = row.turn_item = None
        if status in ("failed", "timed_out"):
            self.notice = f"{row.thread_id[:8]} turn {status.replace('_', ' ')}: {error}"
        elif status == "interrupted":
            said = f": {error}" if error and error != "interrupted" else ""
            self.notice = f"{row.thread_id[:8]} turn interrupted{said}"
        if row.thread_id == self.focus:
            self._release()

    def _release(self) -> None:
        """The focused thread's turn ended: an automatic focus may move on after the grace."""
        if not self.pinned and self._released is None:
            self._released = self._clock()

    def _forget(self, thread_id: str) -> None:
        self._rows.pop(thread_id, None)
        if self.focus == thread_id:
            self.focus, self.pinned, self._released = None, False, None

    def launched(self, thread_id: str, turn_id: str) -> None:
        """The turn's agent was just launched (it was recorded `running` first)."""
        row = self._row(thread_id)
        if row.turn_id != turn_id or row.turn_started is None:
            row.turn_id, row.turn_started = turn_id, self._clock()
        self._set_status(row, "running")

    def text(self, thread_id: str, turn_id: str, text: str) -> None:
        """Assistant text as it streams: appended exactly as it came."""
        row = self._row(thread_id)
        if row.reply_turn != turn_id:
            row.reply_turn, row.reply = turn_id, ""
        row.reply = _tail(row.reply + text, REPLY_CHARS)
        row.message = _tail(row.message + text, MESSAGE_CHARS) if row.streaming else text
        row.streaming = True
        if self.focus == thread_id:
            self._released = None  # its next turn: the focus stays
        elif not self.pinned and (
            self.focus is None
            or (self._released is not None and self._clock() - self._released >= FOCUS_GRACE_S)
        ):
            self.focus, self._released = thread_id, None

    def finished(self, result: TurnResult) -> None:
        """A turn this reactor ran has ended (its end is committed)."""
        row = self._row(result.thread_id)
        if result.reply and row.reply_turn != result.turn_id:
            row.reply_turn, row.reply = result.turn_id, _tail(result.reply, REPLY_CHARS)
        if row.turn_id == result.turn_id or row.turn_id is None:
            row.outcome = result.status
            row.error = result.error if result.status != "completed" else None
        if result.thread_id == self.focus:
            self._release()

    def note(self, message: str) -> None:
        self.notice = message

    # --- the user -----------------------------------------------------------------------------

    def move_focus(self, step: int) -> str | None:
        """Move the focus `step` rows down (negative: up) in the stable order, and keep it there
        until the user moves it again. Returns the focused thread."""
        rows = self.rows()
        if not rows:
            return None
        ids = [r.thread_id for r in rows]
        if self.focus in ids:
            index = max(0, min(len(ids) - 1, ids.index(self.focus) + step))
        else:
            index = 0 if step > 0 else len(ids) - 1
        self.focus, self.pinned, self._released = ids[index], True, None
        return self.focus

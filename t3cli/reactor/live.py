"""The live view of `t3 run` on a terminal: a rich table of the threads the reactor drives, and the
assistant text of one focused thread as it streams.

Columns: thread (id prefix and title), provider, status, queue depth, elapsed time of the running
turn, last message preview. The focused thread is the single `--thread` if one was given, else the
thread that most recently streamed text.

The view is redrawn by `LiveView.run` from the event loop (rich's own refresh thread is off), so
the observer callbacks and the drawing never race. Rows are kept for at most `MAX_ROWS` threads
(the most recently active), so the view's memory does not grow with the threads ever seen.
"""

from __future__ import annotations

import asyncio
import collections
import time
from dataclasses import dataclass

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from t3cli.contracts.events import EventRecord
from t3cli.reactor.observer import NullObserver, TurnResult, describe
from t3cli.store.reactor_queries import ThreadSnapshot

MAX_ROWS = 40
STREAM_CHARS = 2000
PREVIEW_CHARS = 60
REFRESH_S = 0.25


@dataclass(slots=True)
class _Row:
    thread_id: str
    title: str = ""
    provider: str = ""
    status: str = "idle"
    queue_depth: int = 0
    turn_started: float | None = None
    preview: str = ""
    last_outcome: str | None = None  # how the thread's last turn ended


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW_CHARS else "…" + flat[-(PREVIEW_CHARS - 1) :]


def _status(snapshot: ThreadSnapshot, last_outcome: str | None) -> str:
    if snapshot.active_turn is not None:
        return snapshot.active_turn.status
    head = snapshot.head
    if head is not None and head.status == "failed":
        return "blocked (failed)"
    if head is not None:
        return "queued"
    return last_outcome or snapshot.session_status or "idle"


class LiveView(NullObserver):
    def __init__(self, console: Console, *, focus: str | None = None) -> None:
        self._console = console
        self._fixed_focus = focus
        self._focus = focus
        self._rows: collections.OrderedDict[str, _Row] = collections.OrderedDict()
        self._stream = ""
        self._stream_turn: str | None = None
        self._notice = ""

    def _row(self, thread_id: str) -> _Row:
        row = self._rows.get(thread_id)
        if row is None:
            row = _Row(thread_id)
            self._rows[thread_id] = row
            while len(self._rows) > MAX_ROWS:
                self._rows.popitem(last=False)
        self._rows.move_to_end(thread_id)
        return row

    def on_snapshot(self, snapshot: ThreadSnapshot) -> None:
        row = self._row(snapshot.thread_id)
        row.title = snapshot.title
        row.provider = snapshot.provider
        row.queue_depth = snapshot.pending_count
        row.status = _status(snapshot, row.last_outcome)

    def on_event(self, record: EventRecord) -> None:
        row = self._row(record.stream_id)
        p = record.payload
        if record.type == "thread.turn-started":
            row.status = "running"
            row.turn_started = time.monotonic()
        elif record.type == "thread.turn-completed":
            row.status = row.last_outcome = str(p.get("status"))
            row.turn_started = None
        elif record.type == "thread.turn-queued":
            row.queue_depth += 1
        elif record.type == "thread.queued-turn-send-started":
            row.queue_depth = max(0, row.queue_depth - 1)
        elif record.type == "thread.message-sent" and p.get("role") == "user":
            row.preview = _preview(str(p.get("text", "")))
        elif record.type == "thread.queued-turn-send-failed":
            row.status = "blocked (failed)"
        text = describe(record)
        if text is not None and record.type in (
            "thread.queued-turn-send-failed",
            "thread.activity-appended",  # a warning: an agent retrying, a skipped line
        ):
            self._notice = f"{record.stream_id[:8]} {text}"

    def on_text(self, thread_id: str, turn_id: str, text: str) -> None:
        row = self._row(thread_id)
        if self._fixed_focus is None:
            self._focus = thread_id
        if thread_id == self._focus:
            if turn_id != self._stream_turn:
                self._stream_turn = turn_id
                self._stream = ""
            self._stream = (self._stream + text)[-STREAM_CHARS:]
        row.preview = _preview((row.preview + text) if row.status == "running" else text)

    def on_turn_finished(self, result: TurnResult) -> None:
        if result.reply:
            self._row(result.thread_id).preview = _preview(result.reply)

    def on_notice(self, message: str) -> None:
        self._notice = message

    def render(self) -> RenderableType:
        table = Table(expand=True, title="t3 run", title_justify="left")
        table.add_column("thread", no_wrap=True, max_width=36)
        table.add_column("provider", no_wrap=True)
        table.add_column("status", no_wrap=True)
        table.add_column("queue", justify="right")
        table.add_column("elapsed", justify="right")
        table.add_column("last message", overflow="ellipsis", no_wrap=True)
        now = time.monotonic()
        for row in reversed(self._rows.values()):
            elapsed = f"{now - row.turn_started:.1f}s" if row.turn_started is not None else ""
            table.add_row(
                f"{row.thread_id[:8]} {row.title}", row.provider, row.status,
                str(row.queue_depth), elapsed, row.preview,
            )  # fmt: skip
        parts: list[RenderableType] = [table]
        if not self._rows:
            parts.append(Text("waiting for work (t3 queue / t3 send --no-wait)", style="dim"))
        if self._focus is not None and self._stream:
            lines = self._stream.splitlines()[-8:]
            parts.append(Panel(Text("\n".join(lines)), title=f"{self._focus[:8]} streaming"))
        if self._notice:
            parts.append(Text(self._notice, style="yellow"))
        return Group(*parts)

    async def run(self, stop: asyncio.Event) -> None:
        """Redraw every `REFRESH_S` until `stop` is set (then draw once more)."""
        with Live(
            self.render(), console=self._console, auto_refresh=False, redirect_stdout=False,
            redirect_stderr=False,
        ) as live:  # fmt: skip
            while not stop.is_set():
                live.update(self.render(), refresh=True)
                try:
                    await asyncio.wait_for(stop.wait(), REFRESH_S)
                except TimeoutError:
                    pass
            live.update(self.render(), refresh=True)

"""One frame of the live view, drawn from a `LiveState` for a terminal of a given size.

Top to bottom: a title line with the threads counted by status; the table (id, title, provider,
status, queue, elapsed, last message); a summary line for the rows that did not fit
(`+18 more: 3 running, 2 blocked, 13 idle`); a panel with the last lines of the focused thread's
reply, the thread named in its title; the last notice; the key legend (or, while stopping,
what the reactor is waiting for).

Guarantees:
- The frame is never taller than `height` (down to a floor of a few lines): rows that do not fit
  are summarised, never cut off with a bare `...`, and the panel, notice and legend stay.
- Column widths follow `cli.columns` priorities: the id (and focus mark), status, queue depth
  and elapsed time are never cut; the last message gives way first, then the title, then the
  provider. A streaming reply is cut at its start, so its newest words stay visible.
- Every piece of text that came from outside (titles, messages, replies, errors, notices) goes
  through `printable`: no escape sequence from an agent reaches the terminal.
"""

from __future__ import annotations

import collections
from dataclasses import replace

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from t3cli.cli.columns import Column
from t3cli.cli.render import STATUS_STYLE, THREAD_COLUMNS
from t3cli.cli.safe_text import printable
from t3cli.cli.tables import Tail, fitted_table
from t3cli.reactor.live_state import LiveState, ThreadRow, count_line

FOCUS_MARK = "▶"
LEGEND_KEYS = "↑/↓ j/k focus · r retry · c cancel · i interrupt · q quit"
LEGEND_PLAIN = "Ctrl-C stops"
MIN_PANEL_LINES = 3  # reply lines the panel keeps when rows compete for the height
# The columns and priorities of `t3 threads`; the id leaves room for the focus mark, and the
# elapsed time of the running turn replaces the time of the last activity.
COLUMNS = (
    Column("  ID"),
    *THREAD_COLUMNS[1:5],
    Column("ELAPSED", justify="right"),
    replace(THREAD_COLUMNS[6], max_width=None),
)
_OUTCOME_STYLE = {
    "completed": "green", "failed": "red", "timed_out": "red", "interrupted": "yellow",
}  # fmt: skip


def elapsed(seconds: float) -> str:
    """`4.2s`, `1m05s`, `2h03m`: short and of a nearly constant width."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _flat(text: str) -> str:
    return printable(" ".join(text.split()), single_line=True)


def _last_message(row: ThreadRow) -> Text:
    if row.status == "blocked" and row.error:
        outcome = row.outcome or "failed"
        said = row.error if row.error.startswith(outcome) else f"{outcome}: {row.error}"
        return Text(_flat(said), style="red")
    if row.streaming:
        return Tail(_flat(row.message))
    # Not streaming: the message reads from its start, like `t3 threads`.
    flat = _flat(row.message)
    return Text(flat[:200])


def _cells(row: ThreadRow, focus: str | None, now: float) -> list[Text]:
    mark = FOCUS_MARK if row.thread_id == focus else " "
    running = row.turn_started is not None and row.status == "running"
    return [
        Text(f"{mark} {row.thread_id[:8]}", style="bold" if mark != " " else ""),
        Text(_flat(row.title)),
        Text(_flat(row.provider)),
        Text(row.status, style=STATUS_STYLE.get(row.status, "")),
        Text(str(row.queue_depth) if row.queue_depth else ""),
        Text(elapsed(now - row.turn_started) if running and row.turn_started else ""),
        _last_message(row),
    ]


def _panel_title(row: ThreadRow, now: float) -> Text:
    title = Text(f"{FOCUS_MARK} {row.thread_id[:8]} ", style="bold")
    title.append(_flat(row.title))
    if row.status == "running" and row.turn_started is not None:
        title.append(f" · running {elapsed(now - row.turn_started)}", style="green")
    elif row.outcome is not None and not row.streaming:
        title.append(f" · {row.outcome}", style=_OUTCOME_STYLE.get(row.outcome, ""))
    else:
        title.append(f" · {row.status}", style=STATUS_STYLE.get(row.status, ""))
    return title


def _reply_lines(console: Console, row: ThreadRow, width: int) -> list[Text]:
    if not row.reply:
        return [Text("(no reply yet)", style="dim")]
    text = Text(printable(row.reply).expandtabs(4))
    return list(text.wrap(console, max(1, width)))


def frame(
    state: LiveState,
    console: Console,
    width: int,
    height: int,
    *,
    now: float,
    legend: str,
    banner: str | None = None,
) -> RenderableType:
    """The view at `width` x `height` cells (see the module docstring)."""
    rows = state.rows()
    counts = state.counts()
    head = Text("t3 run", style="bold")
    head.append(f" · {len(rows)} thread{'s' if len(rows) != 1 else ''}")
    if rows:
        head.append(f": {count_line(counts)}")
    head.truncate(width, overflow="ellipsis")
    notice = None
    if state.notice:
        notice = Text(printable(state.notice, single_line=True), style="yellow")
    footer = Text(banner, style="bold yellow") if banner else Text(legend, style="dim")
    for line in (notice, footer):
        if line is not None:
            line.truncate(width, overflow="ellipsis")
    parts: list[RenderableType] = [head]
    room = height - 1 - 1 - (1 if notice is not None else 0)  # title, footer, notice
    focused = state.row(state.focus) if state.focus is not None else None
    reply: list[Text] = []
    if focused is not None:
        reply = _reply_lines(console, focused, width - 4)  # panel borders and padding
    if not rows:
        parts.append(Text("waiting for work (t3 queue / t3 send --no-wait)", style="dim"))
    else:
        table_room = room - 1  # the table's header line
        if focused is not None:
            table_room -= 2 + min(MIN_PANEL_LINES, len(reply))
        shown, hidden = state.visible(max(1, table_room))
        cells = [_cells(row, state.focus, now) for row in shown]
        parts.append(fitted_table(COLUMNS, cells, width))
        if hidden:
            total = sum(hidden.values())
            summary = Text(f"  +{total} more: {count_line(hidden)}", style="dim")
            summary.truncate(width, overflow="ellipsis")
            parts.append(summary)
        room -= 1 + len(shown) + (1 if hidden else 0)
    if focused is not None:
        lines = reply[-max(1, room - 2) :]
        parts.append(
            Panel(Text("\n").join(lines), title=_panel_title(focused, now), title_align="left",
                  width=width)
        )  # fmt: skip
    if notice is not None:
        parts.append(notice)
    parts.append(footer)
    return Group(*parts)


def summary(state: LiveState, width: int, *, now: float) -> RenderableType:
    """Every row (no height limit) and the last notice: printed once the view closes, so the
    terminal keeps a record of where each thread was left."""
    rows = state.rows()
    head = Text("t3 run stopped", style="bold")
    head.append(f" · {len(rows)} thread{'s' if len(rows) != 1 else ''}")
    if rows:
        head.append(f": {count_line(collections.Counter(r.status for r in rows))}")
    parts: list[RenderableType] = [head]
    if rows:
        cells = [_cells(row, None, now) for row in rows]
        parts.append(fitted_table(COLUMNS, cells, width))
    if state.notice:
        parts.append(Text(printable(state.notice, single_line=True), style="yellow"))
    return Group(*parts)

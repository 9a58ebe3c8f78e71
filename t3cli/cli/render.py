"""Human output: rich tables on a terminal, plain tab-separated lines everywhere else.

Guarantees:
- When stdout is not a terminal, output is plain text: one record per line, fields separated by
  tabs, no colour, no box drawing, no padding — safe for `cut`, `awk` and `grep`.
- On a terminal, colour follows `Env.color` (off with NO_COLOR or --no-color).
- Text that came from users or agents never reaches the terminal raw: every field goes through
  `printable` (control characters shown as visible escapes); `--json` keeps it exact.
- rich is imported only inside the functions that draw on a terminal, so commands whose output
  is not a table never pay for it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from t3cli.cli.columns import Column
from t3cli.cli.env import Env
from t3cli.cli.safe_text import printable
from t3cli.store.queries import MessageRow, ProjectRow, QueueRow, ThreadRow, TurnRow

if TYPE_CHECKING:
    from rich.console import Console

STATUS_STYLE = {
    "running": "green",
    "starting": "yellow",
    "queued": "cyan",
    "blocked": "red",
    "archived": "dim",
    "idle": "",
}
_ID = 8  # the id prefix tables show: what the user types next, never cut

# `t3 threads`: the id, status, queue depth and last activity are never cut; the preview gives
# way first, then the title, then the provider.
THREAD_COLUMNS = (
    Column("ID"),
    Column("TITLE", give_way=2, min_width=10, max_width=40),
    Column("PROVIDER", give_way=3, min_width=6),
    Column("STATUS"),
    Column("QUEUE", justify="right"),
    Column("ACTIVE"),
    Column("LAST MESSAGE", give_way=1, min_width=12, max_width=60),
)
# `t3 projects`: the path gives way first (it is long, and the id is what commands take).
PROJECT_COLUMNS = (
    Column("ID"),
    Column("TITLE", give_way=2, min_width=10, max_width=40),
    Column("PROVIDER", give_way=3, min_width=6),
    Column("THREADS", justify="right"),
    Column("PATH", give_way=1, min_width=12),
)
# `t3 queue list`: the thread and item ids, position, status and tries are never cut; the
# message gives way first, then the failure reason.
QUEUE_COLUMNS = (
    Column("THREAD"),
    Column("#", justify="right"),
    Column("ITEM"),
    Column("STATUS"),
    Column("TRIES", justify="right"),
    Column("MESSAGE", give_way=1, min_width=12, max_width=60),
    Column("FAILURE", give_way=2, min_width=12, max_width=60),
)


def console(env: Env) -> Console:
    """A rich console on the invocation's stdout that honours `Env.color`."""
    from rich.console import Console

    return Console(
        file=env.stdout,
        force_terminal=env.stdout_isatty,
        no_color=not env.color,
        color_system="auto" if env.color else None,
        highlight=False,
        emoji=False,
    )


def one_line(text: str, width: int) -> str:
    """`text` on one line, cut to `width` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: max(0, width - 1)] + "…"


def ago(iso: str, now: float | None = None) -> str:
    """A short relative time (`12s ago`, `5m ago`, `3h ago`, `2d ago`) for an ISO UTC timestamp."""
    try:
        then = time.mktime(time.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    except ValueError:
        return iso
    seconds = max(0, int((now if now is not None else time.time()) - then))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def plain_rows(env: Env, rows: Sequence[Sequence[object]]) -> None:
    """Rows as tab-separated lines: each field on one line (whitespace runs made one space,
    control characters shown as escapes), None as an empty field."""
    for row in rows:
        fields = ("" if v is None else printable(" ".join(str(v).split())) for v in row)
        env.stdout.write("\t".join(fields) + "\n")


def _table(
    env: Env,
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    styles: Sequence[str] = (),
) -> None:
    """A borderless table whose column widths follow the columns' priorities (`cli.columns`):
    ids, statuses and counts are never cut, however narrow the terminal or long a cell."""
    from rich.text import Text

    from t3cli.cli.tables import fitted_table

    out = console(env)
    # Titles, previews, messages: untrusted text, escaped cell by cell, and never read as rich
    # markup (`[link=...]` would make rich itself emit a terminal escape).
    cells = [[Text(printable(cell, single_line=True)) for cell in row] for row in rows]
    out.print(fitted_table(columns, cells, out.width, row_styles=styles))


def threads(env: Env, rows: Sequence[ThreadRow]) -> None:
    """`t3 threads`: id prefix, title, provider, status, queue depth, last activity, preview."""
    if not env.stdout_isatty:
        plain_rows(
            env,
            [
                (r.thread_id, r.title, r.provider, r.status, r.queue_depth, r.last_activity_at,
                 one_line(r.preview, 120))
                for r in rows
            ],
        )  # fmt: skip
        return
    if not rows:
        env.stdout.write("no threads (`t3 new` creates one; `--all` includes archived)\n")
        return
    _table(
        env,
        THREAD_COLUMNS,
        [
            (r.thread_id[:_ID], one_line(r.title, 80), r.provider, r.status,
             str(r.queue_depth) if r.queue_depth else "", ago(r.last_activity_at),
             one_line(r.preview, 120))
            for r in rows
        ],
        [STATUS_STYLE.get(r.status, "") for r in rows],
    )  # fmt: skip


def projects(env: Env, rows: Sequence[ProjectRow]) -> None:
    """`t3 projects`: id prefix, title, default provider, thread count, path."""
    if not env.stdout_isatty:
        plain_rows(
            env, [(r.project_id, r.title, r.default_provider, r.thread_count, r.path) for r in rows]
        )
        return
    if not rows:
        env.stdout.write("no projects (`t3 project add` or `t3 new` registers one)\n")
        return
    _table(
        env,
        PROJECT_COLUMNS,
        [
            (r.project_id[:_ID], r.title, r.default_provider, str(r.thread_count), r.path)
            for r in rows
        ],
    )


def queue(env: Env, rows: Sequence[QueueRow]) -> None:
    """`t3 queue list`: thread, position, item id, status, attempts, message, failure reason."""
    if not env.stdout_isatty:
        plain_rows(
            env,
            [
                (r.thread_id, r.position, r.queue_item_id, r.status, r.attempts,
                 one_line(r.text, 120), r.failure_reason)
                for r in rows
            ],
        )  # fmt: skip
        return
    if not rows:
        env.stdout.write("the queue is empty\n")
        return
    _table(
        env,
        QUEUE_COLUMNS,
        [
            (r.thread_id[:_ID], str(r.position), r.queue_item_id[:_ID], r.status,
             str(r.attempts), one_line(r.text, 120), one_line(r.failure_reason or "", 120))
            for r in rows
        ],
        ["red" if r.status == "failed" else "" for r in rows],
    )  # fmt: skip


def turn_line(turn: TurnRow) -> str:
    """A turn's outcome on one line: status, duration, tokens, cost, error (show and watch)."""
    parts = [f"turn {turn.turn_id[:8]} {turn.status}"]
    if turn.duration_ms is not None:
        parts.append(f"{turn.duration_ms / 1000:.1f}s")
    if turn.input_tokens is not None or turn.output_tokens is not None:
        parts.append(f"tokens {turn.input_tokens or 0} in / {turn.output_tokens or 0} out")
    if turn.cost_usd:
        parts.append(f"${turn.cost_usd:.4f}")
    if turn.error:
        parts.append(f"error: {one_line(turn.error, 200)}")
    return " · ".join(parts)


def show(
    env: Env,
    thread: ThreadRow,
    messages: Sequence[MessageRow],
    turns: Sequence[TurnRow],
    items: Sequence[QueueRow],
    *,
    warnings: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """`t3 show`: a header, the transcript (each turn's outcome, then its warnings, after its
    messages), the queue."""
    from t3cli.cli.safe_text import printable

    warned = warnings or {}
    color = env.color
    out = console(env) if color else None

    def emit(text: str, style: str = "") -> None:
        text = printable(text)  # the transcript, titles and errors are agents' and users' text
        if out is not None:
            out.print(text, style=style or None, markup=False, soft_wrap=True)
        else:
            env.stdout.write(text + "\n")

    emit(f"{thread.thread_id}  {thread.title}", "bold")
    emit(
        f"provider {thread.provider}{f' ({thread.model})' if thread.model else ''} · status"
        f" {thread.status} · project {thread.project_path or thread.project_id}"
    )
    turns_by_id = {t.turn_id: t for t in turns}
    shown: set[str] = set()
    for message in messages:
        emit("")
        emit(f"{message.role}:", "bold cyan" if message.role == "user" else "bold green")
        emit(message.text + ("" if message.complete else " …"))
        turn = turns_by_id.get(message.turn_id or "")
        if (
            message.role == "assistant"
            and turn is not None
            and turn.status not in ("requested", "running")
        ):
            emit(turn_line(turn), "dim")
            for warning in warned.get(turn.turn_id, ()):
                emit(f"  warning: {printable(one_line(warning, 200))}", "yellow")
            shown.add(turn.turn_id)
    pending = [t for t in turns if t.turn_id not in shown]
    if pending:
        emit("")
        for turn in pending:
            emit(turn_line(turn), "red" if turn.status in ("failed", "timed_out") else "dim")
            for warning in warned.get(turn.turn_id, ()):
                emit(f"  warning: {printable(one_line(warning, 200))}", "yellow")
    if items:
        emit("")
        emit("queue:", "bold")
        for item in items:
            reason = f" — {item.failure_reason}" if item.failure_reason else ""
            emit(
                f"  {item.position}. {item.queue_item_id[:8]} {item.status}: "
                f"{one_line(item.text, 70)}{reason}",
                "red" if item.status == "failed" else "",
            )

"""`t3 watch THREAD`: follow one thread from another pane, whoever drives it.

It prints the last messages of the transcript (`--tail N`, default 10) and what is queued, then
everything that happens to the thread as the log records it: messages as they are sent, the
reply as the driving reactor persists it (coalesced, so in bursts of up to ~250 ms), turn starts
and ends, activities, queue changes. It reads only the log, the projections and the leases, so it
follows a thread driven by `t3 run`, by `t3 send`, or by another reactor, and runs nothing itself.

It exits once the thread is idle — no active turn, nothing being sent, no pending item at the head
of its queue (a failed head waits for the user) — unless `--follow`. Exit codes (README):
0 idle, and every turn that ended while watching completed; 3 idle but blocked: a failed queued
turn holds the queue (nothing more runs until `t3 retry` or `t3 queue cancel`); 4 no such thread,
or it was deleted while watching; 5 a turn that ended while watching failed, timed out or was
interrupted; 130 Ctrl-C.
"""

from typing import TYPE_CHECKING, Annotated

import typer

from t3cli.cli.app import current_env
from t3cli.cli.params import ThreadArg
from t3cli.errors import ExitCode

if TYPE_CHECKING:
    import sqlite3

    from t3cli.cli.env import Env
    from t3cli.cli.watch_view import EndStatus, WatchView
    from t3cli.contracts.events import EventRecord
    from t3cli.reactor.follow import ThreadTail
    from t3cli.store.reactor_queries import ThreadSnapshot

POLL_S = 0.1
DRIVER_GRACE_S = 2.0  # a reactor just started needs a moment to take the thread's lease


def watch(
    thread: ThreadArg,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep watching after the thread goes idle.")
    ] = False,
    tail: Annotated[
        int,
        typer.Option(
            "--tail", "-n", min=0, metavar="N", help="Show the last N messages first."
        ),
    ] = 10,
    json: Annotated[bool, typer.Option("--json", help="JSON lines, one per change.")] = False,
) -> int:
    """Follow a thread: its last messages, then the reply as it streams, until it is idle."""
    from t3cli.cli.refs import resolve_thread
    from t3cli.cli.watch_view import WatchView

    env = current_env()
    conn = env.connect()
    ref = resolve_thread(conn, thread)
    view = WatchView(env.stdout, ref.thread_id, json=json, color=env.color)
    reader = None
    try:
        reader = _start(conn, ref.thread_id, view, tail)
        return _follow(env, conn, reader, view, until_idle=not follow)
    except KeyboardInterrupt:
        return _end(env, view, reader, "interrupted", None)


def _follow(
    env: "Env", conn: "sqlite3.Connection", reader: "ThreadTail", view: "WatchView", *,
    until_idle: bool,
) -> int:  # fmt: skip
    """Render the thread's new events every `POLL_S` until it is idle (or deleted)."""
    import time

    from t3cli.store import reactor_queries as rq

    def render(events: "list[EventRecord]") -> bool:
        for event in events:
            view.event(event)
        view.flush()
        return any(event.type == "thread.deleted" for event in events)

    thread_id = reader.thread_id
    driver_checked = time.monotonic()
    noted = False
    while True:
        events = reader.read(conn)
        if render(events):
            return _end(env, view, reader, "deleted", None)
        if events:
            continue  # drain what is there before deciding anything
        snapshot = rq.thread_snapshot(conn, thread_id)
        # The snapshot is the state the log up to the cursor leads to only if no event landed
        # between the read above and the snapshot: render any first, then decide afresh.
        late = reader.read(conn)
        if late:
            if render(late):
                return _end(env, view, reader, "deleted", None)
            continue
        if snapshot is None or snapshot.deleted:
            return _end(env, view, reader, "deleted", snapshot)
        if until_idle and _idle(snapshot):
            blocked = snapshot.head is not None and snapshot.head.status == "failed"
            return _end(env, view, reader, "blocked" if blocked else "idle", snapshot)
        now = time.monotonic()
        if not noted and not _idle(snapshot) and now - driver_checked >= DRIVER_GRACE_S:
            driver_checked = now
            if not reader.driven(conn):
                noted = True
                env.stderr.write(
                    f"note: no reactor is driving thread {thread_id[:8]}; its work waits for"
                    f" `t3 run` (or `t3 run --thread {thread_id[:8]}`)\n"
                )
                env.stderr.flush()
        time.sleep(POLL_S)


def _start(
    conn: "sqlite3.Connection", thread_id: str, view: "WatchView", tail: int
) -> "ThreadTail":
    """Render the starting state, read in one snapshot with the log head watching starts from
    (so nothing is shown twice or missed), and return the reader positioned at that head."""
    from t3cli.reactor.follow import ThreadTail
    from t3cli.store import queries

    conn.execute("BEGIN")
    try:
        head = queries.log_head(conn)
        messages = queries.thread_messages(conn, thread_id, last=tail)
        active = [(t.turn_id, t.status) for t in queries.thread_turns(conn, thread_id)
                  if t.status in ("requested", "running")]  # fmt: skip
        queue = queries.queue_items(conn, thread_id)
    finally:
        conn.execute("COMMIT")
    view.snapshot(messages, active[0] if active else None, queue)
    view.flush()
    return ThreadTail(thread_id, head)


def _idle(snapshot: "ThreadSnapshot") -> bool:
    """No turn in flight, nothing being sent, and no pending item at the head (as `t3 run
    --until-idle` counts it: a failed head waits for the user)."""
    head = snapshot.head
    return (
        snapshot.active_turn is None
        and snapshot.sending is None
        and (head is None or head.status != "pending")
    )


def _end(
    env: "Env",
    view: "WatchView",
    reader: "ThreadTail | None",
    status: "EndStatus",
    snapshot: "ThreadSnapshot | None",
) -> int:
    """Finish the output and say why watching ended: the exit code of the module docstring,
    with `error:` and `hint:` on stderr for every code but 0 and 130."""
    from t3cli.cli.safe_text import printable
    from t3cli.contracts.ids import utc_now

    short = view.thread_id[:8]
    if status == "interrupted":
        code, error, hint = ExitCode.INTERRUPTED, None, None
    elif status == "deleted":
        code, error = ExitCode.NOT_FOUND, f"thread {short} was deleted"
        hint = f"its events stay in the log: `t3 events --thread {view.thread_id}`"
    elif view.failed_turns:
        turn_id, turn_status, reason = view.failed_turns[-1]
        code = ExitCode.PROVIDER_FAILURE
        error = f"turn {turn_id[:8]} {turn_status}" + (f": {reason}" if reason else "")
        if len(view.failed_turns) > 1:
            error += f" ({len(view.failed_turns)} turns did not complete)"
        hint = (
            f"`t3 show {short}` has the transcript; `t3 retry {short}` sends a failed queued"
            " turn again"
        )
    elif status == "blocked" and snapshot is not None and snapshot.head is not None:
        code = ExitCode.REJECTED
        error = (
            f"thread {short} is blocked: queued turn {snapshot.head.queue_item_id[:8]} failed"
            + (f" ({snapshot.head.failure_reason})" if snapshot.head.failure_reason else "")
        )
        hint = f"`t3 retry {short}` sends it again; `t3 queue cancel {short} 1` drops it"
    else:
        code, error, hint = ExitCode.OK, None, None
    view.end(status, int(code), reader.cursor if reader else None, utc_now())
    if error is not None:
        env.stderr.write(f"error: {printable(error, single_line=True)}\nhint: {hint}\n")
    return int(code)


def register(app: typer.Typer) -> None:
    app.command("watch")(watch)

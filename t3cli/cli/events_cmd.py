"""`t3 events` (read the log) and `t3 replay` (rebuild the projections, or check them).

`t3 events` prints events in sequence order, never skipping one: it reads in pages up to the head
it saw, then (with `--follow`) polls the head every ~100 ms for more until Ctrl-C (exit 130).
Events of a type this t3cli does not know (written by a newer version) are printed as stored,
never fatal, and counted on stderr at the end.
"""

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from t3cli.cli.app import current_env
from t3cli.cli.completion import EVENT_TYPE
from t3cli.cli.env import Env
from t3cli.cli.params import MAX_INT, JsonOption
from t3cli.errors import ExitCode

if TYPE_CHECKING:
    from t3cli.contracts.events import EventRecord

PAGE = 1000
FOLLOW_POLL_S = 0.1
_ID_LENGTH = 32


def _line(event: "EventRecord") -> str:
    import json

    payload = json.dumps(event.payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return (
        f"{event.sequence}\t{event.occurred_at}\t{event.type}\t{event.stream_id}\t{event.actor}"
        f"\t{payload}"
    )


def _stream_id(env: Env, thread: str | None) -> str | None:
    if thread is None:
        return None
    # A full id filters on that stream even if the thread is deleted (or is a project's).
    if len(thread) == _ID_LENGTH and all(ch in "0123456789abcdef" for ch in thread):
        return thread
    from t3cli.cli.refs import resolve_thread

    return resolve_thread(env.connect(), thread).thread_id


def events(
    since: Annotated[
        int,
        typer.Option("--since", metavar="SEQ", min=0, max=MAX_INT, help="Only events after SEQ."),
    ] = 0,
    thread: Annotated[
        str | None, typer.Option("--thread", metavar="THREAD", help="Only this thread's events.")
    ] = None,
    type_glob: Annotated[
        str | None,
        typer.Option(
            "--type", metavar="GLOB", click_type=EVENT_TYPE,
            help="Only types matching GLOB, e.g. 'thread.turn-*'.",
        ),
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new events.")
    ] = False,
    json: Annotated[bool, typer.Option("--json", help="JSON lines, one event per line.")] = False,
) -> int:
    """Print the event log (JSON lines with --json)."""
    import json as jsonlib

    from t3cli.store import queries

    env = current_env()
    conn = env.connect()
    stream_id = _stream_id(env, thread)
    cursor = since
    unknown = 0
    try:
        while True:
            head = queries.log_head(conn)
            while cursor < head:
                page = queries.read_events(
                    conn, cursor, limit=PAGE, until=head, stream_id=stream_id, type_glob=type_glob
                )
                for event in page:
                    if json:
                        env.stdout.write(
                            jsonlib.dumps(event.to_json_dict(), ensure_ascii=False) + "\n"
                        )
                    else:
                        env.stdout.write(_line(event) + "\n")
                    unknown += not event.known
                # A short page means nothing more matches up to `head`.
                cursor = page[-1].sequence if len(page) == PAGE else head
            env.stdout.flush()
            if not follow:
                break
            while queries.log_head(conn) <= cursor:
                time.sleep(FOLLOW_POLL_S)
    except KeyboardInterrupt:
        return int(ExitCode.INTERRUPTED)
    finally:
        if unknown:
            env.stderr.write(
                f"note: {unknown} event(s) of types this t3cli does not know (written by a newer"
                " version) were printed as stored\n"
            )
    return int(ExitCode.OK)


def _progress(env: Env, description: str) -> tuple[Callable[[int, int], None] | None, Any]:
    """A rich progress bar on stderr when it is a terminal; (None, None) otherwise."""
    try:
        on_terminal = env.stderr.isatty()
    except (AttributeError, ValueError):
        on_terminal = False
    if not on_terminal:
        return None, None
    from rich.console import Console
    from rich.progress import Progress

    bar = Progress(console=Console(file=env.stderr, no_color=not env.color), transient=True)
    task = bar.add_task(description, total=None)
    bar.start()

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return update, bar


def replay(
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Rebuild into a scratch copy and compare; exit 1 on any difference."
        ),
    ] = False,
    json: JsonOption = False,
) -> int:
    """Rebuild every projection from the log (with --check: prove they match a rebuild)."""
    from t3cli.store import replay as store_replay

    env = current_env()
    conn = env.connect()
    update, bar = _progress(env, "checking" if check else "replaying")
    try:
        if check:
            report = store_replay.check(conn, progress=update)
        else:
            replayed = store_replay.rebuild(conn, progress=update)
    finally:
        if bar is not None:
            bar.stop()
    if not check:
        if json:
            env.print_json({"events_replayed": replayed})
        else:
            env.stdout.write(f"rebuilt the projections from {replayed} events\n")
        return int(ExitCode.OK)
    if json:
        env.print_json(
            {
                "ok": report.ok,
                "head": report.head,
                "tables": report.tables,
                "difference_count": report.difference_count,
                "differences": [
                    {"table": d.table, "key": d.key, "live": d.live, "rebuilt": d.rebuilt,
                     "description": d.describe()}
                    for d in report.differences
                ],
            }
        )  # fmt: skip
    else:
        for difference in report.differences:
            env.stdout.write(difference.describe() + "\n")
        if report.difference_count > len(report.differences):
            env.stdout.write(f"... and {report.difference_count - len(report.differences)} more\n")
        rows = sum(report.tables.values())
        verdict = "match" if report.ok else f"differ in {report.difference_count} row(s)"
        env.stderr.write(
            f"projections {verdict} a rebuild from {report.head} events ({rows} rows compared)\n"
        )
    return int(ExitCode.OK if report.ok else ExitCode.ERROR)


def register(app: typer.Typer) -> None:
    app.command("events")(events)
    app.command("replay")(replay)

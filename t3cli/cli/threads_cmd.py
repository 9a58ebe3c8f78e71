"""Thread commands: `t3 new`, `t3 threads`, `t3 show`, `t3 rename`, `t3 archive`, `t3 unarchive`,
`t3 rm`.

`t3 new` creates the thread and queues its first message in one transaction (so a crash cannot
leave a thread without the message the user gave it), after checking the message — an empty or
oversized message creates nothing.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from t3cli.cli.app import current_env
from t3cli.cli.completion import DIRECTORY, PROVIDER, STATUS
from t3cli.cli.params import MAX_INT, CommandIdOption, JsonOption, QuietOption, ThreadArg

if TYPE_CHECKING:
    from collections.abc import Callable

    from t3cli.contracts.commands import Command


def new(  # noqa: PLR0917 - typer maps each parameter to an argument or option
    message: Annotated[
        str | None, typer.Argument(metavar="[MESSAGE|-]", help="First message; `-` reads stdin.")
    ] = None,
    project: Annotated[
        str | None,
        typer.Option(
            "--project", metavar="PATH", click_type=DIRECTORY,
            help="Project directory (default: here).",
        ),
    ] = None,
    provider: Annotated[
        str | None, typer.Option("--provider", click_type=PROVIDER, help="Agent provider.")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="Model name for the provider.")
    ] = None,
    title: Annotated[
        str | None, typer.Option("--title", help="Default: the message's first line.")
    ] = None,
    command_id: CommandIdOption = None,
    json: JsonOption = False,
) -> None:
    """Create a thread (registering the project on first use); with a MESSAGE, queue it."""
    from t3cli.cli.messages import read_message, title_from_message
    from t3cli.cli.projects_cmd import ensure_project, project_path
    from t3cli.cli.writes import (
        check_command_id,
        check_provider,
        child_id,
        fingerprint,
        note_replayed,
    )
    from t3cli.cli.writes import command_id as make_command_id
    from t3cli.contracts import commands as c
    from t3cli.domain.rejections import CommandRejected
    from t3cli.store import queries

    env = current_env()
    cid = make_command_id(command_id)
    text = None
    if message is not None:
        text = read_message(env, message, max_chars=env.config.max_message_chars)
    path = project_path(project or ".")
    if provider is not None:
        check_provider(env, provider)  # before registering the project: a refusal leaves nothing
    row, _ = ensure_project(env, path)
    check_command_id(env, cid, c.ThreadCreate.TYPE)
    thread_id = child_id("thread", cid)
    fallback = Path(path).name or path
    commands: list[c.Command] = [
        c.ThreadCreate(
            command_id=cid,
            thread_id=thread_id,
            project_id=row.project_id,
            provider=check_provider(env, provider or row.default_provider),
            title=title or (title_from_message(text, fallback) if text else fallback),
            model=model,
        )
    ]
    queue_item_id = None
    if text is not None:
        queue_item_id = child_id("queue-item", cid)
        commands.append(
            c.TurnQueue(
                command_id=child_id("thread.turn.queue", cid),
                thread_id=thread_id,
                queue_item_id=queue_item_id,
                message_id=child_id("message", cid),
                text=text,
            )
        )
    prints = None
    if command_id is not None:
        bound_to = fingerprint(
            c.ThreadCreate.TYPE, project=path, provider=provider, model=model, title=title,
            text=text,
        )  # fmt: skip
        prints = {command.command_id: bound_to for command in commands}
    # All or nothing: the message must never be queued to a thread this command did not create.
    outcomes = env.engine().dispatch_many(commands, fingerprints=prints, all_or_nothing=True)
    for outcome in outcomes:
        if isinstance(outcome, CommandRejected):
            raise outcome
    if any(not isinstance(o, CommandRejected) and o.duplicate for o in outcomes):
        note_replayed(env, cid)
    if not json:
        env.stdout.write(thread_id + "\n")
        return
    from t3cli.cli.output import thread_json
    from t3cli.store.barrier import ensure_projected

    conn = env.connect()
    ensure_projected(conn)
    created = queries.get_thread(conn, thread_id)
    assert created is not None
    last = outcomes[-1]
    assert not isinstance(last, CommandRejected)
    env.print_json(
        {
            "thread_id": thread_id,
            **thread_json(created),
            "queue_item_id": queue_item_id,
            "command_id": cid,
            "sequence": last.sequence,
        }
    )


def threads(  # noqa: PLR0917 - typer maps each parameter to an option
    all_: Annotated[bool, typer.Option("--all", help="Include archived threads.")] = False,
    project: Annotated[
        str | None,
        typer.Option(
            "--project", metavar="PROJECT", click_type=DIRECTORY,
            help="Only this project (path, id or title).",
        ),
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status", click_type=STATUS,
            help="Only this status: idle, starting, running, queued, blocked, archived.",
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=MAX_INT - 1, help="At most N threads.")
    ] = 50,
    before: Annotated[
        int | None,
        typer.Option(
            "--before",
            metavar="CURSOR",
            min=0,
            max=MAX_INT,
            help="Next page: the cursor printed on stderr.",
        ),
    ] = None,
    json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """List threads, most recently active first."""
    from t3cli.cli import quiet as quiet_output
    from t3cli.cli import render
    from t3cli.cli.output import thread_json
    from t3cli.cli.refs import resolve_project
    from t3cli.errors import UsageError
    from t3cli.store import queries
    from t3cli.store.barrier import ensure_projected
    from t3cli.store.queries import THREAD_STATUSES

    env = current_env()
    quiet_output.check(json, quiet)
    if status is not None and status not in THREAD_STATUSES:
        raise UsageError(f"unknown status {status!r}", hint=f"one of: {', '.join(THREAD_STATUSES)}")
    conn = env.connect()
    project_id = None
    if project is not None:
        project_id = resolve_project(conn, project).project_id
    ensure_projected(conn)
    rows = queries.list_threads(
        conn, include_archived=all_, project_id=project_id, status=status, limit=limit + 1,
        before=before,
    )  # fmt: skip
    more = len(rows) > limit
    rows = rows[:limit]
    if json:
        env.print_json([thread_json(row) for row in rows])
    elif quiet:
        quiet_output.print_ids(env, [row.thread_id for row in rows])
    else:
        render.threads(env, rows)
    if more:
        from t3cli.cli.pagination import next_page_command

        cursor = rows[-1].last_activity_sequence
        env.stderr.write(f"more: {next_page_command('--before', cursor)}\n")


def show(thread: ThreadArg, json: JsonOption = False) -> None:
    """Show a thread: transcript, turns (status, usage, duration) and queued items."""
    from t3cli.cli import render
    from t3cli.cli.output import show_json
    from t3cli.cli.refs import resolve_thread
    from t3cli.store import queries
    from t3cli.store.barrier import ensure_projected

    env = current_env()
    conn = env.connect()
    ref = resolve_thread(conn, thread)
    ensure_projected(conn)
    row = queries.get_thread(conn, ref.thread_id)
    assert row is not None
    messages = queries.thread_messages(conn, ref.thread_id)
    turns = queries.thread_turns(conn, ref.thread_id)
    items = queries.queue_items(conn, ref.thread_id)
    from t3cli.store.turn_warnings import turn_warnings

    warnings = turn_warnings(conn, ref.thread_id)
    if json:
        env.print_json(show_json(row, messages, turns, items, warnings=warnings))
    else:
        render.show(env, row, messages, turns, items, warnings=warnings)


def _thread_write(
    thread: str,
    command_id: str | None,
    json: bool,
    verb: str,
    make: "Callable[[str, str], Command]",
    *,
    new_title: str | None = None,
    **arguments: object,
) -> None:
    """The thread-only writes (rename, archive, unarchive, rm): dispatch `make(command id,
    thread id)` and report `verb` with the thread's (new) title. `arguments` bind the command
    id (see `dispatch_on_thread`)."""
    from t3cli.cli.writes import dispatch_on_thread, report

    env = current_env()
    ref, cid, result = dispatch_on_thread(
        env, thread, command_id, lambda cid, ref: make(cid, ref.thread_id), **arguments
    )
    title = ref.title if new_title is None else new_title
    done = f"{verb} thread {ref.thread_id[:8]} ({title})"
    report(env, json, ref.thread_id, cid, result.sequence, data=ref.thread_id, done=done)


def rename(
    thread: ThreadArg,
    title: Annotated[str, typer.Argument(help="The new title.")],
    command_id: CommandIdOption = None,
    json: JsonOption = False,
) -> None:
    """Change a thread's title."""
    from t3cli.contracts.commands import ThreadUpdate

    _thread_write(
        thread, command_id, json, "renamed",
        lambda cid, tid: ThreadUpdate(command_id=cid, thread_id=tid, title=title),
        new_title=title, title=title,
    )  # fmt: skip


def archive(
    thread: ThreadArg, command_id: CommandIdOption = None, json: JsonOption = False
) -> None:
    """Archive a thread: hidden from `t3 threads`, read-only until unarchived."""
    from t3cli.contracts.commands import ThreadArchive

    _thread_write(
        thread, command_id, json, "archived",
        lambda cid, tid: ThreadArchive(command_id=cid, thread_id=tid),
    )  # fmt: skip


def unarchive(
    thread: ThreadArg, command_id: CommandIdOption = None, json: JsonOption = False
) -> None:
    """Bring an archived thread back."""
    from t3cli.contracts.commands import ThreadUnarchive

    _thread_write(
        thread, command_id, json, "unarchived",
        lambda cid, tid: ThreadUnarchive(command_id=cid, thread_id=tid),
    )  # fmt: skip


def rm(
    thread: ThreadArg,
    force: Annotated[
        bool, typer.Option("--force", help="Also drop its pending or failed queued turns.")
    ] = False,
    command_id: CommandIdOption = None,
    json: JsonOption = False,
) -> None:
    """Delete a thread (its history stays in the event log)."""
    from t3cli.contracts.commands import ThreadDelete

    _thread_write(
        thread, command_id, json, "deleted",
        lambda cid, tid: ThreadDelete(command_id=cid, thread_id=tid, force=force),
        force=force,
    )  # fmt: skip


def register(app: typer.Typer) -> None:
    app.command("new")(new)
    app.command("threads")(threads)
    app.command("show")(show)
    app.command("rename")(rename)
    app.command("archive")(archive)
    app.command("unarchive")(unarchive)
    app.command("rm")(rm)

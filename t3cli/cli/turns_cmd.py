"""Turn commands: `t3 send` (start a turn now), `t3 retry`, `t3 interrupt`, `t3 stop`.

`t3 send` records the turn start and then, unless `--no-wait`, runs the embedded reactor until the
turn ends and prints the reply. A busy thread is rejected (exit 3) with a hint to queue, unless
`--queue-if-busy`, which queues the message instead.
"""

from typing import TYPE_CHECKING, Annotated

import typer

from t3cli.cli.app import current_env
from t3cli.cli.completion import DIRECTORY, THREAD
from t3cli.cli.params import CommandIdOption, JsonOption, MessageArg, ThreadArg
from t3cli.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from t3cli.store.queries import ThreadRef


def send(  # noqa: PLR0917 - typer maps each parameter to an argument or option
    thread: ThreadArg,
    message: MessageArg,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="Record the turn and exit; `t3 run` runs it.")
    ] = False,
    queue_if_busy: Annotated[
        bool, typer.Option("--queue-if-busy", help="Queue the message if the thread is busy.")
    ] = False,
    command_id: CommandIdOption = None,
    json: JsonOption = False,
) -> int:
    """Start a turn now and print the reply (a busy thread is rejected: use `t3 queue`)."""
    from t3cli.cli.messages import read_message
    from t3cli.cli.writes import check_provider, child_id, dispatch_on_thread, report
    from t3cli.contracts.commands import TurnStart
    from t3cli.store.queries import thread_provider

    env = current_env()
    text = read_message(env, message, max_chars=env.config.max_message_chars)

    def make(cid: str, ref: "ThreadRef") -> TurnStart:
        # Before anything is recorded: a turn on a provider whose table is wrong could only fail
        # (and block the queue); refuse it now, naming the key.
        provider = thread_provider(env.connect(), ref.thread_id)
        if provider is not None:
            check_provider(env, provider)
        return TurnStart(
            command_id=cid, thread_id=ref.thread_id, turn_id=child_id("turn", cid),
            message_id=child_id("message", cid), text=text,
            when_busy="queue" if queue_if_busy else "reject",
            queue_item_id=child_id("queue-item", cid) if queue_if_busy else None,
        )  # fmt: skip

    ref, cid, result = dispatch_on_thread(
        env, thread, command_id, make, text=text, queue_if_busy=queue_if_busy
    )
    if result.first("thread.turn-start-requested") is not None:
        turn_id, queue_item_id = child_id("turn", cid), None
    else:  # the thread was busy and the message was queued (--queue-if-busy)
        turn_id, queue_item_id = None, child_id("queue-item", cid)
    if not no_wait:
        from t3cli.reactor.embedded import send_and_wait

        code = send_and_wait(
            env, ref.thread_id, turn_id=turn_id, queue_item_id=queue_item_id, json_mode=json
        )
        return int(code)
    report(
        env, json, ref.thread_id, cid, result.sequence, data=f"{turn_id or queue_item_id}",
        turn_id=turn_id, queue_item_id=queue_item_id,
    )  # fmt: skip
    if not json and queue_item_id is not None:
        env.stderr.write(f"note: thread {ref.thread_id[:8]} is busy; the message was queued\n")
    return int(ExitCode.OK)


def retry(  # noqa: PLR0917 - typer maps each parameter to an argument or option
    thread: Annotated[
        str | None,
        typer.Argument(
            metavar="[THREAD]", click_type=THREAD,
            help="Id, unique id prefix, exact title, or @last (not with --all).",
        ),
    ] = None,
    item: Annotated[
        str | None,
        typer.Argument(metavar="[ITEM]", help="Position or id prefix (default: the failed head)."),
    ] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Retry every blocked thread (or --project's).")
    ] = False,
    project: Annotated[
        str | None,
        typer.Option(
            "--project", metavar="PROJECT", click_type=DIRECTORY,
            help="With --all: only this project's threads (path, id or title).",
        ),
    ] = None,
    command_id: CommandIdOption = None,
    json: JsonOption = False,
) -> None:
    """Retry a failed queued turn (default: the failed item blocking the thread's queue), or with
    --all the failed head of every blocked thread."""
    from t3cli.cli.refs import resolve_item_id
    from t3cli.cli.writes import dispatch_on_thread, item_of, report
    from t3cli.contracts.commands import QueuedTurnRetry

    env = current_env()
    if all_ or project is not None:
        _retry_all(thread, item, all_, project, command_id, json)
        return
    if thread is None:
        raise UsageError(
            "give a THREAD, or --all for every blocked thread",
            hint="`t3 threads --status blocked` lists the blocked threads",
        )

    def make(cid: str, ref: "ThreadRef") -> QueuedTurnRetry:
        # Without ITEM the decider picks the failed head under the write lock; its "nothing to
        # retry" is then a recorded rejection, so a retried --command-id gets the same answer.
        qid = resolve_item_id(env.connect(), ref, item, command_id) if item is not None else None
        return QueuedTurnRetry(command_id=cid, thread_id=ref.thread_id, queue_item_id=qid)

    ref, cid, result = dispatch_on_thread(
        env, thread, command_id, make, item=item.strip().lower() if item is not None else None
    )
    queue_item_id = item_of(result)
    report(
        env, json, ref.thread_id, cid, result.sequence, data=queue_item_id,
        done=f"requeued item {queue_item_id[:8]} of thread {ref.thread_id[:8]}",
        queue_item_id=queue_item_id,
    )  # fmt: skip


def _retry_all(  # noqa: PLR0917 - the options of `t3 retry`, checked together
    thread: str | None,
    item: str | None,
    all_: bool,
    project: str | None,
    command_id: str | None,
    json: bool,
) -> None:
    """`t3 retry --all [--project P]`: one retry per blocked thread (see `t3cli.cli.bulk`)."""
    from t3cli.cli import bulk
    from t3cli.cli.refs import resolve_project
    from t3cli.contracts.commands import QueuedTurnRetry
    from t3cli.store import queries
    from t3cli.store.queries import ThreadRef

    if not all_:
        raise UsageError("--project goes with --all", hint="`t3 retry --all --project P`")
    if thread is not None or item is not None:
        raise UsageError(
            "--all retries every blocked thread: give no THREAD or ITEM with it",
            hint="`t3 retry THREAD [ITEM]` retries one",
        )
    env = current_env()
    conn = env.connect()
    project_id = resolve_project(conn, project).project_id if project is not None else None

    def retry_command(cid: str, thread_id: str) -> QueuedTurnRetry:
        # No item: the decider retries the failed head it finds under the write lock.
        return QueuedTurnRetry(command_id=cid, thread_id=thread_id)

    action: bulk.BulkAction[ThreadRef] = bulk.BulkAction(
        kind="retry-all",
        make=lambda cid, ref: retry_command(cid, ref.thread_id),
        thread_of=lambda ref: ref.thread_id,
        remake=retry_command,
    )
    result = bulk.run(env, action, command_id, lambda: queries.blocked_threads(conn, project_id))
    if not result.items and not json:
        scope = f" in project {project}" if project is not None else ""
        env.stderr.write(f"note: no blocked thread{scope}; nothing to retry\n")
    bulk.report(env, json, result, verb="requeued", thread_id=None)


def interrupt(
    thread: ThreadArg, command_id: CommandIdOption = None, json: JsonOption = False
) -> None:
    """Ask the thread's running turn to stop (the reactor interrupts the agent)."""
    from t3cli.cli.writes import dispatch_on_thread, report
    from t3cli.contracts.commands import TurnInterrupt

    env = current_env()
    ref, cid, result = dispatch_on_thread(
        env, thread, command_id,
        lambda cid, ref: TurnInterrupt(command_id=cid, thread_id=ref.thread_id),
    )  # fmt: skip
    event = result.first("thread.turn-interrupt-requested")
    turn_id = str(event.payload["turn_id"]) if event else None
    report(
        env, json, ref.thread_id, cid, result.sequence, data=str(turn_id),
        done=f"interrupt requested for turn {str(turn_id)[:8]} of thread {ref.thread_id[:8]}",
        turn_id=turn_id,
    )  # fmt: skip


def stop(thread: ThreadArg, command_id: CommandIdOption = None, json: JsonOption = False) -> None:
    """Ask the reactor to stop the thread's agent session."""
    from t3cli.cli.writes import dispatch_on_thread, report
    from t3cli.contracts.commands import SessionStop

    env = current_env()
    ref, cid, result = dispatch_on_thread(
        env, thread, command_id,
        lambda cid, ref: SessionStop(command_id=cid, thread_id=ref.thread_id),
    )  # fmt: skip
    done = f"stop requested for thread {ref.thread_id[:8]}"
    report(env, json, ref.thread_id, cid, result.sequence, data=ref.thread_id, done=done)


def register(app: typer.Typer) -> None:
    app.command("send")(send)
    app.command("retry")(retry)
    app.command("interrupt")(interrupt)
    app.command("stop")(stop)

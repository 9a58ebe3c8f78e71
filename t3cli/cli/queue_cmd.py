"""`t3 queue THREAD MESSAGE|-` and `t3 queue list|cancel|move`: the per-thread FIFO of turns.

`queue` is both a command and a group: when its first argument is not a subcommand name, the
arguments go to the default subcommand `add`, so `t3 queue 7f3a "msg"` and `t3 queue list` both
work (`t3 queue add THREAD MESSAGE` is the explicit spelling; a thread titled "list" is addressed
by its id).

This is the hot path scripts and TAB completion run most: importing this module pulls in typer
and the CLI's own small modules only; the engine is imported when a command runs.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import click
import typer
from click.shell_completion import CompletionItem
from typer.core import TyperGroup

from t3cli.cli.app import current_env
from t3cli.cli.params import (
    MAX_INT,
    CommandIdOption,
    ItemArg,
    JsonOption,
    MessageArg,
    QuietOption,
    ThreadArg,
)

if TYPE_CHECKING:
    from t3cli.contracts.commands import Command
    from t3cli.engine import DispatchResult

DEFAULT_SUBCOMMAND = "add"


class QueueGroup(TyperGroup):
    """A group whose arguments fall back to the `add` subcommand when they do not start with a
    subcommand name (or `--help`)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = [DEFAULT_SUBCOMMAND, *args]
        return super().parse_args(ctx, args)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        # `t3 queue <TAB>`: the first word is a subcommand *or* a THREAD (the implicit `add`).
        items = super().shell_complete(ctx, incomplete)
        if not incomplete.startswith("-"):
            from t3cli.cli.completion import thread_candidates

            items += thread_candidates(incomplete)
        return items

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(
            ctx.command_path, "[OPTIONS] THREAD MESSAGE|-\n       t3 queue COMMAND [ARGS]..."
        )

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The shorthand is `queue add`: its arguments and options (which include --help), then
        # the subcommands.
        self.commands[DEFAULT_SUBCOMMAND].format_options(ctx, formatter)
        self.format_commands(ctx, formatter)


def add(
    thread: ThreadArg,
    message: MessageArg,
    command_id: CommandIdOption = None,
    json: JsonOption = False,
) -> None:
    """Append a message to the thread's queue; it runs after everything queued before it."""
    from t3cli.cli.messages import read_message
    from t3cli.cli.writes import child_id, dispatch_on_thread, report
    from t3cli.contracts.commands import TurnQueue

    env = current_env()
    text = read_message(env, message, max_chars=env.config.max_message_chars)
    ref, cid, result = dispatch_on_thread(
        env, thread, command_id,
        lambda cid, ref: TurnQueue(
            command_id=cid, thread_id=ref.thread_id, queue_item_id=child_id("queue-item", cid),
            message_id=child_id("message", cid), text=text,
        ),
        text=text,
    )  # fmt: skip
    queue_item_id = child_id("queue-item", cid)
    report(
        env, json, ref.thread_id, cid, result.sequence, data=queue_item_id,
        queue_item_id=queue_item_id,
    )  # fmt: skip


def list_items(
    thread: Annotated[
        str | None, typer.Argument(metavar="[THREAD]", help="Only this thread (default: all).")
    ] = None,
    json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """List queued turns (pending, sending, failed) in FIFO order."""
    from t3cli.cli import quiet as quiet_output
    from t3cli.cli import render
    from t3cli.cli.output import queue_json
    from t3cli.cli.refs import resolve_thread
    from t3cli.store import queries

    env = current_env()
    quiet_output.check(json, quiet)
    conn = env.connect()
    thread_id = resolve_thread(conn, thread).thread_id if thread is not None else None
    rows = queries.queue_items(conn, thread_id)
    if json:
        env.print_json([queue_json(row) for row in rows])
    elif quiet:
        quiet_output.print_ids(env, [row.queue_item_id for row in rows])
    else:
        render.queue(env, rows)


def _item_command(
    thread: str,
    item: str,
    command_id: str | None,
    build: Callable[[str, str, str], "Command"],
    **arguments: object,
) -> "tuple[str, str, DispatchResult, str]":
    """Resolve THREAD and ITEM, dispatch `build(command id, thread id, queue item id)`, and return
    (thread id, command id, result, the item the command acted on — from its events, so a replayed
    --command-id reports the original item)."""
    from t3cli.cli.refs import resolve_item_id
    from t3cli.cli.writes import dispatch_on_thread, item_of

    env = current_env()
    ref, cid, result = dispatch_on_thread(
        env, thread, command_id,
        lambda cid, ref: build(
            cid, ref.thread_id, resolve_item_id(env.connect(), ref, item, command_id)
        ),
        item=item.strip().lower(), **arguments,
    )  # fmt: skip
    return ref.thread_id, cid, result, item_of(result)


def cancel(
    thread: ThreadArg, item: ItemArg, command_id: CommandIdOption = None, json: JsonOption = False
) -> None:
    """Remove a pending or failed item from the queue."""
    from t3cli.cli.writes import report
    from t3cli.contracts.commands import QueuedTurnCancel

    thread_id, cid, result, item_id = _item_command(
        thread,
        item,
        command_id,
        lambda cid, tid, qid: QueuedTurnCancel(command_id=cid, thread_id=tid, queue_item_id=qid),
    )
    report(
        current_env(), json, thread_id, cid, result.sequence, data=item_id,
        done=f"cancelled item {item_id[:8]} of thread {thread_id[:8]}", queue_item_id=item_id,
    )  # fmt: skip


def clear(thread: ThreadArg, command_id: CommandIdOption = None, json: JsonOption = False) -> None:
    """Cancel every pending and failed item of the thread's queue (not the one being sent)."""
    from t3cli.cli import bulk
    from t3cli.cli.refs import resolve_thread
    from t3cli.contracts.commands import QueuedTurnCancel
    from t3cli.store import queries
    from t3cli.store.queries import QueueRow

    env = current_env()
    conn = env.connect()
    ref = resolve_thread(conn, thread)

    def cancel_command(cid: str, thread_id: str, queue_item_id: str = "") -> QueuedTurnCancel:
        return QueuedTurnCancel(command_id=cid, thread_id=thread_id, queue_item_id=queue_item_id)

    # Every item gets its command, the one being sent too: the decider refuses that one, and its
    # recorded refusal is what a replay reports again.
    action: bulk.BulkAction[QueueRow] = bulk.BulkAction(
        kind="queue-clear",
        make=lambda cid, row: cancel_command(cid, row.thread_id, row.queue_item_id),
        thread_of=lambda row: row.thread_id,
        remake=cancel_command,
    )
    result = bulk.run(env, action, command_id, lambda: queries.queue_items(conn, ref.thread_id))
    if not result.items and not json:
        env.stderr.write(f"note: the queue of {ref.thread_id[:8]} is empty; nothing to clear\n")
    bulk.report(env, json, result, verb="cancelled", thread_id=ref.thread_id)


def move(
    thread: ThreadArg,
    item: ItemArg,
    to: Annotated[
        int, typer.Option("--to", metavar="N", max=MAX_INT, help="New 1-based position.")
    ],
    command_id: CommandIdOption = None,
    json: JsonOption = False,
) -> None:
    """Move a pending or failed item to position N of its queue."""
    from t3cli.cli.writes import report
    from t3cli.contracts.commands import QueuedTurnMove

    thread_id, cid, result, item_id = _item_command(
        thread,
        item,
        command_id,
        lambda cid, tid, qid: QueuedTurnMove(
            command_id=cid, thread_id=tid, queue_item_id=qid, to_position=to
        ),
        to=to,
    )
    position = result.events[0].payload.get("to_position", to) if result.events else to
    report(
        current_env(), json, thread_id, cid, result.sequence, data=item_id,
        done=f"moved item {item_id[:8]} of thread {thread_id[:8]} to position {position}",
        queue_item_id=item_id, position=position,
    )  # fmt: skip


def register(app: typer.Typer) -> None:
    queue_app = typer.Typer(
        cls=QueueGroup,
        help="Queue a message for a thread (`t3 queue THREAD MESSAGE|-`), or manage its queue.",
        no_args_is_help=True,
        rich_markup_mode=None,
    )
    queue_app.command(DEFAULT_SUBCOMMAND)(add)
    queue_app.command("list")(list_items)
    queue_app.command("cancel")(cancel)
    queue_app.command("move")(move)
    queue_app.command("clear")(clear)
    app.add_typer(queue_app, name="queue")

"""`t3 run`: the foreground reactor (a thin wrapper over `t3cli.reactor`).

On a terminal it shows a live table; otherwise it prints one plain line per state change (or JSON
lines with `--json`) on stdout. The README ("Running queued turns") has the delivery guarantee
and the exit codes.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from t3cli.cli.completion import DIRECTORY, values
from t3cli.errors import NotFound, UsageError

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import AsyncIterator

    from t3cli.cli.env import Env
    from t3cli.reactor.loop import OnExit, Reactor
    from t3cli.reactor.service import Signals

_RECOVER = ("at-most-once", "resend")
_ON_EXIT = ("interrupt", "wait")


def run(  # noqa: PLR0917 - typer maps parameters to options
    thread: Annotated[
        list[str] | None,
        typer.Option(
            "--thread", "-t", metavar="THREAD", help="Drive only this thread (repeatable)."
        ),
    ] = None,
    project: Annotated[
        str | None,
        typer.Option(
            "--project", "-p", metavar="PROJECT", click_type=DIRECTORY,
            help="Drive only this project's threads.",
        ),
    ] = None,
    until_idle: Annotated[
        bool, typer.Option("--until-idle", help="Exit when no eligible work is left (for cron).")
    ] = False,
    max_concurrent: Annotated[
        int | None,
        typer.Option("--max-concurrent", min=1, metavar="N", help="Cap on running turns."),
    ] = None,
    recover: Annotated[
        str,
        typer.Option(
            "--recover",
            metavar="at-most-once|resend",
            click_type=values(*_RECOVER),
            help="What to do with turns a dead reactor left running.",
        ),
    ] = "at-most-once",
    on_exit: Annotated[
        str,
        typer.Option(
            "--on-exit",
            metavar="interrupt|wait",
            click_type=values(*_ON_EXIT),
            help="On SIGINT/SIGTERM: interrupt running turns, or let them finish.",
        ),
    ] = "interrupt",
    json: Annotated[bool, typer.Option("--json", help="JSON lines, one per state change.")] = False,
) -> None:
    """Run the reactor: drain queued turns thread by thread and show live state."""
    import asyncio

    from t3cli.cli.app import current_env
    from t3cli.reactor.loop import Reactor, ReactorOptions

    if recover not in _RECOVER:
        raise UsageError(
            f"--recover must be one of {', '.join(_RECOVER)}, got {recover!r}",
            hint="see 't3 run --help' (README: Delivery guarantee and recovery)",
        )
    if on_exit not in _ON_EXIT:
        raise UsageError(
            f"--on-exit must be one of {', '.join(_ON_EXIT)}, got {on_exit!r}",
            hint="see 't3 run --help'",
        )
    from t3cli.providers.registry import validate_providers

    env = current_env()
    config = env.config
    validate_providers(config)  # a bad provider table: exit 2 before anything is recorded
    conn = env.connect()
    thread_ids = _resolve_threads(conn, thread or [])
    project_id = _resolve_project(conn, project) if project else None
    settings = config.reactor
    options = ReactorOptions(
        thread_ids=frozenset(thread_ids) if thread_ids else None,
        project_id=project_id,
        max_concurrent=max_concurrent or settings.max_concurrent,
        poll_interval_s=settings.poll_interval_ms / 1000,
        lease_ttl_s=settings.lease_ttl_s,
        recover=recover,  # type: ignore[arg-type]
    )
    env.close()  # the reactor opens its own connections
    reactor = Reactor(env.paths.database, config, options)
    focus = thread_ids[0] if len(thread_ids) == 1 else None
    mode: OnExit = "wait" if on_exit == "wait" else "interrupt"
    code = asyncio.run(
        _main(env, reactor, until_idle=until_idle, on_exit=mode, json=json, focus=focus)
    )
    raise typer.Exit(code)


async def _main(
    env: Env, reactor: Reactor, *, until_idle: bool, on_exit: OnExit, json: bool, focus: str | None
) -> int:
    from t3cli.reactor.render import LineRenderer
    from t3cli.reactor.service import Signals, run_foreground

    signals = Signals()
    signals.install()
    try:
        async with contextlib.AsyncExitStack() as stack:
            if env.stdout_isatty and not json:
                await stack.enter_async_context(_live_view(env, reactor, signals, on_exit, focus))
            else:
                reactor.observer = LineRenderer(env.stdout, json_mode=json)
            return await run_foreground(
                reactor, until_idle=until_idle, on_exit=on_exit, signals=signals
            )
    finally:
        signals.uninstall()


@contextlib.asynccontextmanager
async def _live_view(
    env: Env, reactor: Reactor, signals: Signals, on_exit: OnExit, focus: str | None
) -> AsyncIterator[None]:
    """The live view for the reactor's whole life, with keys when stdin is a terminal too (and
    we are its foreground job). On every way out (the reactor's end, an exception, SIGINT or
    SIGTERM) the view closes and the terminal's mode is restored."""
    import asyncio

    from rich.console import Console

    from t3cli.domain.decider import Limits
    from t3cli.reactor.keys import TerminalKeys, in_foreground
    from t3cli.reactor.live import LiveView
    from t3cli.reactor.live_actions import KeyActions

    keys = env.stdin_isatty and in_foreground(env.stdin.fileno())
    view = LiveView(Console(file=env.stdout, no_color=not env.color), focus=focus, keys=keys)
    reactor.observer = view
    stop_view = asyncio.Event()

    async def announce_stopping() -> None:
        await signals.first.wait()
        view.stopping(on_exit)
        await signals.kill.wait()
        view.stopping(on_exit, now=True)

    watcher = asyncio.create_task(announce_stopping())
    drawing = asyncio.create_task(view.run(stop_view))
    async with contextlib.AsyncExitStack() as stack:
        try:
            if keys:
                limits = Limits(max_message_chars=reactor.config.max_message_chars)
                actions = KeyActions(
                    reactor.database, view.state, limits=limits, changed=view.redraw
                )
                await actions.start()
                stack.push_async_callback(actions.close)
                terminal = stack.enter_context(TerminalKeys(env.stdin.fileno(), actions.key))
                view.on_suspend, view.on_resume = terminal.suspend, terminal.resume
            yield
        finally:
            watcher.cancel()
            stop_view.set()
            await asyncio.gather(watcher, return_exceptions=True)
            await drawing


def _resolve_threads(conn: sqlite3.Connection, refs: list[str]) -> list[str]:
    try:
        from t3cli.cli.refs import resolve_thread
    except ImportError:  # the resolver is optional: full ids only
        return refs
    return [resolve_thread(conn, ref).thread_id for ref in refs]


def _resolve_project(conn: sqlite3.Connection, ref: str) -> str:
    from t3cli.store import queries

    for candidate in (str(Path(ref).expanduser().resolve()), ref):
        found = queries.find_project(conn, candidate)
        if found is not None:
            return found.project_id
    raise NotFound(f"no project {ref!r}", hint="`t3 projects` lists registered projects")


def register(app: typer.Typer) -> None:
    app.command("run")(run)

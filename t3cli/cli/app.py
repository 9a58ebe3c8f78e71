"""The root `t3` app: global options, command registration, and error-to-exit-code mapping.

Every expected failure prints one style on stderr — `error: what happened` then `hint: what to
do`, both through `printable` — and exits with its documented code (README "Exit codes"), never
with a traceback:

- `T3Error` and the decider's `CommandRejected`; click's own usage errors (unknown option or
  command, bad value, missing argument: exit 2, see `t3cli.cli.usage`); an argument that is not
  valid UTF-8 (exit 2);
- SQLite errors that escaped a command (corrupt, full, read-only: exit 1, `store.db.translate`);
  a corrupt database is also marked so no later write is acknowledged on it (`store.corruption`);
- stdout that cannot be written: a reader that went away (`t3 events | head -1`) ends the command
  quietly with exit 0; a full device or an I/O error is exit 1 with a message.

Anything else is a bug: a short message and exit 1 (T3_DEBUG=1 for the traceback). `t3` or a
command group alone prints its help (exit 0); `--no-color` is accepted after any subcommand.
"""

import errno
import importlib
import os
import sqlite3
import sys
from typing import Any, NoReturn

import click
import typer

from t3cli import __version__
from t3cli.cli.env import Env
from t3cli.errors import DatabaseCorrupt, ExitCode, T3Error, UsageError

# Each module defines `register(app)`. Order is the order of `t3 --help`.
COMMAND_MODULES = (
    "t3cli.cli.projects_cmd",
    "t3cli.cli.threads_cmd",
    "t3cli.cli.turns_cmd",
    "t3cli.cli.queue_cmd",
    "t3cli.cli.run_cmd",
    "t3cli.cli.watch_cmd",
    "t3cli.cli.events_cmd",
    "t3cli.cli.providers_cmd",
    "t3cli.cli.doctor_cmd",
    "t3cli.cli.misc_cmd",
)


def current_env() -> Env:
    """The `Env` of the running invocation (created by the root callback)."""
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        if isinstance(ctx.obj, Env):
            return ctx.obj
        ctx = ctx.parent
    return Env()


def _version_text(env: Env) -> str:
    from t3cli.store.schema import SCHEMA_VERSION

    try:
        database = str(env.paths.database)
    except T3Error as exc:
        database = f"(unavailable: {exc.message})"
    return f"t3 {__version__}\nschema {SCHEMA_VERSION}\ndatabase {database}"


def _no_section(self: click.Command, ctx: click.Context, formatter: click.HelpFormatter) -> None:
    return None


def _keep_argument_help() -> None:
    """Make `t3 CMD --help` show what each argument is.

    typer 0.24's `TyperArgument` stores its `help` and then calls click's `Argument.__init__`,
    which in click 8.5 takes a `help` of its own and sets it back to None: every argument's
    description vanished from the help page. Re-set it after click's constructor. Idempotent;
    a no-op once typer passes the help through itself."""
    from typer.core import TyperArgument, TyperCommand, TyperGroup

    original = TyperArgument.__init__
    if getattr(original, "_t3_keeps_help", False):
        return
    # click 8.5 then lists documented arguments itself ("Positional arguments"), as typer's own
    # "Arguments" section already does: keep typer's, once.
    for cls in (TyperCommand, TyperGroup):
        if hasattr(cls, "format_arguments") and "format_arguments" not in vars(cls):
            cls.format_arguments = _no_section  # type: ignore[method-assign]

    def init(self: TyperArgument, *args: Any, help: str | None = None, **kwargs: Any) -> None:
        original(self, *args, help=help, **kwargs)
        if self.help is None:
            self.help = help

    init._t3_keeps_help = True  # type: ignore[attr-defined]
    TyperArgument.__init__ = init  # type: ignore[method-assign]


def build_app() -> typer.Typer:
    from t3cli.cli.completion import T3Group

    _keep_argument_help()
    app = typer.Typer(
        cls=T3Group,  # answers TAB completion with click's classes (no rich import per TAB)
        name="t3",
        help="t3: keep many coding-agent conversations going from the terminal.",
        add_completion=False,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    def print_version(value: bool) -> None:
        if value:
            sys.stdout.write(_version_text(current_env()) + "\n")
            raise typer.Exit(0)

    @app.callback()
    def root(
        ctx: typer.Context,
        no_color: bool = typer.Option(
            False, "--no-color", help="Never use colour (also NO_COLOR)."
        ),
        version: bool = typer.Option(
            False,
            "--version",
            help="Print version, schema version and database path.",
            is_eager=True,
            callback=print_version,
        ),
    ) -> None:
        env = ctx.obj if isinstance(ctx.obj, Env) else Env()
        env.no_color = env.no_color or no_color
        ctx.obj = env

    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)
    return app


GENERIC_HINT = "`t3 help COMMAND` describes the command; README 'Exit codes' lists the codes"


def _fail(message: str, hint: str | None, code: int) -> int:
    from t3cli.cli.safe_text import printable

    # Messages quote what users and agents wrote (titles, replies, errors): never raw controls.
    sys.stderr.write(f"error: {printable(message)}\n")
    # Every error has a hint; one recorded before hints existed (a replayed rejection) gets this.
    sys.stderr.write(f"hint: {printable(hint or GENERIC_HINT)}\n")
    return code


def _check_utf8(args: list[str]) -> None:
    """Refuse (exit 2) an argument that is not valid UTF-8: Python hands such bytes over as lone
    surrogates, which no text column, JSON document or agent can take."""
    for index, arg in enumerate(args):
        if any("\udc80" <= ch <= "\udcff" for ch in arg):
            raw = os.fsencode(arg)
            previous = args[index - 1] if index and args[index - 1].startswith("--") else None
            what = f"the value of {previous}" if previous else f"argument {index + 1}"
            raise UsageError(
                f"{what} is not valid UTF-8 text: {raw!r}",
                hint="t3 keeps text as UTF-8: convert it first (e.g. `iconv -f LATIN1 -t UTF-8`),"
                " or pipe a message in with `-`",
            )


def _no_color(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        env = ctx.find_object(Env)
        if env is not None:
            env.no_color = True


def _accept_no_color_everywhere(group: click.Group) -> None:
    """`--no-color` is a root option; accept it after any subcommand too (`t3 threads --no-color`
    is what people type). Hidden there: the root's help documents it."""
    for command in group.commands.values():
        if not any("--no-color" in getattr(p, "opts", ()) for p in command.params):
            command.params.append(
                click.Option(
                    ["--no-color"], is_flag=True, expose_value=False, hidden=True,
                    callback=_no_color, help="Never use colour (also NO_COLOR).",
                )
            )  # fmt: skip
        if isinstance(command, click.Group):
            _accept_no_color_everywhere(command)


def build_command() -> click.Group:
    """The click command tree of `t3` (typer's, plus `--no-color` after any subcommand)."""
    command = typer.main.get_command(build_app())
    assert isinstance(command, click.Group)
    _accept_no_color_everywhere(command)
    return command


def _silence_stdout() -> None:
    # Whatever is still buffered would fail again when Python flushes stdout at exit, printing
    # "Exception ignored ..." after our own message: point descriptor 1 at /dev/null instead.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass  # not a real descriptor (tests): nothing will flush at exit


def main(argv: list[str] | None = None) -> int:
    """Run `t3` with `argv` and return the exit code (no `sys.exit`)."""
    from t3cli.cli.env import OutputClosed, OutputFailed

    args = list(sys.argv[1:] if argv is None else argv)
    env = Env()
    try:
        return _run(env, args)
    except OutputClosed:
        # `t3 events | head -1`: the reader left; that is not an error worth a word.
        _silence_stdout()
        return int(ExitCode.OK)
    except OutputFailed as exc:
        _silence_stdout()
        return _fail(exc.message, exc.hint, int(exc.code))
    finally:
        env.close()


def _run(env: Env, args: list[str]) -> int:
    from t3cli.cli.env import OutputClosed, OutputFailed, output_error
    from t3cli.domain.rejections import CommandRejected

    try:
        _check_utf8(args)
        result: Any = build_command().main(
            args=args, prog_name="t3", standalone_mode=False, obj=env
        )
        code = int(result) if isinstance(result, int) else 0
        env.stdout.flush()  # here, not at exit: a closed pipe or a full disk is reported
        return code
    except (OutputClosed, OutputFailed):
        raise
    except T3Error as exc:
        if isinstance(exc, DatabaseCorrupt):
            _remember_corruption(env, exc)
        return _fail(exc.message, exc.hint, int(exc.code))
    except CommandRejected as exc:
        code = {"not_found": ExitCode.NOT_FOUND, "invalid": ExitCode.USAGE}.get(
            exc.kind, ExitCode.REJECTED
        )
        return _fail(exc.reason, exc.hint, int(code))
    except sqlite3.Error as exc:
        if isinstance(exc, (sqlite3.ProgrammingError, sqlite3.InterfaceError)):
            return _unexpected(exc)  # our misuse of the API: a bug
        from t3cli.store.db import translate

        error = translate(exc, _database(env))
        if isinstance(error, DatabaseCorrupt):
            _remember_corruption(env, error)
        return _fail(error.message, error.hint, int(error.code))
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        return int(ExitCode.INTERRUPTED)
    except click.ClickException as exc:
        from t3cli.cli.usage import explain

        explained = explain(exc, env)
        if explained is None:
            return int(ExitCode.OK)  # `t3` (or a group) alone: its help, printed on stdout
        code = ExitCode.USAGE if isinstance(exc, click.UsageError) else exc.exit_code
        return _fail(*explained, int(code))
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return int(ExitCode.INTERRUPTED)
    except OSError as exc:
        # Writes that bypass `Env.stdout` (click's own help and messages) fail the same way.
        if isinstance(exc, BrokenPipeError) or exc.errno == errno.ENOSPC:
            raise output_error(exc) from None
        return _unexpected(exc)
    except Exception as exc:
        return _unexpected(exc)


def _unexpected(exc: BaseException) -> int:
    if os.environ.get("T3_DEBUG"):
        raise exc
    return _fail(
        f"unexpected error: {type(exc).__name__}: {exc}",
        "this is a bug; rerun with T3_DEBUG=1 for the traceback and report it",
        int(ExitCode.ERROR),
    )


def _database(env: Env) -> str:
    try:
        return str(env.paths.database)
    except T3Error:
        return "the database"


def _remember_corruption(env: Env, error: DatabaseCorrupt) -> None:
    """Mark the database corrupt so that no later write is acknowledged on it (`t3 doctor`
    lifts the mark once the integrity check passes)."""
    from t3cli.store.corruption import mark

    try:
        database = env.paths.database
    except T3Error:
        return
    if database.is_file():
        mark(database, error.detail)


def run() -> NoReturn:
    sys.exit(main())

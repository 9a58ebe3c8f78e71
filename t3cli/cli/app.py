"""The root `t3` app: global options, command registration, and error-to-exit-code mapping.

Expected failures (`T3Error`, `CommandRejected`) print `error: ...` and `hint: ...` on stderr and
exit with their documented code — never a traceback. Anything else is a bug: it prints a short
message and exits 1 (set T3_DEBUG=1 for the traceback).
"""

import importlib
import os
import sys
from typing import Any, NoReturn

import click
import typer

from t3cli import __version__
from t3cli.cli.env import Env
from t3cli.errors import ExitCode, T3Error

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


def _fail(message: str, hint: str | None, code: int) -> int:
    sys.stderr.write(f"error: {message}\n")
    if hint:
        sys.stderr.write(f"hint: {hint}\n")
    return code


def main(argv: list[str] | None = None) -> int:
    """Run `t3` with `argv` and return the exit code (no `sys.exit`)."""
    from t3cli.domain.rejections import CommandRejected

    app = build_app()
    env = Env()
    try:
        result: Any = app(args=argv, prog_name="t3", standalone_mode=False, obj=env)
        return int(result) if isinstance(result, int) else 0
    except T3Error as exc:
        return _fail(exc.message, exc.hint, int(exc.code))
    except CommandRejected as exc:
        code = {"not_found": ExitCode.NOT_FOUND, "invalid": ExitCode.USAGE}.get(
            exc.kind, ExitCode.REJECTED
        )
        return _fail(exc.reason, exc.hint, int(code))
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        return int(ExitCode.INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        return int(ExitCode.USAGE)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        # `t3 events | head`: the reader left; that is not an error worth a traceback.
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        except OSError:
            pass
        return 0
    except Exception as exc:
        if os.environ.get("T3_DEBUG"):
            raise
        return _fail(
            f"unexpected error: {type(exc).__name__}: {exc}",
            "this is a bug; rerun with T3_DEBUG=1 for the traceback and report it",
            int(ExitCode.ERROR),
        )
    finally:
        env.close()


def run() -> NoReturn:
    sys.exit(main())

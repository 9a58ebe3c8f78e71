"""click's own usage errors in t3's one error style.

click prints `Usage: ...`, `Try '... --help' for help.` and `Error: ...`; typer adds its own
"Did you mean" to click's. t3 prints every expected failure the same way instead:

    error: no such option '--lmit'
    hint: did you mean '--limit'? (see 't3 threads --help')

Guarantees of `explain`: the message is click's, without its "Did you mean" sentences and
starting in lower case; the hint always points at the right `--help` page and carries at most
one suggestion; a command or group run without the arguments it needs prints its help on stdout
instead (exit 0), as `git` and `docker` do.
"""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from t3cli.cli.env import Env

_SUGGESTION = re.compile(r"\s*\(?\s*(?:Did you mean|Possible options:)[^?)]*\??\)?")
_NO_SUCH_COMMAND = re.compile(r"No such command '([^']*)'")
_NUMBER = re.compile(r"^-\d")


def explain(exc: click.ClickException, env: Env) -> tuple[str, str | None] | None:
    """(message, hint) for `exc`; None when it was a bare command whose help was printed."""
    ctx = getattr(exc, "ctx", None)
    no_args = getattr(click.exceptions, "NoArgsIsHelpError", None)
    if no_args is not None and isinstance(exc, no_args) and ctx is not None:
        env.stdout.write(ctx.get_help() + "\n")
        env.stdout.flush()
        return None
    path = ctx.command_path if ctx is not None else "t3"
    see = f"see '{path} --help'"
    raw = exc.format_message()
    message = _SUGGESTION.sub("", raw).strip().rstrip(".")
    if len(message) > 1 and message[0].isupper() and message[1].islower():
        message = message[0].lower() + message[1:]
    if isinstance(exc, click.NoSuchOption):
        if _NUMBER.match(exc.option_name):
            return message, (
                f"a value starting with '-' goes after `--` ({path} ... -- {exc.option_name});"
                f" {see}"
            )
        options = sorted(exc.possibilities or ())
        if options:
            return message, f"did you mean {options[0]!r}? ({see})"
        return message, see
    unknown = _NO_SUCH_COMMAND.search(raw)
    if unknown is not None and ctx is not None and isinstance(ctx.command, click.Group):
        return message, unknown_command_hint(ctx, unknown.group(1))
    return message, see


def unknown_command_hint(ctx: click.Context, name: str) -> str:
    """The hint for `name`, not a subcommand of `ctx`'s group: the closest one, if any."""
    path = ctx.command_path
    group = ctx.command
    names = group.list_commands(ctx) if isinstance(group, click.Group) else []
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    lists = f"`{path} --help` lists the commands"
    return f"did you mean '{path} {close[0]}'? ({lists})" if close else lists

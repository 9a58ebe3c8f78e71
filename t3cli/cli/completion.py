"""Shell completion for `t3`: click's own bash, zsh and fish support, under `_T3_COMPLETE`.

typer (0.24) answers completion requests with its own instruction format and, for zsh, renders
help texts through rich — an import every TAB would pay for. `T3Group` answers them with click's
classes instead (`_T3_COMPLETE=bash_complete`, `zsh_complete`, `fish_complete`, and `*_source`),
which import nothing beyond click. The scripts `t3 completion SHELL` prints (and `completions/`
holds) are click's scripts for program `t3`.

THREAD arguments and options complete to the 8-character id prefixes of non-deleted threads (the
title as help text, shown by zsh), most recently active first, plus `@last`. That completion opens
the database read-only and imports only sqlite3 and `t3cli.store.queries`; any failure (no
database yet, locked, corrupt, too slow) offers nothing rather than a traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping
from typing import Any

import click
from click.shell_completion import (
    BashComplete,
    CompletionItem,
    FishComplete,
    ShellComplete,
    ZshComplete,
)
from typer.core import TyperGroup

PROG_NAME = "t3"
COMPLETE_VAR = "_T3_COMPLETE"
SHELLS: dict[str, type[ShellComplete]] = {
    "bash": BashComplete,
    "zsh": ZshComplete,
    "fish": FishComplete,
}


THREAD_METAVARS = ("THREAD", "[THREAD]")
MAX_THREAD_CANDIDATES = 50
SHOWN_ID_LENGTH = 8
LAST = "@last"  # as t3cli.cli.refs.LAST (not imported: refs pulls in more than a TAB needs)
_COMPLETION_DEADLINE_S = 0.5


def thread_candidates(incomplete: str) -> list[CompletionItem]:
    """What completing a THREAD offers for the word `incomplete`; [] on any failure."""
    try:
        return _thread_candidates(incomplete)
    except Exception:
        return []


def _thread_candidates(incomplete: str) -> list[CompletionItem]:
    import sqlite3
    import time
    from pathlib import Path

    from t3cli.paths import resolve_paths
    from t3cli.store import queries

    database = Path(resolve_paths().database).expanduser().absolute()
    if not database.is_file():  # stat only: never create it, never open() it
        return []
    # Read-only, never created nor migrated; a locked database waits briefly, then gives up.
    conn = sqlite3.connect(
        f"{database.as_uri()}?mode=ro", uri=True, timeout=0.2, isolation_level=None
    )
    try:
        deadline = time.monotonic() + _COMPLETION_DEADLINE_S
        conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
        refs = queries.thread_completions(conn, incomplete.strip(), MAX_THREAD_CANDIDATES)
        offer_last = LAST.startswith(incomplete) and bool(
            refs or queries.thread_completions(conn, "", 1)  # `@last` only if there are threads
        )
    finally:
        conn.close()
    items = []
    if offer_last:
        items.append(CompletionItem(LAST, help="the most recently active thread"))
    # 8 characters, as users type them; as long as the word when it is a longer id prefix.
    width = max(SHOWN_ID_LENGTH, len(incomplete))
    for ref in refs:
        by_id = ref.thread_id.startswith(incomplete.lower())
        value = ref.thread_id[: width if by_id else SHOWN_ID_LENGTH]
        title = ref.title + ("  (archived)" if ref.archived else "")
        items.append(CompletionItem(value, help=title or None))
    return items


class ThreadType(click.types.StringParamType):
    """A THREAD's click type: the text as typed, like a plain `str` (resolution happens in the
    command), plus TAB completion from the database."""

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        return thread_candidates(incomplete)


THREAD = ThreadType()


def _complete_every_thread_param(group: click.Group) -> None:
    """Give THREAD completion to THREAD parameters declared without `ThreadType` (plain `str`
    options named by metavar, such as `t3 run --thread`). Only for completion requests."""
    for command in group.commands.values():
        for param in command.params:
            plain_text = type(param.type) is click.types.StringParamType
            if param.metavar in THREAD_METAVARS and plain_text:
                param.type = THREAD
        if isinstance(command, click.Group):
            _complete_every_thread_param(command)


def source(cli: click.Command, shell: str) -> str:
    """The completion script for `shell` (a key of `SHELLS`), for program `t3`. Deterministic:
    it depends only on the shell, never on this machine (no bash version probe)."""
    comp = SHELLS[shell](cli, {}, PROG_NAME, COMPLETE_VAR)
    return ShellComplete.source(comp)


class T3Group(TyperGroup):
    """The root group: answers `_T3_COMPLETE` requests with click's completion classes."""

    def _main_shell_completion(
        self,
        ctx_args: MutableMapping[str, Any],
        prog_name: str,
        complete_var: str | None = None,
    ) -> None:
        var = complete_var or COMPLETE_VAR
        instruction = os.environ.get(var)
        if not instruction:
            return
        shell, _, action = instruction.partition("_")
        comp_cls = SHELLS.get(shell)
        if comp_cls is None or action not in ("source", "complete"):
            sys.stderr.write(
                f"t3: unsupported completion request {var}={instruction!r}"
                " (expected bash|zsh|fish followed by _complete or _source)\n"
            )
            sys.exit(2)
        if action == "complete":
            _complete_every_thread_param(self)
        comp = comp_cls(self, ctx_args, prog_name, var)
        out = ShellComplete.source(comp) if action == "source" else comp.complete()
        sys.stdout.write(out + ("\n" if out and not out.endswith("\n") else ""))
        sys.stdout.flush()
        sys.exit(0)

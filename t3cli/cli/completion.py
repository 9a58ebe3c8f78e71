"""TAB completion for `t3`: what each parameter offers, and answering `_T3_COMPLETE` requests.

`T3Group` answers completion requests (`_T3_COMPLETE=bash_complete`, `zsh_complete`,
`fish_complete`, and `*_source` for the scripts) with the shell classes of
`t3cli.cli.completion_shells`, which import nothing beyond click: typer's own completion renders
help texts through rich, an import every TAB would pay for.

What completes to what (each a click parameter type whose conversion is a plain `str`, so
declaring one changes no behaviour but TAB's):
- `THREAD`: 8-character id prefixes of non-deleted threads (longer where two share 8), most
  recently active first, with their titles as descriptions, plus `@last`. THREAD parameters
  declared as plain `str` (`t3 run --thread`) get it by their metavar when completing.
- `values(...)`: a fixed set (`--recover`, `--on-exit`, the shell of `t3 completion`), or one
  computed when completing: `STATUS` (thread statuses), `PROVIDER` (configured provider names,
  with their kinds), `EVENT_TYPE` (event types, and a glob per family).
- `DIRECTORY`: directories, completed by the shell itself (path arguments, `--project`).

Guarantees: whatever fails while completing (no database yet, locked, corrupt, too slow, a broken
configuration) offers nothing rather than a traceback or a message. Completing a THREAD opens the
database read-only and imports only sqlite3 and `t3cli.store.queries`; descriptions, being
untrusted, go through `printable` and stay on one line.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, MutableMapping
from typing import Any

import click
from click.shell_completion import CompletionItem
from typer.core import TyperGroup

from t3cli.cli.completion_shells import COMPLETE_VAR, PROG_NAME, SHELLS, source

__all__ = [
    "COMPLETE_VAR", "DIRECTORY", "EVENT_TYPE", "PROG_NAME", "PROVIDER", "SHELLS", "STATUS",
    "THREAD", "T3Group", "source", "thread_candidates", "values",
]  # fmt: skip

THREAD_METAVARS = ("THREAD", "[THREAD]")
MAX_THREAD_CANDIDATES = 50
SHOWN_ID_LENGTH = 8
LAST = "@last"  # as t3cli.cli.refs.LAST (not imported: refs pulls in more than a TAB needs)
_COMPLETION_DEADLINE_S = 0.5

Candidates = Iterable[tuple[str, str | None]]  # (value, description)


def _description(text: str) -> str:
    from t3cli.cli.safe_text import printable

    return printable(" ".join(text.split()), single_line=True)


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
    ids = [ref.thread_id for ref in refs]
    for ref in refs:
        by_id = ref.thread_id.startswith(incomplete.lower())
        shortest = len(incomplete) if by_id else 0
        value = ref.thread_id[: _distinct_length(ref.thread_id, ids, shortest)]
        title = _description(ref.title) + ("  (archived)" if ref.archived else "")
        items.append(CompletionItem(value, help=title or None))
    return items


def _distinct_length(thread_id: str, ids: list[str], at_least: int) -> int:
    """How much of `thread_id` to offer: 8 characters as users type them, as long as the word
    when that is a longer prefix, and longer still when another candidate shares the prefix
    (two equal values would make a shell insert their description)."""
    length = max(SHOWN_ID_LENGTH, at_least)
    for other in ids:
        if other != thread_id:
            while length < len(thread_id) and other.startswith(thread_id[:length]):
                length += 1
    return length


class ThreadType(click.types.StringParamType):
    """A THREAD's click type: the text as typed, like a plain `str` (resolution happens in the
    command), plus TAB completion from the database."""

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        return thread_candidates(incomplete)


THREAD = ThreadType()


class ValueType(click.types.StringParamType):
    """A `str` parameter whose TAB offers the values `candidates()` lists (called only when
    completing, so a module declaring one imports nothing more) that start with the word."""

    def __init__(self, candidates: Callable[[], Candidates]) -> None:
        self._candidates = candidates

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        try:
            return [
                CompletionItem(value, help=_description(about) if about else None)
                for value, about in self._candidates()
                if value.startswith(incomplete)
            ]
        except Exception:
            return []


def values(*fixed: str) -> ValueType:
    """A parameter type completing to the `fixed` values, in that order."""
    return ValueType(lambda: [(value, None) for value in fixed])


class DirectoryType(click.types.StringParamType):
    """A `str` parameter naming a directory: the shell completes directory names."""

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        return [CompletionItem(incomplete, type="dir")]


DIRECTORY = DirectoryType()

_STATUS_MEANINGS = {
    "idle": "nothing running or queued",
    "starting": "a turn was requested",
    "running": "a turn is running",
    "queued": "queued turns wait",
    "blocked": "a failed queued turn holds the queue",
    "archived": "archived threads",
}


def _statuses() -> Candidates:
    from t3cli.store.queries import THREAD_STATUSES

    return [(status, _STATUS_MEANINGS.get(status)) for status in THREAD_STATUSES]


def _providers() -> Candidates:
    """Configured provider names (built-ins first) with their kinds; the default is marked."""
    from t3cli.config import load_config
    from t3cli.paths import resolve_paths
    from t3cli.providers.registry import BUILTIN_PROVIDERS, provider_names

    config = load_config(resolve_paths().config_file)
    out = []
    for name in provider_names(config):
        kind = (config.providers.get(name) or {}).get("kind", BUILTIN_PROVIDERS.get(name))
        about = f"{kind} provider" if isinstance(kind, str) else "provider"
        out.append((name, about + (" (default)" if name == config.default_provider else "")))
    return out


def _event_types() -> Candidates:
    """Every event type, after a glob per family (`thread.*`, `thread.turn-*`, ...)."""
    from t3cli.contracts.events import EVENT_TYPES

    families: dict[str, None] = {}
    for event_type in EVENT_TYPES:
        stream, _, name = event_type.partition(".")
        families[f"{stream}.*"] = None
        for family in ("turn-", "queued-turn-", "session-"):
            if name.startswith(family):
                families[f"{stream}.{family}*"] = None
    globs = [(glob, "every such type") for glob in families]
    return globs + [(event_type, None) for event_type in EVENT_TYPES]


STATUS = ValueType(_statuses)
PROVIDER = ValueType(_providers)
EVENT_TYPE = ValueType(_event_types)


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


class T3Group(TyperGroup):
    """The root group: answers `_T3_COMPLETE` requests with t3's completion classes."""

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
        out = comp.source() if action == "source" else comp.complete()
        sys.stdout.write(out + ("\n" if out and not out.endswith("\n") else ""))
        sys.stdout.flush()
        sys.exit(0)

"""The injectable environment of a CLI invocation (after httpie's `Environment`).

Everything a command touches outside itself — streams, terminal detection, colour, locations,
configuration, the database — comes from here, so terminal and non-terminal behaviour are both
testable and nothing is opened before it is needed.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO, cast

from t3cli.errors import T3Error
from t3cli.paths import Paths, resolve_paths

if TYPE_CHECKING:
    from t3cli.config import Config
    from t3cli.engine import Engine


class OutputClosed(Exception):
    """Whoever read our stdout went away (`t3 events | head -1`): not an error, just stop."""


class OutputFailed(T3Error):
    """Our stdout cannot be written (a full disk, an I/O error): the data is not where the user
    sent it, so the command fails (exit 1) saying why."""


class GuardedOutput:
    """A text stream that turns the failures of writing to it into `OutputClosed` (the reader
    left: EPIPE) or `OutputFailed` (anything else, e.g. ENOSPC on `> /dev/full`), so they are told
    apart from every other OSError a command may meet. Everything else is the wrapped stream's."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except OSError as exc:
            raise output_error(exc) from None

    def flush(self) -> None:
        try:
            self.stream.flush()
        except OSError as exc:
            raise output_error(exc) from None

    def isatty(self) -> bool:
        return self.stream.isatty()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def output_error(exc: OSError) -> OutputClosed | OutputFailed:
    """`OutputClosed` for a reader that left (EPIPE), else `OutputFailed` saying why."""
    if isinstance(exc, BrokenPipeError) or exc.errno in (errno.EPIPE, errno.ECONNRESET):
        return OutputClosed()
    if exc.errno == errno.ENOSPC:
        what = "no space left on the device it goes to"
    else:
        what = exc.strerror or str(exc)
    return OutputFailed(
        f"cannot write the output: {what}",
        hint="send the output somewhere with room (or free some space) and run it again",
    )


def _guarded_stdout() -> TextIO:
    return cast("TextIO", GuardedOutput(sys.stdout))


@dataclass
class Env:
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=_guarded_stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    no_color: bool = False
    _paths: Paths | None = None
    _config: Config | None = None
    _conn: sqlite3.Connection | None = None

    @property
    def stdout_isatty(self) -> bool:
        try:
            return self.stdout.isatty()
        except (AttributeError, ValueError):
            return False

    @property
    def stdin_isatty(self) -> bool:
        try:
            return self.stdin.isatty()
        except (AttributeError, ValueError):
            return False

    @property
    def color(self) -> bool:
        """Colour only on a terminal, never with NO_COLOR (any value) or --no-color."""
        if self.no_color or "NO_COLOR" in os.environ:
            return False
        return self.stdout_isatty

    @property
    def paths(self) -> Paths:
        if self._paths is None:
            self._paths = resolve_paths()
        return self._paths

    @property
    def config(self) -> Config:
        if self._config is None:
            from t3cli.config import load_config

            self._config = load_config(self.paths.config_file)
            for warning in self._config.warnings:  # once per invocation: a typo never hides
                self.stderr.write(f"warning: {warning}\n")
        return self._config

    def connect(self) -> sqlite3.Connection:
        """The database, opened (and created/migrated) on first use with FULL durability:
        a write command that exits 0 survives a power cut."""
        if self._conn is None:
            from t3cli.store.db import connect

            self._conn = connect(self.paths.database, on_upgrade=self._note_upgrade)
        return self._conn

    def _note_upgrade(self, old: int, new: int) -> None:
        # An upgrade of a large log takes seconds: say why this command is slow, once.
        self.stderr.write(
            f"note: upgrading {self.paths.database} from schema {old} to {new} (once; every"
            " row is kept)\n"
        )
        self.stderr.flush()

    def engine(self) -> Engine:
        """The write side, on a database not known to be corrupt (`store.corruption`)."""
        from t3cli.domain.decider import Limits
        from t3cli.engine import Engine
        from t3cli.store.corruption import refuse_writes_if_marked

        refuse_writes_if_marked(self.paths.database)

        return Engine(
            self.connect(), limits=Limits(max_message_chars=self.config.max_message_chars)
        )

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def print_json(self, value: Any) -> None:
        import json

        self.stdout.write(json.dumps(value, ensure_ascii=False, sort_keys=False) + "\n")

"""The injectable environment of a CLI invocation (after httpie's `Environment`).

Everything a command touches outside itself — streams, terminal detection, colour, locations,
configuration, the database — comes from here, so terminal and non-terminal behaviour are both
testable and nothing is opened before it is needed.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from t3cli.paths import Paths, resolve_paths

if TYPE_CHECKING:
    from t3cli.config import Config
    from t3cli.engine import Engine


@dataclass
class Env:
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
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
        from t3cli.domain.decider import Limits
        from t3cli.engine import Engine

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

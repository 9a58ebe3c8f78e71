"""The projector type."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

from t3cli.contracts.events import EventRecord

Handler = Callable[[sqlite3.Connection, EventRecord], None]


@dataclass(frozen=True)
class Projector:
    """`name` keys its cursor in `projection_state`; bumping `version` makes it rebuild itself
    from sequence 0 on next catch-up. `tables` are the tables it owns (cleared on rebuild,
    compared by `t3 replay --check`, with `keys` giving each table's ordering for comparison)."""

    name: str
    version: int
    tables: tuple[str, ...]
    keys: dict[str, str]
    handlers: dict[str, Handler] = field(default_factory=dict)

    def apply(self, conn: sqlite3.Connection, event: EventRecord) -> None:
        handler = self.handlers.get(event.type)
        if handler is not None:
            handler(conn, event)

    def reset(self, conn: sqlite3.Connection) -> None:
        for table in self.tables:
            conn.execute(f"DELETE FROM {table}")

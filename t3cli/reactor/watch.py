"""Watching the log: notice new events within one poll interval and hand them on, in order.

Every `interval_s` (default 20 ms), or at once when someone awaits `reached` for events already
committed (a lane waiting to read its own writes back), the watcher asks its read connection for
`PRAGMA data_version`,
which changes whenever another connection commits — one cheap read while nothing happens. When it
changed (or a previous read stopped at a page limit) it reads the events after its cursor, in
pages, and passes each page to `sink` in sequence order. Guarantees: every event after the
starting cursor is delivered exactly once, in sequence order; the cursor only moves forward.
Reads never hold a transaction open between polls (each page is fetched fully).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable

from t3cli.contracts.events import EventRecord
from t3cli.errors import DatabaseLocked
from t3cli.reactor.dbworker import DbWorker
from t3cli.store import eventlog

PAGE = 1000
_PAGES_PER_POLL = 5
# Long replies put tens of KB of text in each event: a poll reads at most about this much.
_POLL_BYTES = 4 * 1024 * 1024


class LogWatcher:
    def __init__(
        self,
        reader: DbWorker,
        *,
        cursor: int,
        interval_s: float,
        sink: Callable[[list[EventRecord]], None],
    ) -> None:
        self._reader = reader
        self.cursor = cursor
        self._interval_s = interval_s
        self._sink = sink
        self._data_version: int | None = None
        self._more = True
        self._advanced = asyncio.Event()
        self._poked = asyncio.Event()  # someone waits for events: poll now, not at the interval
        self.failure: BaseException | None = None

    def _poll(self, conn: sqlite3.Connection) -> list[EventRecord]:
        version = int(conn.execute("PRAGMA data_version").fetchone()[0])
        if version == self._data_version and not self._more:
            return []
        self._data_version = version
        events: list[EventRecord] = []
        after = self.cursor
        budget = _POLL_BYTES
        for _ in range(_PAGES_PER_POLL):
            page, full = eventlog.read_page(conn, after, PAGE, max_bytes=budget)
            events += page
            if not full:
                self._more = False
                return events
            after = page[-1].sequence
            budget -= sum(len(event.payload.get("text", "")) for event in page)
            if budget <= 0:
                break
        self._more = True
        return events

    async def poll_once(self) -> int:
        """Read and deliver whatever is new now; return how many events were delivered."""
        events = await self._reader.call(self._poll)
        if events:
            self.cursor = events[-1].sequence
            self._sink(events)
            self._advanced.set()
        return len(events)

    async def run(self) -> None:
        """Poll until cancelled. A database error other than a lock wait ends the watcher and
        is kept in `failure` (waiters on `reached` then raise it)."""
        try:
            while True:
                try:
                    delivered = await self.poll_once()
                except DatabaseLocked:
                    delivered = 0
                if not delivered or not self._more:
                    try:
                        async with asyncio.timeout(self._interval_s):
                            await self._poked.wait()
                    except TimeoutError:
                        pass
                    self._poked.clear()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self.failure = exc
            self._advanced.set()
            raise

    async def reached(self, sequence: int) -> None:
        """Return once every event up to `sequence` has been delivered."""
        while self.cursor < sequence:
            if self.failure is not None:
                raise self.failure
            self._advanced.clear()
            if self.cursor >= sequence:
                return
            self._poked.set()  # the events are committed: no need to wait for the next poll
            await self._advanced.wait()
        if self.failure is not None:
            raise self.failure

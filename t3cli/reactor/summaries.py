"""The background worker of the asynchronous projections (`thread_summaries`), and its barrier.

`thread_summaries` is never updated in the append transaction. While new events arrive, this
worker catches the asynchronous projectors up on the reactor's database thread — one batch
(`BATCH` events) per transaction, so ingestion commits interleave with it — at most once every
`min_interval_s` (100 ms): a burst of events is coalesced into one pass instead of one pass each.

`await projected(at=N)` resolves once the projectors' cursor is at or past N. If the worker fails
(a projector raised), every waiter — present and future — gets `ProjectionFailed`; the failure is
never swallowed and the cursor never moves past the event that failed. Lock waits are not
failures: they are retried on the next pass.
"""

from __future__ import annotations

import asyncio
import sqlite3

from t3cli.errors import DatabaseLocked
from t3cli.reactor.dbworker import DbWorker
from t3cli.store import eventlog, pipeline
from t3cli.store.barrier import ProjectionFailed
from t3cli.store.db import write_transaction
from t3cli.store.projectors import ASYNC_PROJECTORS

BATCH = 1000


def _step(conn: sqlite3.Connection) -> int:
    """Apply one batch to the asynchronous projectors; return their (lowest) cursor after it."""
    with write_transaction(conn):
        cursors = pipeline.prepare(conn, ASYNC_PROJECTORS)
        low = min(cursors.values(), default=0)
        batch, _ = eventlog.read_page(conn, low, BATCH)  # a size-limited page
        pipeline.apply_events(conn, ASYNC_PROJECTORS, batch, cursors)
        return min(cursors.values(), default=0)


class SummaryWorker:
    def __init__(self, writer: DbWorker, *, min_interval_s: float = 0.1) -> None:
        self._writer = writer
        self._min_interval_s = min_interval_s
        self.cursor = 0
        self._target = 0
        self._wake = asyncio.Event()
        self._waiters: list[tuple[int, asyncio.Future[int]]] = []
        self.failure: ProjectionFailed | None = None

    def notify(self, head: int) -> None:
        """New events up to `head` exist (called by the log watcher)."""
        if head > self._target:
            self._target = head
            self._wake.set()

    async def projected(self, at: int) -> int:
        """Return the cursor once it is >= `at`; raise `ProjectionFailed` if the worker failed."""
        if self.failure is not None:
            raise self.failure
        if self.cursor >= at:
            return self.cursor
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiters.append((at, future))
        self.notify(at)
        return await future

    def _settle_waiters(self) -> None:
        keep: list[tuple[int, asyncio.Future[int]]] = []
        for at, future in self._waiters:
            if future.done():
                continue
            if self.failure is not None:
                future.set_exception(self.failure)
            elif self.cursor >= at:
                future.set_result(self.cursor)
            else:
                keep.append((at, future))
        self._waiters = keep

    async def run(self) -> None:
        """Work until cancelled or failed."""
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            began = loop.time()
            while self.cursor < self._target:
                try:
                    cursor = await self._writer.call(_step)
                except DatabaseLocked:
                    break  # someone else holds the lock for long; try on the next pass
                except Exception as exc:
                    self.failure = ProjectionFailed(
                        f"the thread_summaries projection failed after sequence {self.cursor}: "
                        f"{type(exc).__name__}: {exc}",
                        hint="`t3 replay --check` shows the damage; `t3 replay` rebuilds it",
                    )
                    self._settle_waiters()
                    return
                progressed = cursor != self.cursor
                self.cursor = cursor
                self._settle_waiters()
                if not progressed:
                    # The log head is below the target (a waiter asked for a sequence not
                    # written yet): wait for the watcher to report more events.
                    break
            self._settle_waiters()
            # Coalesce: whatever arrives during this pause is handled in one pass.
            await asyncio.sleep(max(0.0, self._min_interval_s - (loop.time() - began)))

    async def start_cursor(self) -> None:
        """Read where the projection stands (before `run`)."""
        self.cursor = await self._writer.call(
            lambda conn: min(
                (pipeline.projected_up_to(conn, p) for p in ASYNC_PROJECTORS), default=0
            )
        )

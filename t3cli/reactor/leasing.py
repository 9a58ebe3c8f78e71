"""The reactor's side of thread leases: what it holds, claiming, renewing, releasing.

A reactor leases a thread while it has a lane for it (work to do) and releases it when the lane
is torn down, so leases — like lanes — exist only for threads with work, and two reactors on one
database share the threads between them. The SQL is in `t3cli.store.leases`; this class keeps the
in-memory view (`held`) consistent with it:

- a thread is in `held` only after the database said this owner holds it;
- a release is queued (`release_later`) when a lane closes and flushed by `flush_releases`;
  a thread that gets work again before the flush simply keeps its lease (`keep`);
- `renew` extends every held lease and drops from `held` any that expired and were taken over;
- `since[thread]` is the log head right after this owner acquired the thread: reactor events at
  or below it were written by the thread's previous driver (another reactor, which released it
  or died), never by this one.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Collection

from t3cli.reactor.dbworker import DbWorker
from t3cli.store import eventlog, leases


class LeaseKeeper:
    def __init__(self, writer: DbWorker, owner: str, ttl_s: float) -> None:
        self._writer = writer
        self.owner = owner
        self.ttl_s = ttl_s
        self.held: set[str] = set()
        self.since: dict[str, int] = {}
        self._releasing: set[str] = set()
        self.releases_due = asyncio.Event()

    async def claim(self, thread_ids: Collection[str]) -> set[str]:
        """Acquire what can be acquired; return every one of `thread_ids` this owner holds."""
        wanted = set(thread_ids)
        self._releasing -= wanted
        missing = wanted - self.held
        if missing:

            def acquire(conn: sqlite3.Connection) -> tuple[set[str], int]:
                got = leases.acquire(conn, self.owner, missing, self.ttl_s)
                # Read after the acquisition committed: the previous driver's writes all precede it.
                return got, eventlog.head(conn)

            got, head = await self._writer.call(acquire)
            for thread_id in got - self.held:
                self.since[thread_id] = head
            self.held |= got
        return wanted & self.held

    def _forget(self, thread_ids: Collection[str]) -> None:
        for thread_id in thread_ids:
            self.since.pop(thread_id, None)

    def keep(self, thread_id: str) -> None:
        """The thread has work again: cancel a queued release."""
        self._releasing.discard(thread_id)

    @property
    def releasing(self) -> int:
        """Held threads whose release is queued but not yet written."""
        return len(self._releasing & self.held)

    def release_later(self, thread_id: str) -> None:
        if thread_id in self.held:
            self._releasing.add(thread_id)
            self.releases_due.set()

    async def flush_releases(self) -> None:
        self.releases_due.clear()
        ids = self._releasing
        self._releasing = set()
        ids &= self.held
        if not ids:
            return
        self.held -= ids  # before the await: a new lane for one of them re-claims it
        self._forget(ids)
        await self._writer.call(lambda conn: leases.release(conn, self.owner, ids))

    async def renew(self) -> set[str]:
        """Extend every held lease; return (and forget) those that were lost."""
        ids = set(self.held)
        lost = await self._writer.call(lambda conn: leases.renew(conn, self.owner, ids, self.ttl_s))
        self.held -= lost
        self._forget(lost)
        return lost

    async def release_all(self) -> None:
        self.held.clear()
        self.since.clear()
        self._releasing.clear()
        await self._writer.call(lambda conn: leases.release(conn, self.owner))

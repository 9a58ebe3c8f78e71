"""A dedicated OS thread per SQLite connection, so that no lock wait ever blocks the event loop.

`DbWorker.call(fn)` runs `fn(conn)` on the worker's thread and awaits the result; calls run one
at a time, in submission order (FIFO). `DbWorker.dispatch(commands)` sends reactor commands
through `Engine.dispatch_many` with **group commit**: submissions that queue up while the thread is
busy are committed together in one `BEGIN IMMEDIATE` transaction (capped at `MAX_GROUP` commands),
and each caller gets back exactly the outcomes of its own commands, in order. Grouping never
changes outcomes: every command is decided against the state its predecessors left, and
commands are idempotent by id, so a caller that retries after a database error is safe.

Between two groups the worker pauses briefly: SQLite's lock waiting is unfair, and a writer that
re-takes the lock at once can starve another process (`t3 queue`) for a second.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from t3cli.contracts.commands import Command
from t3cli.domain.decider import Limits
from t3cli.domain.rejections import CommandRejected
from t3cli.engine import DispatchResult, Engine

T = TypeVar("T")
Outcome = DispatchResult | CommandRejected
MAX_GROUP = 200
_PAUSE_BETWEEN_GROUPS_S = 0.001


@dataclass(slots=True)
class _Submission:
    commands: list[Command]
    future: asyncio.Future[list[Outcome]]
    loop: asyncio.AbstractEventLoop


def _settle(future: asyncio.Future[list[Outcome]], value: list[Outcome] | BaseException) -> None:
    if future.done():  # the waiter was cancelled; the commit happened anyway (idempotent)
        return
    if isinstance(value, BaseException):
        future.set_exception(value)
    else:
        future.set_result(value)


class DbWorker:
    """One connection, one thread. Create it, `await start()`, use it, `await close()`."""

    def __init__(
        self,
        name: str,
        opener: Callable[[], sqlite3.Connection],
        *,
        limits: Limits | None = None,
    ) -> None:
        self._name = name
        self._opener = opener
        self._limits = limits or Limits()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._conn: sqlite3.Connection | None = None
        self._engine: Engine | None = None
        self._lock = threading.Lock()
        self._pending: list[_Submission] = []
        self._flush_scheduled = False

    async def start(self) -> None:
        """Open the connection on the worker thread (it is only ever used there)."""
        await asyncio.get_running_loop().run_in_executor(self._executor, self._open)

    def _open(self) -> None:
        self._conn = self._opener()
        self._engine = Engine(self._conn, limits=self._limits)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError(f"{self._name}: not started")
        return self._conn

    async def call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(conn)` on the worker thread; FIFO with every other call and dispatch."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(self._connection()))

    async def dispatch(self, commands: Sequence[Command]) -> list[Outcome]:
        """Commit `commands` (possibly grouped with other callers'); return their outcomes.
        Raises `t3cli.errors.DatabaseError` if the transaction failed (nothing of it committed)."""
        if not commands:
            return []
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Outcome]] = loop.create_future()
        with self._lock:
            self._pending.append(_Submission(list(commands), future, loop))
            schedule = not self._flush_scheduled
            self._flush_scheduled = True
        if schedule:
            self._executor.submit(self._flush)
        return await future

    async def dispatch_one(self, command: Command) -> Outcome:
        return (await self.dispatch([command]))[0]

    def _take_group(self) -> list[_Submission]:
        with self._lock:
            group: list[_Submission] = []
            count = 0
            while self._pending and (
                not group or count + len(self._pending[0].commands) <= MAX_GROUP
            ):
                submission = self._pending.pop(0)
                group.append(submission)
                count += len(submission.commands)
            if self._pending:
                self._executor.submit(self._flush)
            else:
                self._flush_scheduled = False
            return group

    def _flush(self) -> None:
        group = self._take_group()
        if not group:
            return
        engine = self._engine
        assert engine is not None
        commands = [command for submission in group for command in submission.commands]
        try:
            outcomes: list[Outcome] | BaseException = engine.dispatch_many(commands)
        except BaseException as exc:  # delivered to every caller of the group, never lost
            outcomes = exc
        index = 0
        for submission in group:
            if isinstance(outcomes, BaseException):
                value: list[Outcome] | BaseException = outcomes
            else:
                value = outcomes[index : index + len(submission.commands)]
                index += len(submission.commands)
            submission.loop.call_soon_threadsafe(_settle, submission.future, value)
        with self._lock:
            more = bool(self._pending)
        if more:
            time.sleep(_PAUSE_BETWEEN_GROUPS_S)

    async def close(self) -> None:
        """Close the connection (after every queued call) and stop the thread."""
        loop = asyncio.get_running_loop()

        def shut() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        try:
            await loop.run_in_executor(self._executor, shut)
        finally:
            await loop.run_in_executor(None, self._executor.shutdown)

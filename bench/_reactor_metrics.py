"""In-process reactor benchmarks: draining queued turns, and ingesting a streamed turn.

Both drive the real `Reactor` (as `tests/reactor/conftest.py` does) on a fresh T3_HOME with the
`echo` provider, so what is measured is the orchestration's own cost: leases, lanes, drain
policy, provider plumbing, ingestion and every commit through `Engine.dispatch_many`.

- `drain_turns_per_s`: T threads with K queued turns each; wall time from `Reactor.start()` until
  `drain()` returns with every turn completed (the reactor's `max_concurrent` from the config,
  default 8; echo delay 0). Rate = T*K / that time.
- `stream`: one turn whose echo reply is D one-character deltas with no delay. Reported: events
  appended to the log from the turn's start to its end (everything the reactor wrote for it), and
  the process CPU time (`time.process_time`, every thread of the process) from `start()` to
  `drain()`. A durable event per delta would be D events; coalescing makes it a handful.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import _homes
from t3cli.config import Config
from t3cli.providers.registry import get_provider
from t3cli.reactor import Reactor, ReactorOptions
from t3cli.store import eventlog


def _options(config: Config) -> ReactorOptions:
    settings = config.reactor
    return ReactorOptions(
        max_concurrent=settings.max_concurrent,
        poll_interval_s=settings.poll_interval_ms / 1000,
        lease_ttl_s=settings.lease_ttl_s,
    )


@dataclass(frozen=True, slots=True)
class _Run:
    wall_s: float
    cpu_s: float
    outcomes: dict[str, int]
    head: int  # the log head once drained (before `close()` records sessions stopped)


async def _run_until_drained(db: Path, config: Config) -> _Run:
    """Time from `start()` to `drain()` returning. The provider modules (pydantic options) are
    imported before: a one-time cost of the process, not of the turns."""
    get_provider(config, "echo")
    reactor = Reactor(db, config, _options(config))
    wall, cpu = time.perf_counter(), time.process_time()
    await reactor.start()
    try:
        await reactor.drain()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        head = await reactor.reader.call(eventlog.head)
    finally:
        await reactor.close()
    return _Run(wall, cpu, dict(reactor.outcomes), head)


@dataclass(frozen=True, slots=True)
class DrainResult:
    turns: int
    seconds: float

    @property
    def per_s(self) -> float:
        return self.turns / self.seconds


def drain(threads: int, turns_per_thread: int) -> DrainResult:
    with tempfile.TemporaryDirectory(prefix="t3-bench-drain-") as tmp:
        home = Path(tmp)
        config = _homes.make_home(home)
        engine = _homes.open_engine(home)
        try:
            ids = _homes.create_threads(engine, threads)
            pairs = [(t, f"turn {k} of {t[:6]}") for k in range(turns_per_thread) for t in ids]
            _homes.dispatch_all(engine, _homes.queue_commands(pairs))
        finally:
            engine.conn.close()
        run = asyncio.run(_run_until_drained(home / "t3.db", config))
    expected = threads * turns_per_thread
    if run.outcomes != {"completed": expected}:
        raise RuntimeError(f"drain: expected {expected} completed turns, got {run.outcomes}")
    return DrainResult(expected, run.wall_s)


@dataclass(frozen=True, slots=True)
class StreamResult:
    deltas: int
    events: int  # events appended for the turn, from send.start to the session's final status
    message_events: int  # of which assistant-text chunks
    cpu_ms: float
    wall_ms: float


def stream(deltas: int) -> StreamResult:
    text = "".join(chr(ord("a") + n % 26) for n in range(deltas))
    with tempfile.TemporaryDirectory(prefix="t3-bench-stream-") as tmp:
        home = Path(tmp)
        config = _homes.make_home(home)
        engine = _homes.open_engine(home)
        try:
            (thread_id,) = _homes.create_threads(engine, 1, provider="stream")
            _homes.dispatch_all(engine, _homes.queue_commands([(thread_id, text)]))
            before = _homes.count(engine.conn, "SELECT max(sequence) FROM events")
            run = asyncio.run(_run_until_drained(home / "t3.db", config))
            if run.outcomes != {"completed": 1}:
                raise RuntimeError(f"stream: the turn did not complete: {run.outcomes}")
            chunks = _homes.count(
                engine.conn,
                "SELECT count(*) FROM events WHERE sequence > ? AND sequence <= ?"
                " AND type = 'thread.message-sent'",
                before, run.head,
            )  # fmt: skip
            reply = engine.conn.execute(
                "SELECT text FROM messages WHERE thread_id = ? AND role = 'assistant'",
                (thread_id,),
            ).fetchone()
        finally:
            engine.conn.close()
    if reply is None or reply[0] != text:
        raise RuntimeError("stream benchmark: the persisted reply differs from the streamed text")
    return StreamResult(deltas, run.head - before, chunks, run.cpu_s * 1000, run.wall_s * 1000)

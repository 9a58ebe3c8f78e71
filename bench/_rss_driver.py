"""Subprocess of the RSS benchmark: one reactor serving many threads, one turn each.

    python bench/_rss_driver.py T3_HOME SMALL LARGE BATCH

The home holds a config and at least LARGE threads (no queued turns). This process starts one
`Reactor` (the config's settings, echo provider, delay 0) and keeps it running throughout. It
queues one turn on each of the first SMALL threads, BATCH threads at a time, waiting for
`drain()` after each batch; then reads its own RSS (`VmRSS` in /proc/self/status, after
`gc.collect()` and once the lease releases are flushed). Then it does the same for threads up to
LARGE and reads RSS again. Prints one JSON object: rss_small_kb, rss_large_kb, turns, seconds.
Queueing goes through an `Engine` on its own connection, as `t3 queue` would (in this process so
that nothing but the reactor's own state can differ between the two readings).
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from t3cli.config import load_config
from t3cli.contracts import commands as c
from t3cli.contracts.ids import new_id
from t3cli.engine import Engine
from t3cli.reactor import Reactor, ReactorOptions
from t3cli.store.db import connect


def vmrss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


async def _serve(reactor: Reactor, engine: Engine, thread_ids: list[str], batch: int) -> None:
    for start in range(0, len(thread_ids), batch):
        commands: list[c.Command] = [
            c.TurnQueue(command_id=new_id(), thread_id=t, queue_item_id=new_id(),
                        message_id=new_id(), text=f"hello {t[:8]}")
            for t in thread_ids[start : start + batch]
        ]  # fmt: skip
        for outcome in engine.dispatch_many(commands):
            if isinstance(outcome, Exception):
                raise outcome
        await reactor.drain()
    await reactor.keeper.flush_releases()


async def main(home: Path, small: int, large: int, batch: int) -> dict[str, object]:
    config = load_config(home / "config.toml")
    db = home / "t3.db"
    engine = Engine(connect(db, durability="normal"))
    rows = engine.conn.execute("SELECT thread_id FROM threads ORDER BY created_sequence")
    thread_ids = [row[0] for row in rows.fetchall()][:large]
    settings = config.reactor
    reactor = Reactor(
        db,
        config,
        ReactorOptions(
            max_concurrent=settings.max_concurrent,
            poll_interval_s=settings.poll_interval_ms / 1000,
            lease_ttl_s=settings.lease_ttl_s,
        ),
    )
    began = time.perf_counter()
    await reactor.start()
    try:
        await _serve(reactor, engine, thread_ids[:small], batch)
        gc.collect()
        rss_small = vmrss_kb()
        await _serve(reactor, engine, thread_ids[small:], batch)
        gc.collect()
        rss_large = vmrss_kb()
    finally:
        await reactor.close()
        engine.conn.close()
    completed = reactor.outcomes.get("completed", 0)
    if completed != len(thread_ids):
        raise RuntimeError(f"expected {len(thread_ids)} completed turns, got {reactor.outcomes}")
    return {
        "rss_small_kb": rss_small,
        "rss_large_kb": rss_large,
        "turns": completed,
        "seconds": round(time.perf_counter() - began, 2),
    }


if __name__ == "__main__":
    home_arg, small_arg, large_arg, batch_arg = sys.argv[1:5]
    result = asyncio.run(main(Path(home_arg), int(small_arg), int(large_arg), int(batch_arg)))
    print(json.dumps(result))

"""The delivery storm: `t3 run` SIGKILLed again and again while real agent processes work, and a
ledger the agents keep themselves says what each of them received, and beside whom.

Workload: THREADS threads x PER_THREAD queued messages of ~100 KB (past a pipe's 64 KB), run by
`ledger_agent.py` through a `command` provider: each agent reads its message slowly, writes a
ledger line (bytes received against the length the message states, pid, whether another agent
of the same thread was still alive — an `flock` its whole process group holds), then works for
0.3-2 s in its process group (a child of it holds the lock too) and answers. A `t3 run` (in
each `--recover` mode) is SIGKILLed at seeded random moments, KILLS times; `t3 replay --check`
after every kill; between kills the "user" retries most items a kill failed; at the end
`t3 run --until-idle` settles the rest. Counted from the ledger and the log:

- agents that outlived their reactor: alive a second after it was SIGKILLed — must be 0;
- deliveries per message, against what the log accounts for: each delivery is a recorded turn
  start, and turn starts are 1 + the user's retries (at most once), plus the reactor's own
  re-sends (`--recover resend`) — any delivery beyond that is a message sent twice behind the
  user's back;
- truncated deliveries (received != stated length) — must be 0;
- overlapping agents of one thread (the lock still held by an earlier agent's group) — 0;
- agents left alive at the end — 0.

T3_STORM_SEED replays a schedule; T3_STORM_KILLS, T3_STORM_THREADS and T3_STORM_MESSAGES make
it bigger; T3_STORM_FIGURES=path.json writes the figures (one object per mode).
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.ledger_agent import header
from tests.reliability.support import (
    in_process,
    read_only,
    retry_some,
    run_t3,
    sigkill_after,
    spawn_t3,
    write_config,
)
from tests.reliability.test_chaos import events_of
from tests.reliability.test_delivery import AGENT, alive, ledger_lines

KILLS = int(os.environ.get("T3_STORM_KILLS", "8"))
THREADS = int(os.environ.get("T3_STORM_THREADS", "5"))
PER_THREAD = int(os.environ.get("T3_STORM_MESSAGES", "6"))
MESSAGE_BYTES = 99_900
RETRY_PROBABILITY = 0.75
ORPHAN_GRACE_S = 1.0  # an agent's group dies within milliseconds of its reactor


def storm_config(ledger: Path) -> str:
    return f"""
[reactor]
poll_interval_ms = 20
lease_ttl_s = 3

[providers.ledger]
kind = "command"
argv = [{sys.executable!r}, {str(AGENT)!r}]
env = {{ LEDGER_DIR = {str(ledger)!r}, LEDGER_WORK_S = "0.3-2.0" }}
"""


def _figures_out(mode: str, figures: dict[str, Any]) -> None:
    out = os.environ.get("T3_STORM_FIGURES")
    if not out:
        return
    path = Path(out)
    data = json.loads(path.read_text()) if path.exists() else {}
    data[mode] = figures
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["at-most-once", "resend"])
def test_every_message_is_delivered_whole_once_and_alone(
    mode: str, t3_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed = int(os.environ.get("T3_STORM_SEED") or random.SystemRandom().randrange(2**32))
    print(f"\nstorm seed ({mode}): {seed} (T3_STORM_SEED={seed} replays the schedule)")
    rng = random.Random(seed)
    ledger = tmp_path / "ledger"
    ledger.mkdir()
    write_config(t3_home, storm_config(ledger))
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)

    items: dict[str, str] = {}  # queue item -> message id
    for t in range(THREADS):
        made = in_process("new", "--provider", "ledger", "--title", f"storm {t}")
        assert made.code == 0, made
        thread = made.stdout.strip()
        for n in range(PER_THREAD):
            msg = f"t{t}n{n}"
            queued = in_process("queue", thread, header(msg, thread[:8], MESSAGE_BYTES))
            assert queued.code == 0, queued
            items[queued.stdout.strip()] = msg

    db = t3_home / "t3.db"
    log = tmp_path / "reactor.log"
    run_args = ("run", "--recover", mode)
    kills = retries = outlived = 0
    deadline = time.monotonic() + 400
    reactor = spawn_t3(t3_home, *run_args, out=log)
    while True:
        assert time.monotonic() < deadline, f"storm overran (seed {seed})"
        sigkill_after(reactor, rng.uniform(0.3, 2.0), log, seed)
        kills += 1
        working = [int(line["pid"]) for line in ledger_lines(ledger)]
        if kills == KILLS:
            break
        # The next reactor starts at once: what it re-sends would run beside the dead one's
        # agents if they outlived it.
        reactor = spawn_t3(t3_home, *run_args, out=log)
        time.sleep(ORPHAN_GRACE_S)
        outlived += sum(1 for pid in working if alive(pid))
        check = run_t3(t3_home, "replay", "--check")  # safe beside a running reactor
        assert check.code == 0, f"replay --check failed after kill {kills} (seed {seed}):\n{check}"
        retries += retry_some(db, rng, RETRY_PROBABILITY)
    time.sleep(ORPHAN_GRACE_S)
    outlived += sum(1 for pid in working if alive(pid))

    final = run_t3(t3_home, "run", "--until-idle", "--recover", mode, timeout=240)
    assert final.code in (0, 5), f"final `t3 run --until-idle` (seed {seed}):\n{final}"
    check = run_t3(t3_home, "replay", "--check")
    assert check.code == 0, f"replay --check failed at the end (seed {seed}):\n{check}"

    figures = count_deliveries(db, ledger, items, mode)
    figures.update(seed=seed, kills=kills, user_retries=retries, outlived_reactor=outlived)
    print(f"storm figures ({mode}):", json.dumps(figures, sort_keys=True))
    _figures_out(mode, figures)
    assert figures["outlived_reactor"] == 0, f"agents outlived their reactor (seed {seed})"
    assert figures["truncated"] == 0, f"truncated deliveries (seed {seed})"
    assert figures["overlapping"] == 0, f"agents overlapped on a thread (seed {seed})"
    assert figures["unaccounted"] == 0, f"deliveries the log does not know of (seed {seed})"
    assert figures["beyond_retries"] == 0, f"messages sent twice behind the user (seed {seed})"
    assert figures["alive_at_end"] == 0, f"agents outlived every reactor (seed {seed})"
    assert figures["delivered_then_killed"] > 0, "no kill landed while an agent ran: proves nothing"


def count_deliveries(db: Path, ledger: Path, items: dict[str, str], mode: str) -> dict[str, Any]:
    """The storm's figures, from the agents' ledger and the log."""
    lines = ledger_lines(ledger)
    by_msg = {msg: item for item, msg in items.items()}
    # An agent that read nothing at all cannot name its message ("?"): a truncated delivery.
    deliveries = Counter(str(line["msg"]) for line in lines if line["msg"] != "?")
    assert set(deliveries) <= set(by_msg), "a delivery of a message nobody queued"
    conn = read_only(db)
    try:
        turn_item = {
            str(p["turn_id"]): str(p["queue_item_id"])
            for _, _, p in events_of(conn, "thread.queued-turn-send-started")
        }
        started = Counter(
            turn_item.get(str(p["turn_id"])) for _, _, p in events_of(conn, "thread.turn-started")
        )
        requeues = Counter(
            (actor, str(p["queue_item_id"]))
            for _, actor, p in events_of(conn, "thread.queued-turn-requeued")
        )
        resolved = {
            str(p["queue_item_id"]) for _, _, p in events_of(conn, "thread.queued-turn-resolved")
        }
        answers = Counter(
            row[0]
            for row in conn.execute(
                "SELECT text FROM messages WHERE role = 'assistant' AND complete = 1"
            )
        )
    finally:
        conn.close()
    unaccounted = beyond = 0
    for msg, item in by_msg.items():
        delivered = deliveries[msg]
        unaccounted += max(0, delivered - started[item])
        allowed = 1 + requeues[("user", item)]
        if mode == "resend":
            allowed += requeues[("reactor", item)]
        beyond += max(0, delivered - allowed)
        if item in resolved:
            assert answers[f"done {msg}\n"] == 1, f"{msg}: resolved without exactly one answer"
    if mode == "at-most-once":
        assert not any(actor == "reactor" for actor, _ in requeues), "at-most-once re-sent"
    return {
        "messages": len(items),
        "deliveries": len(lines),
        "messages_delivered_twice_or_more": sum(1 for n in deliveries.values() if n > 1),
        "delivered_then_killed": len(lines) - len(resolved),
        "completed": len(resolved),
        "truncated": sum(1 for line in lines if line["received"] != line["expect"]),
        "overlapping": sum(1 for line in lines if line["overlap"]),
        "unaccounted": unaccounted,
        "beyond_retries": beyond,
        "reactor_resends": sum(n for (actor, _), n in requeues.items() if actor == "reactor"),
        "turns_started": sum(started.values()),
        "alive_at_end": sum(1 for line in lines if alive(int(line["pid"]))),
    }

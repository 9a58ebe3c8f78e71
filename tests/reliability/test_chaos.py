"""Crash chaos: `t3 run` SIGKILLed at random moments, restarted, and nothing lost or sent twice.

Workload: 300 queued turns over 20 threads on an echo provider slow enough (a few 30 ms deltas per
turn) that kills land mid-turn. A `t3 run` subprocess (default `--recover at-most-once`) is
killed with SIGKILL at seeded random moments at least 20 times; after every kill
`t3 replay --check` must pass, and the next `t3 run` recovers what the dead one left.

Between kills the "user" retries some of the items a kill failed (`t3 retry`, as a person would
after reading the reason) so the workload keeps flowing and later kills still land mid-turn;
at the end nothing is retried and `t3 run --until-idle` settles the rest. Then every queued item
must be accounted for:

- resolved: its turn completed exactly once, and the reply is the message (echo), once;
- failed with the reactor-stopped reason, blocking its thread;
- pending behind a failed head (never reached an agent);

and, under at-most-once, no item reached an agent more often than the user asked for it:
`thread.turn-started` per item <= 1 + user retries of that item (<= 1 for an item never retried).

Set T3_CHAOS_SEED to replay a run; T3_CHAOS_KILLS to kill more often.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from t3cli.reactor.recovery import RETRY_REASON
from tests.reliability.support import (
    in_process,
    read_only,
    retry_some,
    run_t3,
    sigkill_after,
    spawn_t3,
    write_config,
)

THREADS = 20
PER_THREAD = 15
KILLS = int(os.environ.get("T3_CHAOS_KILLS", "20"))
RETRY_PROBABILITY = 0.75

CONFIG = """
[reactor]
poll_interval_ms = 20
lease_ttl_s = 3

[providers.echo]
kind = "echo"
chunk_chars = 6
delay_s = 0.03
"""


def figures_path() -> Path | None:
    out = os.environ.get("T3_CHAOS_FIGURES")
    return Path(out) if out else None


def sending_count(db: Path) -> int:
    conn = read_only(db)
    try:
        return int(conn.execute("SELECT count(*) FROM queued_turns WHERE status = 'sending'")
                   .fetchone()[0])  # fmt: skip
    finally:
        conn.close()


def events_of(conn: sqlite3.Connection, type_: str) -> list[tuple[int, str, dict[str, object]]]:
    rows = conn.execute(
        "SELECT sequence, actor, payload FROM events WHERE type = ? ORDER BY sequence", (type_,)
    ).fetchall()
    return [(r[0], r[1], json.loads(r[2])) for r in rows]


@pytest.mark.slow
def test_sigkilled_reactor_loses_nothing_and_sends_nothing_twice(
    t3_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed = int(os.environ.get("T3_CHAOS_SEED") or random.SystemRandom().randrange(2**32))
    print(f"\nchaos seed: {seed} (T3_CHAOS_SEED={seed} replays the schedule)")
    rng = random.Random(seed)
    write_config(t3_home, CONFIG)
    db = t3_home / "t3.db"
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)

    # The workload, queued in-process (fast); the reactor runs as a real subprocess.
    queued: dict[str, str] = {}  # queue item id -> message
    threads: list[str] = []
    for t in range(THREADS):
        out = in_process("new", "--title", f"chaos {t}")
        assert out.code == 0, out
        threads.append(out.stdout.strip())
    for n in range(PER_THREAD):
        for t, thread in enumerate(threads):
            text = f"chaos t{t} n{n}" + " lorem ipsum" * rng.randint(1, 4)
            out = in_process("queue", thread, text)
            assert out.code == 0, out
            queued[out.stdout.strip()] = text
    assert len(queued) == THREADS * PER_THREAD >= 300

    log = tmp_path / "reactor.log"
    kills = replay_checks = kills_mid_turn = retries = 0
    deadline = time.monotonic() + 240
    while kills < KILLS:
        assert time.monotonic() < deadline, f"chaos loop overran (seed {seed})"
        reactor = spawn_t3(t3_home, "run", out=log)
        # Startup (imports, bootstrap, recovery) is ~0.3-0.6 s here: kills land during it too.
        sigkill_after(reactor, rng.uniform(0.15, 1.6), log, seed)
        kills += 1

        check = run_t3(t3_home, "replay", "--check")
        assert check.code == 0, f"replay --check failed after kill {kills} (seed {seed}):\n{check}"
        replay_checks += 1

        # An item left `sending` means the kill landed mid-send; the next `t3 run` recovers it.
        if sending_count(db):
            kills_mid_turn += 1
        retries += retry_some(db, rng, RETRY_PROBABILITY)

    final = run_t3(t3_home, "run", "--until-idle", timeout=180)
    # Exit status says whether a turn failed; what matters is that it settled everything.
    assert final.code in (0, 5), f"final `t3 run --until-idle` (seed {seed}):\n{final}"
    check = run_t3(t3_home, "replay", "--check")
    assert check.code == 0, f"replay --check failed at the end (seed {seed}):\n{check}"
    replay_checks += 1

    figures = account(db, queued, seed)
    figures.update(
        kills=kills,
        kills_mid_send=kills_mid_turn,
        user_retries=retries,
        replay_checks_passed=replay_checks,
    )
    print("chaos figures:", json.dumps(figures, sort_keys=True))
    if (path := figures_path()) is not None:
        path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    assert figures["duplicates"] == 0
    assert figures["recovered_failures"] > 0, "no kill landed mid-turn: the test proves nothing"
    assert figures["completed"] > 0


def account(db: Path, queued: dict[str, str], seed: int) -> dict[str, int]:
    """Check every queued item is resolved once, failed with the reason, or waiting behind a
    failed head; and that no item reached an agent more often than the user asked. Returns the
    figures for the report."""
    conn = read_only(db)
    try:
        queued_events = events_of(conn, "thread.turn-queued")
        assert {p["queue_item_id"] for _, _, p in queued_events} == set(queued), (
            f"the log does not hold exactly the queued items (seed {seed})"
        )
        turn_item: dict[str, str] = {}
        for _, _, p in events_of(conn, "thread.queued-turn-send-started"):
            turn_item[str(p["turn_id"])] = str(p["queue_item_id"])
        started = Counter(
            turn_item.get(str(p["turn_id"]), "?")
            for _, _, p in events_of(conn, "thread.turn-started")
        )
        assert "?" not in started, f"a turn started that no queued item sent (seed {seed})"
        user_retries = Counter(
            str(p["queue_item_id"])
            for _, actor, p in events_of(conn, "thread.queued-turn-requeued")
            if actor == "user"
        )
        reactor_requeues = [p for _, actor, p in events_of(conn, "thread.queued-turn-requeued")
                            if actor != "user"]  # fmt: skip
        assert not reactor_requeues, "at-most-once must never requeue behind the user's back"
        completed_turns: dict[str, list[str]] = defaultdict(list)
        turn_statuses: Counter[str] = Counter()
        for _, _, p in events_of(conn, "thread.turn-completed"):
            turn_statuses[str(p["status"])] += 1
            item = turn_item.get(str(p["turn_id"]))
            if item is not None and p["status"] == "completed":
                completed_turns[item].append(str(p["turn_id"]))
        resolved = {str(p["queue_item_id"]): str(p["turn_id"])
                    for _, _, p in events_of(conn, "thread.queued-turn-resolved")}  # fmt: skip
        in_queue = {
            r[0]: (r[1], r[2], r[3], r[4])
            for r in conn.execute(
                "SELECT queue_item_id, thread_id, status, failure_reason, position"
                " FROM queued_turns"
            )
        }
        heads = {
            r[0]: r[1]
            for r in conn.execute(
                "SELECT thread_id, status FROM queued_turns q WHERE position ="
                " (SELECT min(position) FROM queued_turns WHERE thread_id = q.thread_id)"
            )
        }
        replies: dict[str, list[str]] = defaultdict(list)
        for turn_id, reply in conn.execute(
            "SELECT turn_id, text FROM messages WHERE role = 'assistant' ORDER BY sequence"
        ):
            replies[turn_id].append(reply)
        counts = Counter[str]()
        duplicates = 0
        for item, text in queued.items():
            if started[item] > 1 + user_retries[item]:
                duplicates += 1
            assert len(completed_turns[item]) <= 1, f"{item} completed twice (seed {seed})"
            if item in resolved:
                assert item not in in_queue, f"{item} resolved but still queued (seed {seed})"
                assert completed_turns[item] == [resolved[item]], (
                    f"{item} resolved without its completed turn (seed {seed})"
                )
                assert replies[resolved[item]] == [text], (
                    f"{item}: the reply is not the message exactly once (seed {seed}):"
                    f" {replies[resolved[item]]!r} != {[text]!r}"
                )
                counts["completed"] += 1
                continue
            assert item in in_queue, f"{item} was lost: neither resolved nor queued (seed {seed})"
            thread, status, reason, _ = in_queue[item]
            assert status != "sending", f"{item} left sending after --until-idle (seed {seed})"
            if status == "failed":
                assert reason == RETRY_REASON, f"{item} failed with {reason!r} (seed {seed})"
                counts["failed_with_reason"] += 1
            else:
                assert status == "pending"
                assert heads[thread] == "failed", (
                    f"{item} pending on a thread whose head is not failed (seed {seed})"
                )
                counts["pending_behind_failed_head"] += 1
        assert sum(counts.values()) == len(queued)
        recovered = sum(
            1 for _, _, p in events_of(conn, "thread.queued-turn-send-failed")
            if p["reason"] == RETRY_REASON
        )  # fmt: skip
        return {
            "seed": seed,
            "queued": len(queued),
            "completed": counts["completed"],
            "failed_with_reason": counts["failed_with_reason"],
            "pending_behind_failed_head": counts["pending_behind_failed_head"],
            "lost": 0,
            "duplicates": duplicates,
            "recovered_failures": recovered,
            "turns_started": sum(started.values()),
            "turn_statuses": dict(turn_statuses),  # type: ignore[dict-item]
        }
    finally:
        conn.close()

"""Several processes writing one database file at once (real processes, real file locks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from t3cli.contracts.ids import new_id
from t3cli.engine import Engine
from t3cli.store.db import connect

from .support import (
    assert_log_contiguous,
    assert_projections_equal_rebuild,
    assert_queue_invariants,
    assert_replay_check_ok,
    project_command,
    thread_command,
)

WORKER = Path(__file__).with_name("dispatch_worker.py")


def run_workers(
    tmp: Path, db: Path, mode: str, specs: list[dict[str, Any]]
) -> list[list[dict[str, Any]]]:
    """Start one process per spec, release them together, and return each one's outcomes."""
    go = tmp / f"go-{mode}"
    procs = []
    for index, base in enumerate(specs):
        spec = {
            **base, "index": index, "db": str(db), "go": str(go),
            "ready": str(tmp / f"ready-{mode}-{index}"),
            "out": str(tmp / f"out-{mode}-{index}.json"),
        }  # fmt: skip
        specs[index] = spec
        procs.append(
            subprocess.Popen(
                [sys.executable, str(WORKER), mode, json.dumps(spec)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
            )
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while not all(Path(spec["ready"]).exists() for spec in specs):
        assert time.monotonic() < deadline, "workers did not start"
        assert all(proc.poll() is None for proc in procs), [p.communicate() for p in procs]
        time.sleep(0.01)
    go.touch()
    results = []
    for proc, spec in zip(procs, specs, strict=True):
        _, stderr = proc.communicate(timeout=180)
        assert Path(spec["out"]).exists(), stderr
        report = json.loads(Path(spec["out"]).read_text())
        assert report["error"] is None, report["error"]
        assert proc.returncode == 0, stderr
        results.append(report["outcomes"])
    return results


def setup_shared_thread(db: Path) -> str:
    conn = connect(db)
    engine = Engine(conn)
    engine.dispatch(project_command())
    shared = new_id()
    engine.dispatch(thread_command(shared))
    conn.close()
    return shared


def test_four_processes_dispatching_hundreds_of_commands(tmp_path: Path, db_path: Path) -> None:
    shared = setup_shared_thread(db_path)
    results = run_workers(
        tmp_path, db_path, "mixed", [{"commands": 300, "shared_thread": shared} for _ in range(4)]
    )
    outcomes = [o for worker in results for o in worker]
    assert len(outcomes) >= 4 * 300

    conn = connect(db_path)
    try:
        assert_log_contiguous(conn)

        accepted = {o["command_id"]: o for o in outcomes if o["status"] == "accepted"}
        rejected = [o for o in outcomes if o["status"] == "rejected"]
        assert len(accepted) + len(rejected) == len(outcomes), "a command id was used twice"
        assert not any(o["duplicate"] for o in accepted.values())
        # The only expected rejections: losing a race to send the shared thread's head.
        unexpected = [o for o in rejected if o["type"] != "thread.queued-turn.send.start"]
        assert not unexpected, unexpected[:5]
        types = Counter(o["type"] for o in accepted.values())
        assert types["thread.turn.queue"] > 400 and types["thread.queued-turn.send.start"] > 50
        assert types["thread.create"] >= 4 and types["thread.turn.completed"] > 50

        receipts = {
            row[0]: row[1:]
            for row in conn.execute(
                "SELECT command_id, status, result_sequence FROM command_receipts"
            )
        }
        # Every accepted command has exactly one receipt (command_id is the key), with the
        # sequence its dispatcher was told; reactor rejections leave none.
        for command_id, outcome in accepted.items():
            assert receipts[command_id] == ("accepted", outcome["sequence"]), command_id
        assert all(o["command_id"] not in receipts for o in rejected)
        setup_commands = 2
        assert len(receipts) == len(accepted) + setup_commands

        by_command = Counter(
            row[0] for row in conn.execute("SELECT command_id FROM events").fetchall()
        )
        for command_id, outcome in accepted.items():
            assert by_command[command_id] == len(outcome["events"]), command_id
        assert sum(by_command.values()) == conn.execute("SELECT count(*) FROM events").fetchone()[0]

        # The shared thread's versions interleave all four writers and still have no gap.
        versions = [
            row[0]
            for row in conn.execute(
                "SELECT stream_version FROM events WHERE stream_id = ? ORDER BY sequence", (shared,)
            )
        ]
        assert versions == list(range(1, len(versions) + 1)) and len(versions) > 400

        assert_queue_invariants(conn)
        assert_projections_equal_rebuild(conn)
        assert_replay_check_ok(conn)
    finally:
        conn.close()


def test_same_command_ids_from_two_processes_append_once(tmp_path: Path, db_path: Path) -> None:
    shared = setup_shared_thread(db_path)
    n = 150
    results = run_workers(
        tmp_path, db_path, "same",
        [{"commands": n, "shared_thread": shared, "seed": "s1"} for _ in range(2)],
    )  # fmt: skip
    first, second = ({o["command_id"]: o for o in worker} for worker in results)
    assert set(first) == set(second) and len(first) == n
    raced = 0
    for command_id, a in first.items():
        b = second[command_id]
        assert a["status"] == b["status"] == "accepted"
        assert sorted([a["duplicate"], b["duplicate"]]) == [False, True], command_id
        assert a["sequence"] == b["sequence"] and a["events"] == b["events"]
        raced += 1
    assert raced == n

    conn = connect(db_path)
    try:
        counts = Counter(
            row[0]
            for row in conn.execute("SELECT command_id FROM events WHERE stream_id = ?", (shared,))
        )
        assert all(counts[command_id] == 2 for command_id in first)
        assert conn.execute("SELECT count(*) FROM queued_turns").fetchone()[0] == n
        assert_log_contiguous(conn)
        assert_queue_invariants(conn)
        assert_replay_check_ok(conn)
    finally:
        conn.close()

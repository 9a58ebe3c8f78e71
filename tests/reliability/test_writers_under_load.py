"""Writers under load: 8 writer processes and one draining `t3 run`, all on one database.

Each writer owns two threads and issues a seeded mix of `t3 queue`, `t3 send --no-wait
--queue-if-busy`, `t3 retry` and `t3 queue cancel`. Every command is issued twice with the same
`--command-id`: either twice in-process (`main()` in the writer process) one after the other, or
as two real `t3` subprocesses started at the same moment. Messages carry the writer's counter.

Then: no "database is locked" ever reaches a user (no exit 6, nothing locked on stderr, no
traceback, no exit 1), the log's sequences are 1..max with no gap, every thread's user messages
(and its queued items) are in the order its writer issued them, every command id was applied at
most once (an accepted id printed the same ids both times; a rejected one failed the same way),
and `t3 replay --check` passes.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import sqlite3
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import t3_executable
from tests.reliability.support import (
    in_process,
    read_only,
    reported_events_missing,
    run_t3,
    spawn_t3,
    t3_env,
    wait_until,
    write_config,
)

# t3cli/store/db.py `_check_header` reads the database file with Python's open()/close() before
# every `connect()`. Closing any descriptor of a file drops *all* of this process's POSIX locks on
# it (fcntl semantics), including those SQLite holds for connections already open. A reactor opens
# several connections, so it loses its shared lock on t3.db; the next `t3 queue` in another
# process believes it is the last connection, checkpoints and deletes the WAL, and the reactor's
# later commits go to the deleted WAL: turns it ran vanish from the log (and get sent again).
LOCK_LOSS = (
    "the reactor's commits were lost: something closed a descriptor of t3.db in a process that"
    " has SQLite connections open (dropping their POSIX locks), and another process deleted the"
    " WAL under them"
)

WRITERS = 8
THREADS_PER_WRITER = 2
OPS_PER_WRITER = int(os.environ.get("T3_LOAD_OPS", "24"))
CONCURRENT_PAIR_SHARE = 0.35
ALLOWED_CODES = {0, 3, 4}  # ok, rejected by an invariant, no such item: all fine under load

CONFIG = """
[reactor]
poll_interval_ms = 20

[providers.echo]
kind = "echo"
fail_pattern = "FAIL"
chunk_chars = 16
delay_s = 0.01
"""


def _subprocess_pair(args: list[str]) -> list[dict[str, Any]]:
    procs = [
        subprocess.Popen(
            [*t3_executable(), *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outcomes = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        outcomes.append(
            {"code": proc.returncode, "stdout": out.decode(), "stderr": err.decode(), "how": "sub"}
        )
    return outcomes


def _in_process_pair(args: list[str]) -> list[dict[str, Any]]:
    outcomes = []
    for _ in range(2):
        r = in_process(*args)
        outcomes.append({"code": r.code, "stdout": r.stdout, "stderr": r.stderr, "how": "main"})
    return outcomes


def writer(index: int, threads: list[str], seed: int, out: str) -> None:
    """One writer process: OPS_PER_WRITER commands on its own threads, each issued twice."""
    rng = random.Random(seed * 1000 + index)
    ops: list[dict[str, Any]] = []
    counter = 0
    for n in range(OPS_PER_WRITER):
        thread = rng.choice(threads)
        cid = f"w{index}-op{n}-{seed}"
        roll = rng.random()
        text = None
        if roll < 0.7:
            counter += 1
            fail = " FAIL" if rng.random() < 0.12 else ""
            text = f"w{index} c{counter:03d}{fail}"
            if roll < 0.5:
                kind, args = "queue", ["queue", thread, text]
            else:
                kind, args = "send", ["send", thread, text, "--no-wait", "--queue-if-busy"]
        elif roll < 0.85:
            kind, args = "retry", ["retry", thread]
        else:
            kind, args = "cancel", ["queue", "cancel", thread, rng.choice(["1", "2", "3"])]
        args += ["--command-id", cid]
        if rng.random() < CONCURRENT_PAIR_SHARE:
            outcomes = _subprocess_pair(args)
        else:
            outcomes = _in_process_pair(args)
        ops.append(
            {"kind": kind, "thread": thread, "text": text, "command_id": cid, "outcomes": outcomes}
        )
    Path(out).write_text(json.dumps(ops))


@pytest.mark.slow
def test_eight_writers_and_a_reactor_share_the_log(
    t3_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed = int(os.environ.get("T3_LOAD_SEED") or random.SystemRandom().randrange(2**31))
    print(f"\nload seed: {seed} (T3_LOAD_SEED={seed} replays the schedule)")
    write_config(t3_home, CONFIG)
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    threads = []
    for t in range(WRITERS * THREADS_PER_WRITER):
        created = in_process("new", "--title", f"load {t}")
        assert created.code == 0, created
        threads.append(created.stdout.strip())
    db = t3_home / "t3.db"

    reactor_log = tmp_path / "reactor.log"
    reactor = spawn_t3(t3_home, "run", "--json", out=reactor_log)
    ctx = multiprocessing.get_context("spawn")
    workers = []
    for w in range(WRITERS):
        mine = threads[w * THREADS_PER_WRITER : (w + 1) * THREADS_PER_WRITER]
        proc = ctx.Process(target=writer, args=(w, mine, seed, str(tmp_path / f"writer{w}.json")))
        proc.start()
        workers.append(proc)
    try:
        for proc in workers:
            proc.join(timeout=300)
            assert proc.exitcode == 0, f"writer exited with {proc.exitcode} (seed {seed})"
    finally:
        for proc in workers:
            if proc.is_alive():
                proc.kill()
        reactor.send_signal(signal.SIGTERM)
        try:
            reactor.wait(timeout=60)
        except subprocess.TimeoutExpired:
            reactor.kill()
            reactor.wait()
    reactor_output = reactor_log.read_text(errors="replace")
    assert "locked" not in reactor_output.lower() and "Traceback" not in reactor_output, (
        reactor_output[-3000:]
    )

    ops: list[dict[str, Any]] = []
    for w in range(WRITERS):
        ops += [dict(op, writer=w) for op in json.loads((tmp_path / f"writer{w}.json").read_text())]
    conn = read_only(db)
    try:
        figures = check_outcomes(conn, ops, seed)
        check_no_gap(conn, seed)
        check_writer_order(conn, ops, threads, seed)
    finally:
        conn.close()
    check = run_t3(t3_home, "replay", "--check")
    assert check.code == 0, f"replay --check (seed {seed}):\n{check}"
    print("load figures:", json.dumps(figures, sort_keys=True))
    # Last, the reactor's own commits: every event it reported is in the durable log.
    lost = reported_events_missing(reactor_output, db)
    assert not lost and "malformed" not in reactor_output, (
        f"{LOCK_LOSS} (seed {seed}; {len(lost)} lost, e.g. {lost[:3]})"
    )
    assert "error:" not in reactor_output, (
        f"the reactor died (seed {seed}):\n{reactor_output[-3000:]}"
    )


def check_outcomes(
    conn: sqlite3.Connection, ops: list[dict[str, Any]], seed: int
) -> dict[str, Any]:
    receipts = {r[0]: r[1] for r in conn.execute("SELECT command_id, status FROM command_receipts")}
    by_command: dict[str, Counter[str]] = defaultdict(Counter)
    for command_id, type_ in conn.execute("SELECT command_id, type FROM events"):
        by_command[command_id][type_] += 1
    codes: Counter[int] = Counter()
    how: Counter[str] = Counter()
    for op in ops:
        first, second = op["outcomes"]
        where = f"{op['kind']} {op['command_id']} (seed {seed}): {first} / {second}"
        for outcome in (first, second):
            codes[outcome["code"]] += 1
            how[outcome["how"]] += 1
            assert outcome["code"] in ALLOWED_CODES, where
            assert "locked" not in outcome["stderr"].lower(), where
            assert "Traceback" not in outcome["stderr"], where
            if outcome["code"] != 0:
                assert outcome["stderr"].startswith("error: "), where
        cid = op["command_id"]
        doubled = [t for t, n in by_command.get(cid, Counter()).items() if n > 1]
        assert not doubled, f"applied twice: {doubled}; {where}"
        status = receipts.get(cid)
        if status == "accepted":
            # Both invocations report the one application, with the same ids and sequence.
            assert first["code"] == second["code"] == 0, where
            assert first["stdout"] == second["stdout"], where
        elif status == "rejected":
            assert first["code"] == second["code"] != 0, where
            assert first["stderr"].splitlines()[0] == second["stderr"].splitlines()[0], where
        else:
            # Refused before it became a command (nothing to retry, no such position).
            assert first["code"] != 0 and second["code"] != 0, where
            assert cid not in by_command, where
    return {
        "commands": len(ops),
        "invocations": sum(how.values()),
        "subprocess_invocations": how["sub"],
        "exit_codes": {str(k): v for k, v in sorted(codes.items())},
    }


def check_no_gap(conn: sqlite3.Connection, seed: int) -> None:
    sequences = [r[0] for r in conn.execute("SELECT sequence FROM events ORDER BY sequence")]
    assert sequences == list(range(1, len(sequences) + 1)), f"sequence gap (seed {seed})"


def check_writer_order(
    conn: sqlite3.Connection, ops: list[dict[str, Any]], threads: list[str], seed: int
) -> None:
    accepted: dict[str, list[str]] = defaultdict(list)
    receipts = {r[0] for r in conn.execute(
        "SELECT command_id FROM command_receipts WHERE status = 'accepted'"
    )}  # fmt: skip
    for op in ops:
        if op["text"] is not None and op["command_id"] in receipts:
            accepted[op["thread"]].append(op["text"])
    total = 0
    for thread in threads:
        rows = conn.execute(
            "SELECT payload FROM events WHERE stream_id = ? AND type = 'thread.message-sent'"
            " ORDER BY sequence",
            (thread,),
        ).fetchall()
        texts = [p["text"] for p in map(json.loads, (r[0] for r in rows)) if p["role"] == "user"]
        assert texts == accepted[thread], f"thread {thread[:8]} out of writer order (seed {seed})"
        queued = conn.execute(
            "SELECT json_extract(m.payload, '$.text') FROM events q JOIN events m"
            " ON m.type = 'thread.message-sent'"
            " AND json_extract(m.payload, '$.message_id') = json_extract(q.payload, '$.message_id')"
            " WHERE q.stream_id = ? AND q.type = 'thread.turn-queued' ORDER BY q.sequence",
            (thread,),
        ).fetchall()
        order = [r[0] for r in queued]
        assert order == [t for t in accepted[thread] if t in order], (
            f"thread {thread[:8]}: turn-queued out of writer order (seed {seed})"
        )
        total += len(texts)
    assert total > 0


def test_a_second_connection_keeps_the_first_ones_locks(tmp_path: Path) -> None:
    """While this process has the database open, another process closing its own connection must
    not checkpoint and delete the WAL under it."""
    from t3cli.store.db import connect

    db = tmp_path / "t3.db"
    first = connect(db)
    try:
        first.execute("CREATE TABLE probe (v)")
        first.execute("INSERT INTO probe VALUES (1)")
        second = connect(db)  # what every reactor does: one connection per worker
        closer = (
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]);"
            " c.execute('SELECT count(*) FROM probe').fetchall(); c.close()"
        )
        subprocess.run([sys.executable, "-c", closer, str(db)], check=True, timeout=60)
        assert Path(f"{db}-wal").exists(), "another process deleted the WAL we have open"
        second.close()
    finally:
        first.close()


def test_turns_run_by_t3_run_survive_t3_queue_in_another_terminal(
    t3_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The everyday setup: `t3 run` in one terminal, `t3 queue` in another. Every turn the reactor
    ran is completed in the log and its item left the queue."""
    write_config(t3_home, "[reactor]\npoll_interval_ms = 20\n")
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    created = in_process("new", "--title", "two terminals")
    assert created.code == 0, created
    thread = created.stdout.strip()
    db = t3_home / "t3.db"
    reactor_log = tmp_path / "reactor.log"

    def settled() -> bool:
        conn = read_only(db)
        try:
            return int(conn.execute("SELECT count(*) FROM queued_turns").fetchone()[0]) == 0
        finally:
            conn.close()

    reactor = spawn_t3(t3_home, "run", "--json", out=reactor_log)
    try:
        for n in range(4):
            queued = run_t3(t3_home, "queue", thread, f"message {n}", env=t3_env(t3_home))
            assert queued.code == 0, queued
            try:
                wait_until(settled, 15, f"message {n} to leave the queue")
            except AssertionError:
                break  # told apart below
    finally:
        reactor.send_signal(signal.SIGTERM)
        reactor.wait(timeout=60)
    lost = reported_events_missing(reactor_log.read_text(), db)
    assert not lost, f"{LOCK_LOSS}: {len(lost)} lost, e.g. {lost[:3]}"
    assert settled(), "a queued turn never ran"

"""Large, realistic event logs built fast, cached under `bench/out/` by size.

Driving the real engine to a million events takes many minutes, so the log is written directly:

1. A *template* is captured once from the real engine (`Engine.dispatch` on a scratch database):
   creating a thread, and one full queued turn as the reactor records it — `thread.turn.queue`,
   `send.start`, `turn.started`, two session updates, an activity, the assistant message, the
   turn's completion (which resolves its queued item) and the session back to `ready`: 12 events,
   9 command receipts. The decider decides them, so the shapes are exactly what t3cli writes.
2. The template is replayed for many threads and turns with fresh ids (seeded, deterministic),
   texts of realistic lengths, contiguous stream versions and increasing timestamps, inserted in
   large transactions (events and command receipts).
3. Every projection is rebuilt from the log with `replay.rebuild` — the code under test.

Turns go round-robin over the threads (a thread is created just before its first turn), so the
log interleaves threads as a real one does. Every tenth thread ends with one pending queued turn.
A built database is kept under `bench/out/<key>/t3.db` (or `$T3_BENCH_OUT/<key>/t3.db`; written
under a temporary name, renamed when complete) and reused by later runs with the same sizes.
"""

from __future__ import annotations

import calendar
import json
import os
import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from t3cli.contracts import commands as c
from t3cli.engine import Engine
from t3cli.store import replay
from t3cli.store.db import connect, write_transaction
from t3cli.store.schema import SCHEMA_VERSION

BUILDER_VERSION = 1
OUT = Path(__file__).resolve().parent / "out"
PROJECT_PATH = "/tmp/t3-bench-project"

# Placeholders in the template; each is replaced by a fresh value per thread or turn.
_P, _T, _U, _Q, _M, _A, _V = ("p" * 32, "t" * 32, "u" * 32, "q" * 32, "m" * 32, "a" * 32, "v" * 32)
_USER, _ASSISTANT, _TITLE = "USERTEXT", "ASSISTANTTEXT", "TITLETEXT"
_WORDS = (
    "the test suite fails on the parser module because a fixture is missing so add it and rerun"
    " refactor extract function rename variable update changelog docs commit branch review merge"
    " cache index query table column migration schema async lane reactor thread queue turn event"
).split()


@dataclass(frozen=True, slots=True)
class LogSpec:
    """What to build: `threads` threads in one project, about `events` events in all."""

    threads: int
    events: int
    seed: int = 7
    pending_every: int = 10  # every Nth thread ends with a pending queued turn

    @property
    def key(self) -> str:
        return (
            f"log-{self.threads}t-{self.events}e-s{self.seed}-p{self.pending_every}"
            f"-b{BUILDER_VERSION}-schema{SCHEMA_VERSION}"
        )


@dataclass(frozen=True, slots=True)
class BuiltLog:
    home: Path  # a T3_HOME: holds t3.db
    spec: LogSpec
    head: int  # events in the log
    thread_ids: tuple[str, ...]
    build_s: float  # 0.0 when taken from the cache

    @property
    def db(self) -> Path:
        return self.home / "t3.db"


@dataclass(frozen=True, slots=True)
class _Row:
    stream: str  # "project" or "thread"
    type: str
    payload: str  # JSON with placeholders
    schema_version: int
    command: int  # index of the command (within the template part) that appended it
    causation: int | None  # index of the event (within the part) that caused it
    actor: str


@dataclass(frozen=True, slots=True)
class _Receipt:
    command_type: str
    first: int  # index of its first event within the part
    last: int


@dataclass(frozen=True, slots=True)
class _Part:
    rows: tuple[_Row, ...]
    receipts: tuple[_Receipt, ...]


@dataclass(frozen=True, slots=True)
class Template:
    project: _Part
    thread: _Part
    turn: _Part
    queue_only: _Part  # the first command of a turn alone: a pending queued turn


def _template_commands() -> tuple[list[c.Command], list[c.Command], list[c.Command]]:
    project: list[c.Command] = [
        c.ProjectCreate(
            command_id="cmd-project", project_id=_P, path=PROJECT_PATH, title="bench",
            default_provider="echo",
        )
    ]  # fmt: skip
    thread: list[c.Command] = [
        c.ThreadCreate(command_id="cmd-thread", thread_id=_T, project_id=_P, provider="echo",
                       title=_TITLE)
    ]  # fmt: skip
    r: Literal["reactor"] = "reactor"
    turn: list[c.Command] = [
        c.TurnQueue(command_id="k1", thread_id=_T, queue_item_id=_Q, message_id=_M, text=_USER),
        c.QueuedTurnSendStart(command_id="k2", actor=r, thread_id=_T, queue_item_id=_Q, turn_id=_U),
        c.TurnStartedCmd(command_id="k3", actor=r, thread_id=_T, turn_id=_U),
        c.SessionSet(command_id="k4", actor=r, thread_id=_T, status="running", provider="echo"),
        c.SessionSet(command_id="k5", actor=r, thread_id=_T, status="running", provider="echo",
                     provider_session_id="echo-" + _T),
        c.ActivityAppend(command_id="k6", actor=r, thread_id=_T, turn_id=_U, activity_id=_V,
                         kind="command", summary="ran pytest -q", status="completed",
                         detail={"command": "pytest -q", "exit_code": 0}),
        c.MessageAppend(command_id="k7", actor=r, thread_id=_T, turn_id=_U, message_id=_A,
                        text=_ASSISTANT, complete=True, chunk=0),
        c.TurnCompletedCmd(command_id="k8", actor=r, thread_id=_T, turn_id=_U,
                           status="completed", input_tokens=1200, output_tokens=340,
                           cost_usd=0.0042, duration_ms=8123),
        c.SessionSet(command_id="k9", actor=r, thread_id=_T, status="ready", provider="echo"),
    ]  # fmt: skip
    return project, thread, turn


def _capture(conn: sqlite3.Connection, after: int, commands: list[c.Command]) -> _Part:
    ids = {cmd.command_id: n for n, cmd in enumerate(commands)}
    rows = conn.execute(
        "SELECT sequence, event_id, stream_kind, type, payload, schema_version, command_id,"
        " causation_event_id, actor FROM events WHERE sequence > ? ORDER BY sequence",
        (after,),
    ).fetchall()
    index = {row[1]: n for n, row in enumerate(rows)}
    part_rows = tuple(
        _Row(row[2], row[3], row[4], row[5], ids[row[6]], index.get(row[7]), row[8]) for row in rows
    )
    receipts = []
    for cmd in commands:
        first, last = conn.execute(
            "SELECT first_sequence, result_sequence FROM command_receipts WHERE command_id = ?",
            (cmd.command_id,),
        ).fetchone()
        receipts.append(_Receipt(cmd.TYPE, first - after - 1, last - after - 1))
    return _Part(part_rows, tuple(receipts))


def capture_template() -> Template:
    """Record what the real engine appends for a project, a thread and one queued turn."""
    project, thread, turn = _template_commands()
    with tempfile.TemporaryDirectory(prefix="t3-bench-template-") as tmp:
        conn = connect(Path(tmp) / "t3.db", durability="normal")
        try:
            engine = Engine(conn)
            parts = []
            for commands in (project, thread, turn):
                head = conn.execute("SELECT coalesce(max(sequence), 0) FROM events").fetchone()[0]
                for command in commands:
                    engine.dispatch(command)
                parts.append(_capture(conn, head, commands))
        finally:
            conn.close()
    turn_part = parts[2]
    queue_rows = tuple(row for row in turn_part.rows if row.command == 0)
    queue_only = _Part(queue_rows, turn_part.receipts[:1])
    return Template(parts[0], parts[1], turn_part, queue_only)


def _texts(rng: random.Random, count: int, low: int, high: int) -> list[str]:
    out = []
    for _ in range(count):
        size = rng.randint(low, high)
        words: list[str] = []
        length = 0
        while length < size:
            word = rng.choice(_WORDS)
            words.append(word)
            length += len(word) + 1
        out.append(" ".join(words))  # plain ASCII, no quotes: safe inside JSON as is
    return out


class _Writer:
    """Turns template parts into event and receipt rows with fresh ids and sequences."""

    def __init__(self, template: Template, seed: int) -> None:
        self.t = template
        self.rng = random.Random(seed)
        self.sequence = 0
        self.versions: dict[str, int] = {}
        self.events: list[tuple[object, ...]] = []
        self.receipts: list[tuple[object, ...]] = []
        self.project_id = self.new_id()
        self.users = _texts(self.rng, 64, 40, 400)
        self.assistants = _texts(self.rng, 64, 100, 1500)
        self.clock = calendar.timegm((2025, 1, 1, 0, 0, 0, 0, 0, 0)) * 1000

    def new_id(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def _now(self) -> str:
        self.clock += self.rng.randint(50, 4000)
        ms = self.clock % 1000
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self.clock // 1000)) + f".{ms:03d}Z"

    def emit(self, part: _Part, stream_id: str, swaps: dict[str, str]) -> None:
        base = self.sequence
        command_ids = [self.new_id() for _ in part.receipts]
        at = self._now()
        for n, row in enumerate(part.rows):
            payload = row.payload
            for old, new in swaps.items():
                payload = payload.replace(old, new)
            sid = self.project_id if row.stream == "project" else stream_id
            version = self.versions.get(sid, 0) + 1
            self.versions[sid] = version
            sequence = base + n + 1
            cid = command_ids[row.command]
            causation = None if row.causation is None else f"{base + row.causation + 1:032x}"
            self.events.append((
                sequence, f"{sequence:032x}", row.stream, sid, version, row.type, payload,
                row.schema_version, cid, causation, cid, row.actor, at,
            ))  # fmt: skip
        for cid, receipt in zip(command_ids, part.receipts, strict=True):
            self.receipts.append((
                cid, receipt.command_type, stream_id, "accepted", base + receipt.first + 1,
                base + receipt.last + 1, None, None, None, at,
            ))  # fmt: skip
        self.sequence = base + len(part.rows)

    def project(self) -> None:
        self.emit(self.t.project, self.project_id, {_P: self.project_id})

    def thread(self, thread_id: str, n: int) -> None:
        swaps = {_T: thread_id, _P: self.project_id, _TITLE: f"bench thread {n}"}
        self.emit(self.t.thread, thread_id, swaps)

    def turn(self, thread_id: str, part: _Part | None = None) -> None:
        rng = self.rng
        swaps = {
            _T: thread_id, _U: self.new_id(), _Q: self.new_id(), _M: self.new_id(),
            _A: self.new_id(), _V: self.new_id(), _ASSISTANT: rng.choice(self.assistants),
            _USER: rng.choice(self.users),
        }  # fmt: skip
        self.emit(part or self.t.turn, thread_id, swaps)

    def take(self) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        events, receipts = self.events, self.receipts
        self.events, self.receipts = [], []
        return events, receipts


def _plan(spec: LogSpec, template: Template) -> Iterator[tuple[str, int]]:
    """("thread"|"turn"|"queue", thread index) steps: round-robin turns, then pending items."""
    per_turn = len(template.turn.rows)
    pending = (spec.threads + spec.pending_every - 1) // spec.pending_every
    budget = spec.events - len(template.project.rows) - spec.threads * len(template.thread.rows)
    budget -= pending * len(template.queue_only.rows)
    turns = max(0, budget // per_turn)
    created = 0
    n = 0
    while n < turns or created < spec.threads:
        index = n % spec.threads
        if index >= created:
            yield "thread", index
            created += 1
        if n < turns:
            yield "turn", index
        n += 1
    for index in range(0, spec.threads, spec.pending_every):
        yield "queue", index


def _insert(conn: sqlite3.Connection, writer: _Writer) -> None:
    events, receipts = writer.take()
    with write_transaction(conn):
        conn.executemany(
            "INSERT INTO events (sequence, event_id, stream_kind, stream_id, stream_version, type,"
            " payload, schema_version, command_id, causation_event_id, correlation_id, actor,"
            " occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            events,
        )
        conn.executemany(
            "INSERT INTO command_receipts (command_id, command_type, stream_id, status,"
            " first_sequence, result_sequence, error, error_kind, hint, accepted_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            receipts,
        )


def _build(path: Path, spec: LogSpec) -> None:
    template = capture_template()
    writer = _Writer(template, spec.seed)
    thread_ids = [writer.new_id() for _ in range(spec.threads)]
    conn = connect(path, durability="normal")
    try:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")
        writer.project()
        for step, index in _plan(spec, template):
            if step == "thread":
                writer.thread(thread_ids[index], index)
            elif step == "turn":
                writer.turn(thread_ids[index])
            else:
                writer.turn(thread_ids[index], template.queue_only)
            if len(writer.events) >= 50_000:
                _insert(conn, writer)
        _insert(conn, writer)
        replay.rebuild(conn)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def thread_ids_of(db: Path) -> tuple[str, ...]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT thread_id FROM threads ORDER BY created_sequence").fetchall()
        return tuple(row[0] for row in rows)
    finally:
        conn.close()


def out_dir() -> Path:
    """Where built logs are cached: `$T3_BENCH_OUT`, else `bench/out/`."""
    return Path(os.environ.get("T3_BENCH_OUT") or OUT)


def cached(spec: LogSpec) -> bool:
    return (out_dir() / spec.key / "t3.db").exists()


def build_log(spec: LogSpec, out: Path | None = None) -> BuiltLog:
    """The database for `spec`: from the cache, or built now (and cached)."""
    out = out or out_dir()
    home = out / spec.key
    db = home / "t3.db"
    built_s = 0.0
    if not db.exists():
        began = time.perf_counter()
        scratch = out / f".{spec.key}.partial"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        scratch.chmod(0o700)
        _build(scratch / "t3.db", spec)
        for leftover in ("t3.db-wal", "t3.db-shm"):
            (scratch / leftover).unlink(missing_ok=True)
        scratch.rename(home)
        built_s = time.perf_counter() - began
    conn = sqlite3.connect(db)
    try:
        head = conn.execute("SELECT coalesce(max(sequence), 0) FROM events").fetchone()[0]
    finally:
        conn.close()
    return BuiltLog(home, spec, int(head), thread_ids_of(db), built_s)


def describe(built: BuiltLog) -> dict[str, object]:
    return {"threads": built.spec.threads, "events": built.head, "key": built.spec.key}


if __name__ == "__main__":  # python bench/_logbuilder.py THREADS EVENTS
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    result = build_log(LogSpec(int(sys.argv[1]), int(sys.argv[2])))
    print(json.dumps({**describe(result), "build_s": round(result.build_s, 1)}))

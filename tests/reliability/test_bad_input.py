"""Bad input, one row per case: a clear message, a documented exit code, and an unchanged log.

Every case runs the real `t3` executable (the full-disk case runs `main()` in-process, to wrap the
store's `connect`) against a fresh `T3_HOME` holding a small world: threads `alpha` (echo), two
threads titled `twin`, and threads on configured fake agents (tests/fakes). Each row says what it
runs, the exact exit code (README "Exit codes"), words the message must contain, and whether the
log must be unchanged (event count and max sequence) — for commands that would write. Agent rows
run a real turn and check the turn's recorded outcome instead.

Failures must print `error: ...` on stderr and never a traceback.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from t3cli.contracts import commands as c
from t3cli.contracts.ids import new_id
from t3cli.errors import ExitCode
from tests.reliability.support import (
    FAKES,
    Result,
    in_process,
    log_state,
    read_only,
    run_t3,
    t3_env,
    without_root_powers,
    write_config,
)

CONFIG = f"""
[reactor]
poll_interval_ms = 20

[providers.echo]
kind = "echo"

[providers.codex]
binary = "{FAKES / "codex"}"
skip_git_repo_check = true
start_timeout_s = 20
turn_timeout_s = 3

[providers.ghost]
kind = "command"
argv = ["t3-no-such-agent-xyz", "--flag"]
"""


@dataclass
class World:
    home: Path
    project: Path
    ids: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    cleanup: list[Callable[[], None]] = field(default_factory=list)
    powerless: bool = False  # run without root's permission bypass

    @property
    def db(self) -> Path:
        return self.home / "t3.db"

    def new(self, title: str, *extra: str) -> str:
        out = in_process("new", "--title", title, *extra)
        assert out.code == 0, out
        self.ids[title] = out.stdout.strip()
        return self.ids[title]

    def engine_dispatch(self, command: Any) -> None:
        from t3cli.engine import Engine
        from t3cli.store.db import connect

        conn = connect(self.db)
        try:
            Engine(conn).dispatch(command)
        finally:
            conn.close()


@dataclass
class Case:
    id: str
    args: tuple[str, ...]
    code: ExitCode
    says: tuple[str, ...] = ()  # substrings of stderr (case-insensitive)
    stdin: bytes | None = None
    setup: Callable[[World], None] | None = None
    unchanged: bool = True  # the log must not change
    check: Callable[[World, Result], None] | None = None  # extra checks (agent rows)
    in_process: bool = False
    # What heads the message. `t3 send` reports a failed turn as `turn failed: ...`, not
    # `error: ...` (see test_a_failed_turn_in_t3_send_says_error).
    heading: str = "error: "


# --- setups -------------------------------------------------------------------------------------


def queue_one(w: World, text: str = "first") -> None:
    out = in_process("queue", w.ids["alpha"], text)
    assert out.code == 0, out
    w.ids["item"] = out.stdout.strip()


def item_sending(w: World) -> None:
    queue_one(w)
    w.engine_dispatch(
        c.QueuedTurnSendStart(
            command_id=new_id(), actor="reactor", thread_id=w.ids["alpha"],
            queue_item_id=w.ids["item"], turn_id=new_id(),
        )
    )  # fmt: skip


def busy(w: World) -> None:
    out = in_process("send", w.ids["alpha"], "running now", "--no-wait")
    assert out.code == 0, out


def archived(w: World) -> None:
    assert in_process("archive", w.ids["alpha"]).code == 0


def deleted(w: World) -> None:
    assert in_process("rm", w.ids["alpha"], "--force").code == 0


def rejected_once(w: World) -> None:
    busy(w)
    first = in_process("send", w.ids["alpha"], "again", "--no-wait", "--command-id", "rej-1")
    assert first.code == ExitCode.REJECTED, first
    # The thread becomes free; a replay of the id must still give the first answer.
    drained = run_t3(w.home, "run", "--until-idle", cwd=w.project)
    assert drained.code == 0, drained


def failed_head(w: World) -> None:
    """alpha's only queued item failed (a real turn on an echo provider told to fail)."""
    failing = CONFIG.replace('kind = "echo"\n', 'kind = "echo"\nfail_pattern = "BREAK"\n', 1)
    (w.home / "config.toml").write_text(failing)
    queue_one(w, "BREAK this")
    drained = run_t3(w.home, "run", "--until-idle", "--thread", w.ids["alpha"], cwd=w.project)
    assert drained.code == ExitCode.PROVIDER_FAILURE, drained


def queued_with_id(w: World) -> None:
    out = in_process("queue", w.ids["alpha"], "first text", "--command-id", "k-1")
    assert out.code == 0, out


def bound_then_bad(body: str) -> Callable[[World], None]:
    """A thread `bound` on a valid provider `x` whose table then turns bad (`body`)."""

    def setup(w: World) -> None:
        (w.home / "config.toml").write_text(
            CONFIG + '\n[providers.x]\nkind = "command"\nargv = ["cat"]\n'
        )
        w.new("bound", "--provider", "x")
        (w.home / "config.toml").write_text(CONFIG + f'\n[providers.x]\nkind = "command"\n{body}\n')

    return setup


def corrupt_table(table: str) -> Callable[[World], None]:
    """Random bytes over the root page of `table` (the WAL checkpointed into the file first)."""

    def setup(w: World) -> None:
        import random

        conn = sqlite3.connect(w.db)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        root = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)
        ).fetchone()[0]
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        conn.close()
        rng = random.Random(12)
        with w.db.open("r+b") as fh:
            fh.seek((root - 1) * page_size)
            fh.write(bytes(rng.randrange(256) for _ in range(page_size)))

    return setup


def home_below_a_file(w: World) -> None:
    target = w.home.parent / "plain-file"
    target.write_text("x")
    w.env["T3_HOME"] = str(target / "t3")


def config_text(text: str) -> Callable[[World], None]:
    def setup(w: World) -> None:
        (w.home / "config.toml").write_text(text)

    return setup


def weird_kind(w: World) -> None:
    """A thread bound to provider `weird` while it was valid; then its kind turns unknown."""
    (w.home / "config.toml").write_text(CONFIG + '\n[providers.weird]\nkind = "echo"\n')
    w.new("weird", "--provider", "weird")
    weird_config(w)


def weird_config(w: World) -> None:
    (w.home / "config.toml").write_text(CONFIG + '\n[providers.weird]\nkind = "telepathy"\n')


def database_bytes(data: bytes) -> Callable[[World], None]:
    def setup(w: World) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{w.db}{suffix}").unlink(missing_ok=True)
        w.db.write_bytes(data)

    return setup


def truncated(w: World) -> None:
    queue_one(w, "x" * 20_000)  # a few pages worth truncating
    conn = sqlite3.connect(w.db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    size = w.db.stat().st_size
    with w.db.open("r+b") as fh:
        fh.truncate(size // 2)


def newer_schema(w: World) -> None:
    conn = sqlite3.connect(w.db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA user_version = 999")
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    w.ids["bytes"] = w.db.read_bytes().hex()


def newer_schema_untouched(w: World, _: Result) -> None:
    assert w.db.read_bytes().hex() == w.ids["bytes"], "the newer database was modified"
    assert not Path(f"{w.db}-wal").exists()


def read_only_file(w: World) -> None:
    conn = sqlite3.connect(w.db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{w.db}{suffix}").unlink(missing_ok=True)
    w.powerless = True
    w.db.chmod(0o400)


def read_only_dir(w: World) -> None:
    read_only_file(w)
    w.db.chmod(0o600)
    w.home.chmod(0o500)
    w.cleanup.append(lambda: w.home.chmod(0o700))


def home_is_a_file(w: World) -> None:
    target = w.home.parent / "not-a-dir"
    target.write_text("x")
    w.env["T3_HOME"] = str(target)


def locked(w: World) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, sys, time\n"
         "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
         "c.execute('BEGIN IMMEDIATE'); print('held', flush=True); time.sleep(60)",
         str(w.db)],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"

    def release() -> None:
        holder.send_signal(signal.SIGKILL)
        holder.wait()

    w.cleanup.append(release)
    w.env["T3_BUSY_TIMEOUT_MS"] = "300"


# --- agent rows: a real turn, checked in the log ---


def last_turn(w: World, thread: str = "agent") -> tuple[str, str | None]:
    conn = read_only(w.db)
    try:
        row = conn.execute(
            "SELECT status, error FROM turns WHERE thread_id = ? ORDER BY rowid DESC",
            (w.ids[thread],),
        ).fetchone()
    finally:
        conn.close()
    assert row is not None, "no turn recorded"
    return row[0], row[1]


def turn_is(status: str, *in_error: str) -> Callable[[World, Result], None]:
    def check(w: World, _: Result) -> None:
        thread = next((t for t in ("ghost", "weird") if t in " ".join(in_error)), "agent")
        got, error = last_turn(w, thread)
        assert got == status, (got, error)
        for text in in_error:
            assert text in (error or ""), (text, error)

    return check


def turn_completed_with_reply(w: World, result: Result) -> None:
    status, error = last_turn(w)
    assert status == "completed", (status, error)
    assert result.stdout.strip(), "no reply printed"


# --- the table ----------------------------------------------------------------------------------

BIG = "x" * 120_001
A, T, G = "{alpha}", "{agent}", "{ghost}"

CASES = [
    # messages
    Case("empty message", ("queue", A, ""), ExitCode.USAGE, ("empty",)),
    Case("whitespace-only message", ("queue", A, " \n\t "), ExitCode.USAGE, ("empty",)),
    Case("oversized message (arg)", ("queue", A, BIG), ExitCode.USAGE, ("120,001", "limit")),
    Case("oversized message (stdin)", ("send", A, "-"), ExitCode.USAGE, ("limit",),
         stdin=BIG.encode()),
    Case("oversized first message of t3 new", ("new", "--title", "big", BIG), ExitCode.USAGE,
         ("limit",)),
    Case("invalid UTF-8 on stdin", ("queue", A, "-"), ExitCode.USAGE, ("utf-8",),
         stdin=b"caf\xe9 \xff"),
    Case("empty stdin", ("queue", A, "-"), ExitCode.USAGE, ("standard input was empty",),
         stdin=b""),
    Case("blank stdin", ("queue", A, "-"), ExitCode.USAGE, ("empty",), stdin=b"\n\n  \n"),
    # references
    Case("unknown thread id", ("queue", "0123abcd", "hi"), ExitCode.NOT_FOUND, ("no thread",)),
    Case("ambiguous thread title", ("queue", "twin", "hi"), ExitCode.USAGE,
         ("matches 2 threads", "longer")),
    Case("empty thread reference", ("show", ""), ExitCode.USAGE, ("empty",)),
    Case("deleted thread", ("queue", A, "hi"), ExitCode.NOT_FOUND, ("no thread",),
         setup=deleted),
    Case("unknown provider", ("new", "--provider", "nosuch", "hi"), ExitCode.NOT_FOUND,
         ("unknown provider", "nosuch")),
    Case("unknown queue item", ("queue", "cancel", A, "ffff9999"), ExitCode.NOT_FOUND,
         ("no queued item",), setup=queue_one),
    Case("queue position out of range", ("queue", "cancel", A, "7"), ExitCode.NOT_FOUND,
         ("no position 7",), setup=queue_one),
    Case("item reference too short", ("queue", "cancel", A, "ab"), ExitCode.USAGE,
         ("neither a position",), setup=queue_one),
    # invariants
    Case("retry of a pending item", ("retry", A, "1"), ExitCode.REJECTED, ("failed",),
         setup=queue_one),
    Case("retry with nothing failed", ("retry", A), ExitCode.REJECTED, ("no failed",),
         setup=queue_one),
    Case("cancel of a sending item", ("queue", "cancel", A, "1"), ExitCode.REJECTED,
         ("being sent",), setup=item_sending),
    Case("move out of range", ("queue", "move", A, "1", "--to", "5"), ExitCode.USAGE,
         ("position",), setup=queue_one),
    Case("move to position 0", ("queue", "move", A, "1", "--to", "0"), ExitCode.USAGE,
         ("position",), setup=queue_one),
    Case("send to a busy thread", ("send", A, "now", "--no-wait"), ExitCode.REJECTED,
         ("busy", "t3 queue"), setup=busy),
    Case("send to an archived thread", ("send", A, "hi", "--no-wait"), ExitCode.REJECTED,
         ("archived",), setup=archived),
    Case("interrupt with no turn running", ("interrupt", A), ExitCode.REJECTED, ("no",)),
    Case("command id of another kind", ("send", A, "hi", "--no-wait", "--command-id", "cid-q"),
         ExitCode.USAGE, ("already used",),
         setup=lambda w: in_process("queue", w.ids["alpha"], "q", "--command-id", "cid-q")),
    Case("replay of a rejected command id",
         ("send", A, "again", "--no-wait", "--command-id", "rej-1"), ExitCode.REJECTED,
         ("busy",), setup=rejected_once),
    Case("unknown option", ("queue", A, "hi", "--frobnicate"), ExitCode.USAGE, ("frobnicate",)),
    Case("bad --recover value", ("run", "--until-idle", "--recover", "twice"), ExitCode.USAGE,
         ("--recover",)),
    Case("negative --limit", ("threads", "--limit", "-1"), ExitCode.USAGE, ("--limit",)),
    Case("non-numeric --before", ("threads", "--before", "garbage"), ExitCode.USAGE,
         ("--before",)),
    Case("negative --since", ("events", "--since", "-5"), ExitCode.USAGE, ("--since",)),
    Case("--max-concurrent 0", ("run", "--until-idle", "--max-concurrent", "0"),
         ExitCode.USAGE, ("--max-concurrent",)),
    Case("unknown command", ("thraeds",), ExitCode.USAGE, ("no such command", "t3 threads")),
    Case("move --to not a number", ("queue", "move", A, "1", "--to", "abc"), ExitCode.USAGE,
         ("--to",), setup=queue_one),
    Case("cancel -1", ("queue", "cancel", A, "-1"), ExitCode.USAGE, ("-1", "--"),
         setup=queue_one),
    Case("--limit too large for SQLite", ("threads", "--limit", "99999999999999999999"),
         ExitCode.USAGE, ("--limit",)),
    Case("--since too large for SQLite", ("events", "--since", "99999999999999999999"),
         ExitCode.USAGE, ("--since",)),
    Case("message not UTF-8 (argument)", ("queue", A, "caf\udce9"), ExitCode.USAGE,
         ("not valid utf-8",)),
    Case("title not UTF-8", ("new", "--title", "\udcff\udcfe", "hi"), ExitCode.USAGE,
         ("--title", "not valid utf-8")),
    Case("command id not UTF-8", ("queue", A, "hi", "--command-id", "id\udce9"),
         ExitCode.USAGE, ("--command-id", "not valid utf-8")),
    # --command-id
    Case("empty command id", ("queue", A, "hi", "--command-id", ""), ExitCode.USAGE,
         ("--command-id is empty",)),
    Case("blank command id", ("send", A, "hi", "--no-wait", "--command-id", "  "),
         ExitCode.USAGE, ("--command-id is empty",)),
    Case("command id reused for another message", ("queue", A, "other text", "--command-id",
         "k-1"), ExitCode.USAGE, ("already used for a different command",),
         setup=queued_with_id),
    Case("command id reused for another thread", ("queue", "{agent}", "first text",
         "--command-id", "k-1"), ExitCode.USAGE, ("already used for a different command",),
         setup=queued_with_id),
    # a blocked queue
    Case("send behind a failed head item", ("send", A, "overtake", "--no-wait"),
         ExitCode.REJECTED, ("blocked", "t3 retry", "t3 queue cancel"), setup=failed_head),
    # agents (a real turn through `t3 send`, which waits for it)
    Case("missing agent executable", ("send", G, "hi"), ExitCode.PROVIDER_FAILURE,
         ("t3-no-such-agent-xyz", "providers.ghost.argv"), unchanged=False,
         heading="turn failed: ",
         check=turn_is("failed", "t3-no-such-agent-xyz", "providers.ghost.argv")),
    Case("agent exits non-zero with no output", ("send", T, "FAKE:exit_silent"),
         ExitCode.PROVIDER_FAILURE, ("exited with code 3",), unchanged=False,
         heading="turn failed: ",
         check=turn_is("failed", "exited with code 3")),
    Case("agent prints garbage and truncated JSON", ("send", T, "FAKE:garbage"), ExitCode.OK,
         unchanged=False, check=turn_completed_with_reply),
    Case("agent hangs mid-turn (turn timeout)", ("send", T, "FAKE:hang_mid_turn"),
         ExitCode.PROVIDER_FAILURE, ("timed out",), unchanged=False,
         heading="turn timed_out: ",
         check=turn_is("timed_out", "providers.codex.turn_timeout_s")),
    Case("agent prints megabytes", ("send", T, "FAKE:big", "--json"), ExitCode.OK,
         unchanged=False, check=turn_completed_with_reply),
    Case("agent prints invalid UTF-8", ("send", T, "FAKE:invalid_utf8"), ExitCode.OK,
         unchanged=False, check=turn_completed_with_reply),
    # configuration and environment
    Case("config file is not TOML", ("queue", A, "hi"), ExitCode.USAGE, ("not valid toml",),
         setup=config_text("this is [not toml\n")),
    Case("config key of the wrong type", ("queue", A, "hi"), ExitCode.USAGE,
         ("max_message_chars", "must be of type int"),
         setup=config_text('max_message_chars = "lots"\n')),
    Case("provider table with an unknown kind", ("send", "{weird}", "hi"), ExitCode.USAGE,
         ("providers.weird.kind", "telepathy"), setup=weird_kind),
    Case("binding a thread to a provider of an unknown kind", ("new", "--provider", "weird", "hi"),
         ExitCode.USAGE, ("providers.weird.kind", "telepathy"), setup=weird_config),
    Case("T3_HOME is a file", ("threads",), ExitCode.USAGE, ("not a directory",),
         setup=home_is_a_file),
    Case("T3_HOME below a file", ("threads",), ExitCode.USAGE, ("T3_HOME", "is a file"),
         setup=home_below_a_file),
    Case("T3_POLL_INTERVAL_MS=0", ("run", "--until-idle"), ExitCode.USAGE,
         ("T3_POLL_INTERVAL_MS", "positive"),
         setup=lambda w: w.env.update(T3_POLL_INTERVAL_MS="0")),
    Case("provider argv = []", ("send", "{bound}", "hi"), ExitCode.USAGE,
         ("providers.x.argv",), setup=bound_then_bad("argv = []")),
    Case("provider argv = [\"\"]", ("run", "--until-idle"), ExitCode.USAGE,
         ("providers.x.argv",), setup=bound_then_bad('argv = [""]')),
    Case("provider timeout negative", ("send", "{bound}", "hi"), ExitCode.USAGE,
         ("providers.x.turn_timeout_s",),
         setup=bound_then_bad('argv = ["cat"]\nturn_timeout_s = -1')),
    Case("provider timeout not a number", ("send", "{bound}", "hi"), ExitCode.USAGE,
         ("providers.x.start_timeout_s",),
         setup=bound_then_bad('argv = ["cat"]\nstart_timeout_s = "soon"')),
    Case("provider input = bogus", ("new", "--provider", "x", "hi"), ExitCode.USAGE,
         ("providers.x.input",), setup=bound_then_bad('argv = ["cat"]\ninput = "bogus"')),
    Case("provider table with an unknown key", ("run", "--until-idle"), ExitCode.USAGE,
         ("providers.x.colour",), setup=bound_then_bad('argv = ["cat"]\ncolour = "red"')),
    Case("T3_MAX_MESSAGE_CHARS is not a number", ("queue", A, "hi"), ExitCode.USAGE,
         ("T3_MAX_MESSAGE_CHARS",), setup=lambda w: w.env.update(T3_MAX_MESSAGE_CHARS="many")),
    # the database
    Case("database is not SQLite", ("threads",), ExitCode.ERROR, ("not a t3 database",),
         setup=database_bytes(b"PK\x03\x04 this is a zip file, not a database" * 100)),
    Case("database is truncated", ("queue", A, "hi"), ExitCode.ERROR,
         ("corrupt or truncated", "t3 doctor"), setup=truncated),
    Case("database of a newer schema", ("queue", A, "hi"), ExitCode.ERROR,
         ("newer", "untouched"), setup=newer_schema, check=newer_schema_untouched),
    Case("read-only database file", ("queue", A, "hi"), ExitCode.ERROR, ("read",),
         setup=read_only_file),
    Case("read-only database directory", ("queue", A, "hi"), ExitCode.ERROR, ("read",),
         setup=read_only_dir),
    Case("database locked past the busy timeout", ("queue", A, "hi"), ExitCode.DB_BUSY,
         ("locked", "retry", "--command-id"), setup=locked),
    Case("disk full", ("queue", A, "y" * 60_000), ExitCode.ERROR, ("full", "nothing was written"),
         in_process=True),
    Case("random bytes in the log (events)", ("events",), ExitCode.ERROR,
         ("corrupt", "t3 doctor"), setup=corrupt_table("events")),
    Case("random bytes in the log (replay --check)", ("replay", "--check"), ExitCode.ERROR,
         ("corrupt", "t3 doctor"), setup=corrupt_table("events")),
    Case("random bytes in the transcript (show)", ("show", A), ExitCode.ERROR,
         ("corrupt", "t3 doctor"),
         setup=lambda w: (queue_one(w), corrupt_table("messages")(w))),
    Case("a write after corruption was found", ("queue", A, "hi"), ExitCode.ERROR,
         ("found corrupt by an earlier command", "t3 doctor"), setup=lambda w: (
             corrupt_table("thread_summaries")(w),
             run_t3(w.home, "threads", cwd=w.project))),
]  # fmt: skip


def _world(home: Path, project: Path) -> World:
    write_config(home, CONFIG)
    w = World(home=home, project=project)
    w.new("alpha")
    w.new("twin")
    twin = w.ids.pop("twin")
    w.new("twin")
    w.ids["twin2"] = twin
    w.new("agent", "--provider", "codex")
    w.new("ghost", "--provider", "ghost")
    return w


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    base = tmp_path
    home = base / "home"
    project = base / "project"
    project.mkdir()
    monkeypatch.setenv("T3_HOME", str(home))
    monkeypatch.chdir(project)
    w = _world(home, project)
    yield w
    for undo in reversed(w.cleanup):
        undo()


def _full_disk(w: World, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> Result:
    import t3cli.store.db as store_db

    real_connect = store_db.connect

    def connect_full(*a: Any, **kw: Any) -> sqlite3.Connection:
        conn = real_connect(*a, **kw)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")
        return conn

    monkeypatch.setattr(store_db, "connect", connect_full)
    return in_process(*args)


def test_case_table_is_large_enough() -> None:
    assert len(CASES) >= 30
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(case: Case, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    if case.setup is not None:
        case.setup(world)
    args = [a.format(**{k: v for k, v in world.ids.items()}) for a in case.args]
    before = _state(world.db, world.powerless)
    if case.in_process:
        result = _full_disk(world, monkeypatch, args)
    else:
        env = t3_env(world.home, **world.env)
        prefix = without_root_powers() if world.powerless else []
        result = run_t3(world.home, *args, input=case.stdin, env=env, timeout=90,
                        cwd=world.project, prefix=prefix)  # fmt: skip
    assert "Traceback" not in result.stderr, result
    assert result.code == case.code, result
    if case.code != ExitCode.OK:
        # One style for every error: `error: ...` then `hint: ...` (after any warnings or notes
        # the command printed while it ran, e.g. an agent's own warnings).
        lines = [line for line in result.stderr.splitlines()
                 if not line.startswith(("warning: ", "note: "))]  # fmt: skip
        assert lines and lines[0].startswith("error: "), result
        assert case.heading in result.stderr.lower(), result
        assert "\nhint: " in result.stderr, result
        assert not any(
            line.startswith(("Usage:", "Error:", "Try '")) for line in result.stderr.splitlines()
        ), result
        for words in case.says:
            assert words.lower() in result.stderr.lower(), (words, str(result))
    if case.unchanged and before is not None:
        for undo in reversed(world.cleanup):  # release locks before reading
            undo()
        world.cleanup.clear()
        assert _state(world.db, world.powerless) == before, "the log changed"
    if case.check is not None:
        case.check(world, result)


def _state(db: Path, powerless: bool) -> object:
    """(events, max sequence), or the file's bytes when it is not a readable log. Reading a
    read-only database as root must not create the -wal/-shm files it could not."""
    try:
        return log_state(db, immutable=powerless)
    except sqlite3.DatabaseError:
        return db.read_bytes()


def test_a_failed_turn_in_t3_send_says_error(world: World) -> None:
    result = run_t3(world.home, "send", world.ids["agent"], "FAKE:exit_silent", cwd=world.project)
    assert result.code == ExitCode.PROVIDER_FAILURE, result
    assert result.stderr.startswith("error: "), result

"""Bulk actions: `t3 retry --all [--project P]` and `t3 queue clear THREAD`.

Each item is an ordinary command in the log (one transaction for the batch); `--command-id`
replays the whole batch; skipped items are reported, not failures."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from t3cli.contracts import commands as c
from t3cli.contracts.ids import new_id
from t3cli.engine import Engine
from tests.cli.conftest import Outcome, event_types
from tests.conftest import create_thread
from tests.reactor.conftest import queue as queue_turn

Cli = Callable[..., Outcome]


def queue(engine: Engine, thread: str, text: str = "work") -> str:
    return queue_turn(engine, thread, text)


def send(engine: Engine, thread: str, item: str) -> str:
    """The reactor starts sending `item`; returns its turn."""
    turn = new_id()
    engine.dispatch(
        c.QueuedTurnSendStart(command_id=new_id(), actor="reactor", thread_id=thread,
                              queue_item_id=item, turn_id=turn)
    )  # fmt: skip
    return turn


def fail(engine: Engine, thread: str, item: str) -> None:
    """Send `item` and fail its turn: the item is failed and blocks the thread."""
    engine.dispatch(
        c.TurnCompletedCmd(command_id=new_id(), actor="reactor", thread_id=thread,
                           turn_id=send(engine, thread, item), status="failed", error="boom")
    )  # fmt: skip


def statuses(conn: sqlite3.Connection, thread: str) -> list[str]:
    rows = conn.execute(
        "SELECT status FROM queued_turns WHERE thread_id = ? ORDER BY position", (thread,)
    ).fetchall()
    return [row[0] for row in rows]


@pytest.fixture
def engine(conn: sqlite3.Connection) -> Engine:
    return Engine(conn)


@pytest.fixture
def blocked(engine: Engine) -> Callable[..., tuple[str, str]]:
    """A thread whose queue is held by a failed item (plus a pending one behind it)."""

    def make(path: str = "/tmp/t3-test-project") -> tuple[str, str]:
        thread = create_thread(engine, path=path)
        item = queue(engine, thread, "first")
        queue(engine, thread, "second")
        fail(engine, thread, item)
        return thread, item

    return make


# --- t3 retry --all -----------------------------------------------------------------------------


def test_retry_all_requeues_the_failed_head_of_every_blocked_thread(cli, engine, conn, blocked):
    (a, a_item), (b, b_item) = blocked(), blocked()
    idle = create_thread(engine)
    out = cli("retry", "--all")
    assert out.code == 0, out.stderr
    assert out.stdout.splitlines() == [a_item, b_item]
    assert out.stderr.splitlines() == [
        f"requeued item {a_item[:8]} of thread {a[:8]}",
        f"requeued item {b_item[:8]} of thread {b[:8]}",
    ]
    assert statuses(conn, a) == statuses(conn, b) == ["pending", "pending"]
    assert statuses(conn, idle) == []
    assert cli("threads", "-q", "--status", "blocked").stdout == ""


def test_retry_all_json_and_its_ordinary_commands(cli, engine, conn, blocked):
    (a, a_item), (b, b_item) = blocked(), blocked()
    doc = cli("retry", "--all", "--json", "--command-id", "after-ctrl-c").json()
    assert set(doc) == {"thread_id", "items", "command_id", "sequence"}
    assert doc["thread_id"] is None and doc["command_id"] == "after-ctrl-c"
    assert [(i["thread_id"], i["queue_item_id"], i["status"]) for i in doc["items"]] == [
        (a, a_item, "requeued"), (b, b_item, "requeued"),
    ]  # fmt: skip
    assert doc["sequence"] == max(i["sequence"] for i in doc["items"])
    # One ordinary retry command per thread, each in the log under its own derived id.
    for item in doc["items"]:
        assert event_types(conn, item["command_id"]) == ["thread.queued-turn-requeued"]
        assert item["reason"] is None
    assert len({i["command_id"] for i in doc["items"]}) == 2


def test_retry_all_replays_under_the_same_command_id(cli, engine, conn, blocked):
    (a, a_item), _ = blocked(), blocked()
    first = cli("retry", "--all", "--command-id", "bulk-1", "--json")
    fail(engine, a, a_item)  # blocked again since: a replay must not retry it anew
    head = conn.execute("SELECT max(sequence) FROM events").fetchone()[0]
    again = cli("retry", "--all", "--command-id", "bulk-1", "--json")
    assert (again.code, again.stdout) == (0, first.stdout)
    assert "already recorded; replayed" in again.stderr
    assert conn.execute("SELECT max(sequence) FROM events").fetchone()[0] == head
    assert statuses(conn, a)[0] == "failed"
    assert cli("retry", "--all", "--command-id", "bulk-2").stdout.split()[0] == a_item
    # An id a single retry was recorded under is not a bulk action's.
    fail(engine, a, a_item)
    assert cli("retry", a, "--command-id", "single").code == 0
    reused = cli("retry", "--all", "--command-id", "single")
    assert reused.code == 2 and "already used for a thread.queued-turn.retry" in reused.stderr


def test_retry_all_with_nothing_blocked_is_a_quiet_success(cli, engine, conn):
    create_thread(engine)
    head = conn.execute("SELECT max(sequence) FROM events").fetchone()[0]
    out = cli("retry", "--all")
    assert (out.code, out.stdout) == (0, "")
    assert out.stderr == "note: no blocked thread; nothing to retry\n"
    doc = cli("retry", "--all", "--json").json()
    assert (doc["items"], doc["sequence"]) == ([], None)
    assert conn.execute("SELECT max(sequence) FROM events").fetchone()[0] == head


def test_retry_all_project_scope(cli, engine, conn, blocked, tmp_path):
    here = tmp_path / "app"
    here.mkdir()
    (mine, item), (other, _) = blocked(str(here)), blocked("/tmp/t3-elsewhere")
    for ref in (str(here), "app", str(Path("..") / "app")):
        assert cli("retry", "--all", "--project", ref, "--json").code == 0
        assert statuses(conn, mine)[0] == "pending"
        fail(engine, mine, item)
    assert statuses(conn, other)[0] == "failed"
    missing = cli("retry", "--all", "--project", "/nowhere")
    assert missing.code == 4 and missing.stderr.startswith("error: no project '/nowhere'")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give a THREAD, or --all"),
        (("THREAD", "--all"), "give no THREAD or ITEM"),
        (("--project", "."), "--project goes with --all"),
    ],
)
def test_retry_usage_errors_write_nothing(cli, conn, blocked, args, message):
    thread, _ = blocked()
    head = conn.execute("SELECT max(sequence) FROM events").fetchone()[0]
    out = cli("retry", *(thread if arg == "THREAD" else arg for arg in args))
    assert out.code == 2 and out.stdout == ""
    assert message in out.stderr and "hint: " in out.stderr
    assert conn.execute("SELECT max(sequence) FROM events").fetchone()[0] == head


# --- t3 queue clear ----------------------------------------------------------------------------


def test_queue_clear_cancels_pending_and_failed_but_not_the_item_being_sent(cli, engine, conn):
    thread = create_thread(engine)
    failed, sending = queue(engine, thread), queue(engine, thread)
    fail(engine, thread, failed)
    assert cli("queue", "move", thread, sending, "--to", "1").code == 0  # it runs first...
    send(engine, thread, sending)  # ...and is being sent, the failed item behind it
    pending = queue(engine, thread)
    assert statuses(conn, thread) == ["sending", "failed", "pending"]
    out = cli("queue", "clear", thread[:8])
    assert out.code == 0, out.stderr
    assert out.stdout.splitlines() == [failed, pending]
    assert f"cancelled item {failed[:8]} of thread {thread[:8]}" in out.stderr
    assert f"note: skipped: queued turn {sending[:8]} is being sent" in out.stderr
    assert f"hint: `t3 interrupt {thread[:8]}`" in out.stderr
    assert statuses(conn, thread) == ["sending"]


def test_queue_clear_of_a_blocked_queue_unblocks_the_thread(cli, conn, blocked):
    thread, item = blocked()
    out = cli("queue", "clear", thread, "--json", "--command-id", "clear-1")
    doc = out.json()
    assert set(doc) == {"thread_id", "items", "command_id", "sequence"}
    assert doc["thread_id"] == thread and doc["command_id"] == "clear-1"
    assert [i["status"] for i in doc["items"]] == ["cancelled", "cancelled"]
    assert doc["items"][0]["queue_item_id"] == item
    assert statuses(conn, thread) == []
    assert cli("threads", "--json").json()[0]["status"] == "idle"
    again = cli("queue", "clear", thread, "--json", "--command-id", "clear-1")
    assert (again.code, again.stdout) == (0, out.stdout)
    assert "replayed" in again.stderr


def test_queue_clear_replays_a_skip_the_same_way(cli, engine, conn):
    thread = create_thread(engine)
    sending = queue(engine, thread)
    send(engine, thread, sending)
    queue(engine, thread)
    first = cli("queue", "clear", thread, "--json", "--command-id", "c1")
    items = first.json()["items"]
    assert [i["status"] for i in items] == ["skipped", "cancelled"]
    assert items[0]["queue_item_id"] is None and "being sent" in items[0]["reason"]
    again = cli("queue", "clear", thread, "--json", "--command-id", "c1")
    assert again.stdout == first.stdout


def test_queue_clear_of_an_empty_queue_says_so(cli, engine, conn):
    thread = create_thread(engine)
    out = cli("queue", "clear", thread)
    assert (out.code, out.stdout) == (0, "")
    assert out.stderr == f"note: the queue of {thread[:8]} is empty; nothing to clear\n"


def test_queue_clear_bad_references_and_reused_command_ids(cli, engine, conn):
    thread = create_thread(engine)
    assert cli("queue", "clear", "ffffffff").code == 4
    assert cli("queue", "clear").code == 2
    assert cli("queue", thread, "x", "--command-id", "used").code == 0
    reused = cli("queue", "clear", thread, "--command-id", "used")
    assert reused.code == 2 and "already used for a thread.turn.queue command" in reused.stderr
    assert statuses(conn, thread) == ["pending"]


def test_after_failures_retry_all_lets_the_reactor_drain_again(t3, t3_home, tmp_path):
    """The whole story through the real `t3`: turns fail, `t3 run --until-idle` exits 5 with
    the threads blocked; once the cause is fixed, `t3 retry --all` and one more run drain them."""
    t3_home.mkdir(parents=True)
    config = t3_home / "config.toml"
    config.write_text('[providers.echo]\nkind = "echo"\nfail_pattern = "FAIL"\n')
    threads = [
        t3("new", "--project", str(tmp_path), "--title", f"t{n}", "FAIL at first").stdout.strip()
        for n in range(3)
    ]
    assert t3("run", "--until-idle").returncode == 5
    blocked = t3("threads", "-q", "--status", "blocked").stdout.split()
    assert sorted(blocked) == sorted(threads)
    config.write_text("")  # the cause is fixed
    retried = t3("retry", "--all")
    assert retried.returncode == 0 and len(retried.stdout.splitlines()) == 3
    drained = t3("run", "--until-idle")
    assert drained.returncode == 0, drained.stderr
    assert sorted(t3("threads", "-q", "--status", "idle").stdout.split()) == sorted(threads)
    assert t3("threads", "-q", "--status", "blocked").stdout == ""
    assert t3("replay", "--check").returncode == 0

"""`t3 send --no-wait`, `t3 retry`, `t3 interrupt`, `t3 stop`."""

from __future__ import annotations

from t3cli.contracts import commands as c
from t3cli.engine import Engine
from tests.cli.conftest import event_types


def _fail_head(engine: Engine, thread_id: str, item_id: str, turn_id: str = "t" * 32) -> None:
    """Play the reactor: send the head item and fail its turn."""
    engine.dispatch(
        c.QueuedTurnSendStart(
            command_id=f"send-{turn_id}", actor="reactor", thread_id=thread_id,
            queue_item_id=item_id, turn_id=turn_id,
        )
    )  # fmt: skip
    engine.dispatch(
        c.TurnCompletedCmd(
            command_id=f"done-{turn_id}", actor="reactor", thread_id=thread_id, turn_id=turn_id,
            status="failed", error="agent crashed",
        )
    )  # fmt: skip


def test_send_no_wait_records_the_turn(cli, thread, conn):
    tid = thread("s")
    out = cli("send", tid, "now please", "--no-wait", "--command-id", "s1")
    assert out.code == 0
    turn_id = out.stdout.strip()
    assert len(turn_id) == 32
    assert event_types(conn, "s1") == ["thread.message-sent", "thread.turn-start-requested"]
    assert cli("threads", "--json").json()[0]["status"] == "starting"


def test_send_json_and_idempotent_retry(cli, thread, conn):
    tid = thread("s")
    first = cli("send", tid, "hi", "--no-wait", "--json", "--command-id", "s2")
    again = cli("send", tid, "hi", "--no-wait", "--json", "--command-id", "s2")
    assert first.code == again.code == 0 and first.stdout == again.stdout
    doc = first.json()
    assert {"thread_id", "turn_id", "queue_item_id", "command_id", "sequence"} <= doc.keys()
    assert doc["queue_item_id"] is None
    assert event_types(conn, "s2") == ["thread.message-sent", "thread.turn-start-requested"]


def test_send_to_a_busy_thread_exits_3_with_a_hint(cli, thread, conn):
    tid = thread("s")
    cli("send", tid, "first", "--no-wait")
    before = event_types(conn)
    out = cli("send", tid, "second", "--no-wait")
    assert out.code == 3
    assert "busy" in out.stderr and "t3 queue" in out.stderr and "--queue-if-busy" in out.stderr
    assert event_types(conn) == before


def test_send_queue_if_busy_queues_instead(cli, thread):
    tid = thread("s")
    cli("send", tid, "first", "--no-wait")
    out = cli("send", tid, "second", "--no-wait", "--queue-if-busy", "--json")
    assert out.code == 0
    doc = out.json()
    assert doc["turn_id"] is None and doc["queue_item_id"]
    assert [i["queue_item_id"] for i in cli("queue", "list", tid, "--json").json()] == [
        doc["queue_item_id"]
    ]


def test_send_reads_stdin_and_rejects_empty(cli, thread):
    tid = thread("s")
    assert cli("send", tid, "-", "--no-wait", input="").code == 2
    assert cli("send", tid, "-", "--no-wait", input="piped").code == 0
    assert cli("show", tid, "--json").json()["messages"][0]["text"] == "piped"


def test_send_to_an_unknown_thread_exits_4(cli, thread):
    thread("s")
    assert cli("send", "ffffffff", "x", "--no-wait").code == 4


def test_retry_the_failed_head_then_nothing_left(cli, thread, engine):
    tid = thread("r")
    item = cli("queue", tid, "flaky").stdout.strip()
    _fail_head(engine, tid, item)
    listed = cli("queue", "list", tid, "--json").json()
    assert listed[0]["status"] == "failed" and listed[0]["failure_reason"] == "agent crashed"
    assert cli("threads", "--json").json()[0]["status"] == "blocked"
    out = cli("retry", tid, "--json")
    assert out.code == 0 and out.json()["queue_item_id"] == item
    assert cli("queue", "list", tid, "--json").json()[0]["status"] == "pending"
    none_left = cli("retry", tid)
    assert none_left.code == 3 and "no failed queued turn" in none_left.stderr


def test_retry_a_given_item_and_a_pending_one_is_rejected(cli, thread, engine):
    tid = thread("r")
    item = cli("queue", tid, "flaky").stdout.strip()
    cli("queue", tid, "later")
    assert cli("retry", tid, "2").code == 3  # pending, not failed
    _fail_head(engine, tid, item)
    assert cli("retry", tid, item[:8], "--command-id", "rt").code == 0
    assert cli("retry", tid, item[:8], "--command-id", "rt").code == 0  # replayed


def test_interrupt_and_stop(cli, thread, conn):
    tid = thread("i")
    idle = cli("interrupt", tid)
    assert idle.code == 3 and "no running turn" in idle.stderr
    turn = cli("send", tid, "long job", "--no-wait").stdout.strip()
    out = cli("interrupt", tid, "--json", "--command-id", "int-1")
    assert out.code == 0 and out.json()["turn_id"] == turn
    assert event_types(conn, "int-1") == ["thread.turn-interrupt-requested"]
    stopped = cli("stop", tid, "--command-id", "stop-1")
    assert stopped.code == 0
    assert event_types(conn, "stop-1") == ["thread.session-stop-requested"]

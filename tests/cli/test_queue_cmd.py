"""`t3 queue THREAD MESSAGE|-` and `t3 queue list|cancel|move|add`."""

from __future__ import annotations

from tests.cli.conftest import event_types


def test_queue_prints_the_item_id_and_appends_fifo(cli, thread):
    tid = thread("q")
    first = cli("queue", tid, "one")
    second = cli("queue", tid[:8], "two")
    assert first.code == second.code == 0
    items = cli("queue", "list", tid, "--json").json()
    assert [(i["position"], i["text"]) for i in items] == [(1, "one"), (2, "two")]
    assert [i["queue_item_id"] for i in items] == [first.stdout.strip(), second.stdout.strip()]


def test_queue_json_shape(cli, thread):
    tid = thread("q")
    out = cli("queue", tid, "hello", "--json").json()
    assert {"queue_item_id", "sequence", "thread_id", "command_id"} <= out.keys()
    assert out["thread_id"] == tid and isinstance(out["sequence"], int)


def test_options_may_come_before_the_thread(cli, thread):
    tid = thread("q")
    out = cli("queue", "--json", tid, "hello")
    assert out.code == 0 and out.json()["thread_id"] == tid


def test_explicit_add_and_a_thread_titled_list(cli, thread):
    tid = thread("list")
    assert cli("queue", "add", "list", "via add").code == 0
    assert cli("queue", tid, "via id").code == 0
    texts = [i["text"] for i in cli("queue", "list", tid, "--json").json()]
    assert texts == ["via add", "via id"]


def test_queue_without_arguments_shows_help(cli):
    out = cli("queue")
    assert "THREAD MESSAGE|-" in out.stdout + out.stderr
    assert "list" in out.stdout + out.stderr


def test_queue_reads_stdin(cli, thread):
    tid = thread("q")
    out = cli("queue", tid, "-", input="line one\nline two\n")
    assert out.code == 0
    assert cli("queue", "list", tid, "--json").json()[0]["text"] == "line one\nline two"


def test_invalid_utf8_on_stdin_exits_2(cli, thread, conn):
    tid = thread("q")
    before = event_types(conn)
    out = cli("queue", tid, "-", input=b"caf\xe9\n")
    assert out.code == 2
    assert "not valid UTF-8" in out.stderr and "Traceback" not in out.stderr
    assert event_types(conn) == before


def test_empty_messages_exit_2(cli, thread, conn):
    tid = thread("q")
    before = event_types(conn)
    assert cli("queue", tid, "").code == 2
    assert cli("queue", tid, "  \n").code == 2
    empty_stdin = cli("queue", tid, "-", input="")
    assert empty_stdin.code == 2 and "standard input was empty" in empty_stdin.stderr
    assert event_types(conn) == before


def test_oversized_message_exits_2(cli, thread, monkeypatch):
    tid = thread("q")
    monkeypatch.setenv("T3_MAX_MESSAGE_CHARS", "10")
    out = cli("queue", tid, "x" * 11)
    assert out.code == 2 and "limit is 10" in out.stderr


def test_retry_with_the_same_command_id_replays_without_new_events(cli, thread, conn):
    tid = thread("q")
    first = cli("queue", tid, "once", "--command-id", "abc", "--json")
    again = cli("queue", tid, "once", "--command-id", "abc", "--json")
    plain = cli("queue", tid, "once", "--command-id", "abc")
    assert first.code == again.code == plain.code == 0
    assert first.stdout == again.stdout
    assert plain.stdout.strip() == first.json()["queue_item_id"]
    assert event_types(conn, "abc") == ["thread.message-sent", "thread.turn-queued"]
    assert len(cli("queue", "list", tid, "--json").json()) == 1


def test_list_across_threads_plain_and_json(cli, thread):
    a = thread("a")
    b = thread("b")
    cli("queue", a, "for a")
    cli("queue", b, "for b")
    rows = cli("queue", "list", "--json").json()
    assert [(r["thread_id"], r["text"]) for r in rows] == [(a, "for a"), (b, "for b")]
    keys = {
        "queue_item_id",
        "thread_id",
        "position",
        "status",
        "text",
        "failure_reason",
        "attempts",
    }
    assert keys <= rows[0].keys()
    plain = cli("queue", "list").stdout.splitlines()
    assert plain[0].split("\t")[:4] == [a, "1", rows[0]["queue_item_id"], "pending"]
    assert "\x1b[" not in "".join(plain)


def test_cancel_and_move(cli, thread, conn):
    tid = thread("q")
    ids = [cli("queue", tid, text).stdout.strip() for text in ("one", "two", "three")]
    moved = cli("queue", "move", tid, ids[2], "--to", "1", "--json").json()
    assert moved["position"] == 1
    assert [i["text"] for i in cli("queue", "list", tid, "--json").json()] == [
        "three",
        "one",
        "two",
    ]
    out_of_range = cli("queue", "move", tid, ids[0], "--to", "9")
    assert out_of_range.code == 2 and "outside" in out_of_range.stderr
    assert cli("queue", "cancel", tid, ids[1][:8], "--command-id", "cx").code == 0
    replay = cli("queue", "cancel", tid, ids[1][:8], "--command-id", "cx", "--json")
    assert replay.code == 0 and replay.json()["queue_item_id"] == ids[1]
    assert event_types(conn, "cx") == ["thread.queued-turn-cancelled"]
    assert [i["text"] for i in cli("queue", "list", tid, "--json").json()] == ["three", "one"]


def test_move_requires_to(cli, thread):
    tid = thread("q")
    cli("queue", tid, "one")
    assert cli("queue", "move", tid, "1").code == 2


def test_a_command_id_reused_for_another_kind_of_command_exits_2(cli, thread, conn):
    tid = thread("q")
    assert cli("queue", tid, "one", "--command-id", "k1").code == 0
    before = event_types(conn)
    for args in (("send", tid, "x", "--no-wait"), ("rename", tid, "y"), ("new",)):
        out = cli(*args, "--command-id", "k1")
        assert out.code == 2 and "already used for a thread.turn.queue command" in out.stderr
    assert event_types(conn) == before

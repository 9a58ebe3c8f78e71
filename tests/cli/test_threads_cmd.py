"""`t3 new`, `t3 threads`, `t3 show`, `t3 rename`, `t3 archive`, `t3 unarchive`, `t3 rm`,
`t3 project add`, `t3 projects`."""

from __future__ import annotations

import os
from pathlib import Path

from tests.cli.conftest import event_types

THREAD_KEYS = {"id", "title", "provider", "status", "queue_depth", "last_activity_at"}


def test_new_prints_the_thread_id_and_registers_the_project_once(cli, conn):
    first = cli("new")
    second = cli("new", "hello")
    assert first.code == 0 and second.code == 0
    assert len(first.stdout.strip()) == 32
    projects = cli("projects", "--json").json()
    assert [p["path"] for p in projects] == [os.getcwd()]
    assert projects[0]["thread_count"] == 2
    assert event_types(conn).count("project.created") == 1


def test_new_title_defaults_to_the_first_message_line_else_the_directory(cli):
    with_message = cli("new", "\n  fix the   failing tests\nand more", "--json").json()
    assert with_message["title"] == "fix the failing tests"
    long = cli("new", "x" * 100, "--json").json()
    assert len(long["title"]) == 60
    bare = cli("new", "--json").json()
    assert bare["title"] == Path(os.getcwd()).name


def test_new_with_a_message_queues_it(cli):
    created = cli("new", "do the thing", "--json").json()
    assert created["queue_item_id"]
    assert created["status"] == "queued" and created["queue_depth"] == 1
    items = cli("queue", "list", created["thread_id"], "--json").json()
    assert [(i["text"], i["status"], i["position"]) for i in items] == [
        ("do the thing", "pending", 1)
    ]


def test_new_json_has_thread_id_and_the_thread_fields(cli):
    out = cli("new", "--title", "T", "--model", "m1", "--json").json()
    assert out["thread_id"] == out["id"]
    assert THREAD_KEYS <= out.keys()
    assert {"model", "project_id", "project_path", "command_id", "sequence"} <= out.keys()
    assert out["model"] == "m1" and out["provider"] == "echo" and out["status"] == "idle"


def test_new_with_an_empty_message_creates_nothing(cli, conn):
    out = cli("new", "   ")
    assert out.code == 2 and "empty" in out.stderr
    assert event_types(conn) == []


def test_new_reads_the_message_from_stdin(cli):
    out = cli("new", "-", "--json", input="from a pipe\n")
    assert out.code == 0
    assert cli("show", out.json()["id"], "--json").json()["queue"][0]["text"] == "from a pipe"


def test_new_unknown_provider_exits_4_listing_the_configured_ones(cli, conn):
    out = cli("new", "--provider", "nope")
    assert out.code == 4
    assert "unknown provider 'nope'" in out.stderr and "echo" in out.stderr
    assert "thread.created" not in event_types(conn)


def test_new_provider_precedence_flag_then_project_then_config(cli, t3_home):
    t3_home.mkdir(exist_ok=True)
    (t3_home / "config.toml").write_text('default_provider = "codex"\n')
    assert cli("new", "--json").json()["provider"] == "codex"  # project registered with codex
    (t3_home / "config.toml").write_text('default_provider = "claude"\n')
    assert cli("new", "--json").json()["provider"] == "codex"  # the project's default wins
    assert cli("new", "--provider", "echo", "--json").json()["provider"] == "echo"


def test_new_in_a_missing_directory_exits_4(cli, tmp_path):
    out = cli("new", "--project", str(tmp_path / "missing"))
    assert out.code == 4 and "no directory" in out.stderr


def test_new_is_idempotent_with_a_command_id(cli, conn):
    first = cli("new", "hello", "--command-id", "c-1", "--json")
    again = cli("new", "hello", "--command-id", "c-1", "--json")
    assert first.code == again.code == 0
    assert first.stdout == again.stdout
    assert "already recorded" in again.stderr
    assert event_types(conn).count("thread.created") == 1
    assert event_types(conn).count("thread.turn-queued") == 1


def test_project_add_and_projects(cli, tmp_path):
    target = tmp_path / "ws"
    target.mkdir()
    out = cli("project", "add", str(target), "--title", "Work", "--provider", "claude", "--json")
    assert out.code == 0
    assert out.json()["path"] == str(target.resolve())
    again = cli("project", "add", str(target))
    assert again.code == 0 and again.stdout.strip() == out.json()["id"]
    listed = cli("projects", "--json").json()
    assert {"id", "path", "title", "default_provider", "thread_count", "created_at"} <= listed[
        0
    ].keys()
    assert (listed[0]["title"], listed[0]["default_provider"]) == ("Work", "claude")
    assert cli("new", "--project", str(target), "--json").json()["provider"] == "claude"
    plain = cli("projects")
    assert plain.stdout.count("\t") == 4


def test_threads_lists_by_last_activity_and_hides_archived(cli, thread):
    a = thread("alpha")
    b = thread("beta")
    c = thread("gamma")
    assert cli("queue", a, "bump").code == 0  # alpha is now the most recently active
    assert cli("archive", c).code == 0
    listed = cli("threads", "--json").json()
    assert [t["title"] for t in listed] == ["alpha", "beta"]
    for row in listed:
        assert THREAD_KEYS <= row.keys()
    everything = cli("threads", "--all", "--json").json()
    assert [t["title"] for t in everything] == ["gamma", "alpha", "beta"]
    assert {t["id"]: t["status"] for t in everything} == {a: "queued", b: "idle", c: "archived"}


def test_threads_status_and_project_filters(cli, thread, tmp_path):
    a = thread("alpha")
    thread("beta")
    cli("queue", a, "work")
    assert [t["id"] for t in cli("threads", "--status", "queued", "--json").json()] == [a]
    assert cli("threads", "--status", "weird").code == 2
    other = tmp_path / "other"
    other.mkdir()
    cli("new", "--project", str(other), "--title", "elsewhere")
    only = cli("threads", "--project", str(other), "--json").json()
    assert [t["title"] for t in only] == ["elsewhere"]
    assert cli("threads", "--project", "/no/such/project").code == 4


def test_threads_keyset_pagination(cli, thread):
    for i in range(5):
        thread(f"t{i}")
    first = cli("threads", "--limit", "2", "--json")
    assert [t["title"] for t in first.json()] == ["t4", "t3"]
    cursor = first.stderr.split("--before ")[1].split()[0]
    second = cli("threads", "--limit", "2", "--before", cursor, "--json")
    assert [t["title"] for t in second.json()] == ["t2", "t1"]
    cursor = second.stderr.split("--before ")[1].split()[0]
    last = cli("threads", "--limit", "2", "--before", cursor, "--json")
    assert [t["title"] for t in last.json()] == ["t0"]
    assert "more:" not in last.stderr


def test_threads_plain_output_when_not_a_terminal(cli, thread):
    tid = thread("plain one")
    out = cli("threads")
    assert out.stdout.split("\t")[:4] == [tid, "plain one", "echo", "idle"]
    assert "\x1b[" not in out.stdout
    assert not any(ch in out.stdout for ch in "│─┃━┌┐└┘")


def test_threads_table_on_a_terminal_honours_no_color(cli, thread, monkeypatch):
    thread("shown")
    coloured = cli("threads", tty=True)
    assert "TITLE" in coloured.stdout and "shown" in coloured.stdout
    assert "\x1b[" in coloured.stdout
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in cli("threads", tty=True).stdout
    monkeypatch.delenv("NO_COLOR")
    assert "\x1b[" not in cli("--no-color", "threads", tty=True).stdout


def test_show_json_shape(cli, thread):
    tid = thread("shown")
    cli("queue", tid, "first")
    cli("queue", tid, "second")
    doc = cli("show", tid, "--json").json()
    assert set(doc) == {"thread", "messages", "turns", "queue"}
    assert {"id", "title", "provider", "status"} <= doc["thread"].keys()
    assert doc["messages"] == []  # queued messages are in the transcript once sent
    assert [(q["position"], q["text"]) for q in doc["queue"]] == [(1, "first"), (2, "second")]
    assert {"queue_item_id", "position", "status", "text", "failure_reason"} <= doc["queue"][
        0
    ].keys()
    sent = cli("send", thread("other"), "go", "--no-wait", "--json").json()
    other = cli("show", sent["thread_id"], "--json").json()
    assert [m["text"] for m in other["messages"]] == ["go"]  # sent at once: in the transcript
    assert set(other["messages"][0]) == {
        "message_id", "role", "text", "turn_id", "queue_item_id", "complete", "created_at",
    }  # fmt: skip
    turns = other["turns"]
    assert turns[0]["turn_id"] == sent["turn_id"] and turns[0]["status"] == "requested"
    assert {"turn_id", "status", "queue_item_id", "usage", "error", "duration_ms"} <= turns[
        0
    ].keys()


def test_show_plain_transcript(cli, thread):
    tid = thread("talk")
    cli("send", tid, "hello there", "--no-wait")
    cli("queue", tid, "and then this")
    out = cli("show", tid)
    assert out.code == 0
    assert "user:\nhello there" in out.stdout and "queue:" in out.stdout
    assert "and then this" in out.stdout.split("queue:")[1]
    assert "\x1b[" not in out.stdout


def test_rename_archive_unarchive(cli, thread):
    tid = thread("old")
    assert cli("rename", tid, "new name").code == 0
    assert cli("show", "new name", "--json").json()["thread"]["id"] == tid
    assert cli("archive", tid).code == 0
    assert cli("archive", tid).code == 3  # already archived
    queued = cli("queue", tid, "x")
    assert queued.code == 3 and "unarchive" in queued.stderr
    assert cli("unarchive", tid, "--json").json()["thread_id"] == tid
    assert cli("unarchive", tid).code == 3


def test_rm_needs_force_with_queued_turns_and_hides_the_thread(cli, thread):
    tid = thread("doomed")
    cli("queue", tid, "pending work")
    refused = cli("rm", tid)
    assert refused.code == 3 and "--force" in refused.stderr
    assert cli("rm", tid, "--force").code == 0
    assert cli("show", tid).code == 4
    assert cli("threads", "--all", "--json").json() == []


def test_rm_replayed_with_its_command_id_succeeds_again(cli, thread, conn):
    tid = thread("doomed")
    first = cli("rm", tid, "--command-id", "rm-1")
    again = cli("rm", tid, "--command-id", "rm-1")
    assert first.code == again.code == 0
    assert first.stdout == again.stdout
    assert event_types(conn, "rm-1") == ["thread.deleted"]


def test_rejection_is_replayed_for_the_same_command_id(cli, thread):
    tid = thread("t")
    assert cli("unarchive", tid, "--command-id", "u-1").code == 3
    cli("archive", tid)
    # The same id answers as it did the first time, even though it would succeed now.
    assert cli("unarchive", tid, "--command-id", "u-1").code == 3

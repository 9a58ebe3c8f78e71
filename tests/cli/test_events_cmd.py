"""`t3 events` and `t3 replay [--check]`."""

from __future__ import annotations

import json
import os
import signal
import subprocess

from tests.conftest import t3_executable


def _insert_future_event(conn, thread_id: str) -> None:
    version = conn.execute(
        "SELECT max(stream_version) FROM events WHERE stream_id = ?", (thread_id,)
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO events (event_id, stream_kind, stream_id, stream_version, type, payload,"
        " schema_version, command_id, causation_event_id, correlation_id, actor, occurred_at)"
        " VALUES ('future-1', 'thread', ?, ?, 'thread.hologram-projected', ?, 3, NULL, NULL,"
        " NULL, 'reactor', '2031-01-01T00:00:00.000Z')",
        (thread_id, version + 1, json.dumps({"thread_id": thread_id, "beam": 7})),
    )


def test_events_json_lines_in_sequence_order(cli, thread):
    tid = thread("e")
    cli("queue", tid, "hello")
    lines = cli("events", "--json").stdout.splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
    assert [e["type"] for e in events] == [
        "project.created",
        "thread.created",
        "thread.message-sent",
        "thread.turn-queued",
    ]
    keys = {"sequence", "event_id", "stream_id", "type", "payload", "actor", "occurred_at"}
    assert keys <= events[0].keys()


def test_events_filters_since_thread_and_type_glob(cli, thread):
    # Titles that cannot be id prefixes: "b" was ambiguous whenever a's random id began with b.
    a = thread("alpha")
    b = thread("bravo")
    cli("queue", a, "for a")
    cli("queue", b, "for b")
    out = cli("events", "--thread", "bravo", "--json")
    assert out.code == 0, out.stderr
    only_b = [json.loads(x) for x in out.stdout.splitlines()]
    assert {e["stream_id"] for e in only_b} == {b}
    queued = cli("events", "--type", "thread.turn-*", "--json").stdout.splitlines()
    assert [json.loads(x)["type"] for x in queued] == ["thread.turn-queued"] * 2
    after = cli("events", "--since", "4", "--json").stdout.splitlines()
    assert after and min(json.loads(x)["sequence"] for x in after) == 5


def test_events_plain_lines_are_tab_separated(cli, thread):
    thread("e")
    first = cli("events").stdout.splitlines()[0].split("\t")
    assert first[0] == "1" and first[2] == "project.created" and first[4] == "user"
    assert json.loads(first[5])["path"]


def test_unknown_event_types_are_printed_and_counted(cli, thread, conn):
    tid = thread("e")
    _insert_future_event(conn, tid)
    out = cli("events", "--json")
    assert out.code == 0
    last = json.loads(out.stdout.splitlines()[-1])
    assert last["type"] == "thread.hologram-projected" and last["payload"]["beam"] == 7
    assert "1 event(s) of types this t3cli does not know" in out.stderr
    assert cli("events").code == 0
    assert cli("queue", tid, "still works").code == 0


def test_events_follow_prints_new_events_until_ctrl_c(t3_home, cli, thread):
    tid = thread("f")
    env = dict(os.environ, T3_HOME=str(t3_home))
    proc = subprocess.Popen(
        [*t3_executable(), "events", "--follow"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        # Two lines printed means the initial read is done: the next event must be followed.
        assert "project.created" in proc.stdout.readline()
        assert "thread.created" in proc.stdout.readline()
        cli("queue", tid, "arrives later")
        assert "thread.message-sent" in proc.stdout.readline()
        assert "thread.turn-queued" in proc.stdout.readline()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert "Traceback" not in err


def test_replay_rebuilds_and_check_passes(cli, thread):
    tid = thread("r")
    cli("queue", tid, "x")
    rebuilt = cli("replay", "--json")
    assert rebuilt.code == 0 and rebuilt.json()["events_replayed"] == 4
    assert cli("replay").stdout.startswith("rebuilt the projections from 4 events")
    check = cli("replay", "--check")
    assert check.code == 0 and "match" in check.stderr
    report = cli("replay", "--check", "--json").json()
    assert report["ok"] is True and report["difference_count"] == 0 and report["head"] == 4
    assert {"tables", "differences"} <= report.keys()


def test_replay_check_reports_differences_and_exits_1(cli, thread, conn):
    tid = thread("r")
    conn.execute("UPDATE threads SET title = 'tampered' WHERE thread_id = ?", (tid,))
    check = cli("replay", "--check")
    assert check.code == 1
    assert f"threads[{tid}]: title: live='tampered' rebuilt='r'" in check.stdout
    report = cli("replay", "--check", "--json")
    assert report.code == 1
    diff = report.json()["differences"][0]
    assert diff["table"] == "threads" and diff["live"]["title"] == "tampered"
    assert "\x1b[" not in check.stderr  # no progress bar when stderr is not a terminal
    assert cli("replay").code == 0
    assert cli("replay", "--check").code == 0

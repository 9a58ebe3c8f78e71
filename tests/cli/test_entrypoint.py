"""The main user paths through the real `t3` console script (subprocesses)."""

from __future__ import annotations

import json


def test_new_queue_threads_show(t3, tmp_path):
    tid = t3("new", "--project", str(tmp_path), "first task").stdout.strip()
    assert len(tid) == 32
    queued = t3("queue", tid[:6], "-", input="second task\n")
    assert queued.returncode == 0, queued.stderr
    listing = t3("threads")
    assert listing.returncode == 0
    fields = listing.stdout.splitlines()[0].split("\t")
    assert fields[:5] == [tid, "first task", "echo", "queued", "2"]
    assert "\x1b[" not in listing.stdout
    shown = json.loads(t3("show", "@last", "--json").stdout)
    assert shown["messages"] == []  # queued, not sent yet: they are in the queue only
    assert [q["text"] for q in shown["queue"]] == ["first task", "second task"]


def test_expected_failures_print_error_and_hint_without_traceback(t3, tmp_path):
    t3("new", "--project", str(tmp_path))
    missing = t3("show", "0000")
    assert missing.returncode == 4
    assert missing.stderr.startswith("error: ") and "hint: " in missing.stderr
    assert "Traceback" not in missing.stderr and missing.stdout == ""
    bad_input = t3("queue", "@last", "-", input="")
    assert bad_input.returncode == 2 and "Traceback" not in bad_input.stderr


def test_idempotent_queue_through_the_entry_point(t3, tmp_path):
    tid = t3("new", "--project", str(tmp_path)).stdout.strip()
    first = t3("queue", tid, "once", "--command-id", "x1", "--json")
    again = t3("queue", tid, "once", "--command-id", "x1", "--json")
    assert first.stdout == again.stdout and again.returncode == 0
    types = [json.loads(line)["type"] for line in t3("events", "--json").stdout.splitlines()]
    assert types.count("thread.turn-queued") == 1

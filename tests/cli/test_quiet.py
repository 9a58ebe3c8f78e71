"""`-q/--quiet` on `t3 threads` and `t3 queue list`: full ids only, one per line, for xargs."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import t3_executable


def test_threads_quiet_prints_full_ids_in_listing_order(cli, thread):
    a, b, c = thread("a"), thread("b"), thread("c")
    cli("queue", a, "work")  # a becomes the most recently active
    for tty in (False, True):
        out = cli("threads", "-q", tty=tty)
        assert out.code == 0
        assert out.stdout.splitlines() == [a, c, b]
        assert "\x1b[" not in out.stdout
    assert cli("threads", "--quiet", "--status", "queued").stdout == f"{a}\n"


def test_threads_quiet_pages_with_the_cursor_on_stderr(cli, thread):
    ids = [thread(f"t{n}") for n in range(3)]
    first = cli("threads", "-q", "--limit", "2")
    assert first.stdout.splitlines() == ids[::-1][:2]
    cursor = first.stderr.split("--before ")[1].split()[0]
    rest = cli("threads", "-q", "--limit", "2", "--before", cursor)
    assert rest.stdout.splitlines() == [ids[0]] and rest.stderr == ""


def test_quiet_with_nothing_to_list_prints_nothing(cli, thread):
    tid = thread("idle")
    for args in (("threads", "-q", "--status", "blocked"), ("queue", "list", tid, "-q")):
        out = cli(*args, tty=True)
        assert (out.code, out.stdout) == (0, "")


def test_queue_list_quiet_prints_item_ids_in_fifo_order(cli, thread):
    a, b = thread("a"), thread("b")
    items = [cli("queue", t, text).stdout.strip() for t, text in
             ((a, "one"), (b, "two"), (a, "three"))]  # fmt: skip
    assert cli("queue", "list", "-q").stdout.splitlines() == [items[0], items[2], items[1]]
    assert cli("queue", "list", a, "--quiet").stdout.splitlines() == [items[0], items[2]]


@pytest.mark.parametrize("args", [("threads",), ("queue", "list")])
def test_quiet_and_json_together_is_a_usage_error(cli, thread, args):
    thread("x")
    out = cli(*args, "-q", "--json")
    assert out.code == 2 and out.stdout == ""
    assert out.stderr.startswith("error: --quiet and --json") and "hint: " in out.stderr


def test_quiet_ids_feed_xargs(t3, t3_home, tmp_path):
    """The point of -q: `t3 queue list -q T | xargs -n1 t3 queue cancel T` empties a queue."""
    tid = t3("new", "--project", str(tmp_path), "--title", "x").stdout.strip()
    for text in ("one", "two", "three"):
        assert t3("queue", tid, text).returncode == 0
    ids = t3("queue", "list", tid, "-q").stdout
    assert len(ids.split()) == 3
    done = subprocess.run(
        ["xargs", "-n1", *t3_executable(), "queue", "cancel", tid], input=ids, text=True,
        capture_output=True, env=dict(os.environ, T3_HOME=str(t3_home)), timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert t3("queue", "list", tid, "-q").stdout == ""

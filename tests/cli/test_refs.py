"""THREAD references (id, unique prefix, exact title, @last) and ITEM references."""

from __future__ import annotations

from t3cli.contracts import commands as c
from t3cli.contracts.ids import new_id
from t3cli.engine import Engine


def _thread_with_id(engine: Engine, thread_id: str, title: str) -> str:
    project = engine.conn.execute("SELECT project_id FROM projects").fetchone()[0]
    engine.dispatch(
        c.ThreadCreate(
            command_id=new_id(),
            thread_id=thread_id,
            project_id=project,
            provider="echo",
            title=title,
        )
    )
    return thread_id


def test_full_id_unique_prefix_and_exact_title(cli, thread):
    tid = thread("my title")
    for ref in (tid, tid[:6], tid.upper()[:10], "my title"):
        out = cli("show", ref, "--json")
        assert out.code == 0, (ref, out.stderr)
        assert out.json()["thread"]["id"] == tid


def test_ambiguous_prefix_exits_2_and_lists_the_candidates(cli, thread, engine):
    thread("seed")  # registers the project
    a = _thread_with_id(engine, "abcdef1" + "0" * 25, "first")
    b = _thread_with_id(engine, "abcdef2" + "0" * 25, "second")
    out = cli("show", "abcdef")
    assert out.code == 2
    assert "matches 2 threads" in out.stderr
    assert f"{a[:8]}  first" in out.stderr and f"{b[:8]}  second" in out.stderr
    assert cli("show", "abcdef1", "--json").json()["thread"]["id"] == a


def test_a_title_that_is_also_an_id_prefix_is_ambiguous(cli, thread, engine):
    thread("seed")
    _thread_with_id(engine, "beefbeef" + "0" * 24, "x")
    _thread_with_id(engine, "1" * 32, "beefbeef")
    out = cli("show", "beefbeef")
    assert out.code == 2 and "matches 2 threads" in out.stderr


def test_unknown_reference_exits_4_with_a_hint(cli, thread):
    thread("something")
    out = cli("queue", "nothing-like-it", "msg")
    assert out.code == 4
    assert out.stderr.startswith("error: no thread matches 'nothing-like-it'")
    assert "hint:" in out.stderr and "Traceback" not in out.stderr


def test_last_is_the_most_recently_active_not_the_newest(cli, thread):
    older = thread("older")
    newer = thread("newer")
    assert cli("show", "@last", "--json").json()["thread"]["id"] == newer
    cli("queue", older, "activity")
    assert cli("show", "@last", "--json").json()["thread"]["id"] == older
    assert cli("queue", "@last", "more").code == 0
    assert len(cli("queue", "list", older, "--json").json()) == 2


def test_last_with_no_threads_exits_4(cli):
    out = cli("show", "@last")
    assert out.code == 4 and "t3 new" in out.stderr


def test_deleted_threads_never_resolve(cli, thread):
    tid = thread("gone")
    cli("rm", tid)
    assert cli("show", tid).code == 4
    assert cli("show", "gone").code == 4


def test_items_by_position_and_by_id_prefix(cli, thread):
    tid = thread("q")
    first = cli("queue", tid, "one").stdout.strip()
    second = cli("queue", tid, "two").stdout.strip()
    moved = cli("queue", "move", tid, second[:6], "--to", "1", "--json")
    assert moved.code == 0 and moved.json()["queue_item_id"] == second
    assert cli("queue", "cancel", tid, "2", "--json").json()["queue_item_id"] == first
    cli("queue", tid, "three")
    for digit in "456789":
        # Beyond the 2-item queue: never read as an id prefix, so nothing is cancelled.
        missing = cli("queue", "cancel", tid, digit)
        assert missing.code == 4 and "queue list" in missing.stderr
    assert cli("queue", "cancel", tid, "ab").code == 2  # too short to be an id prefix
    assert len(cli("queue", "list", tid, "--json").json()) == 2

"""`--command-id` edge cases (issue #12, point 8).

- An empty or blank id would silently switch idempotency off: refused (exit 2), nothing recorded.
- An id reused for a different command of the same kind (another message, another thread,
  another item, other flags) is refused (exit 2, "already used for a different command") instead
  of replaying the first command's outcome with exit 0 and dropping the new one.
- The same command replays as before, however its THREAD is spelled.
- Receipts written before fingerprints existed (no fingerprint) replay as before.
"""

from __future__ import annotations

import pytest

from t3cli.contracts import commands as c
from t3cli.contracts.ids import new_id
from t3cli.engine import Engine
from t3cli.errors import ExitCode
from tests.cli.conftest import event_types

DIFFERENT = "already used for a different command"


def _refused(out, conn, before):
    assert out.code == ExitCode.USAGE, out
    assert out.stderr.startswith("error: ") and "hint: " in out.stderr
    assert event_types(conn) == before


@pytest.mark.parametrize("blank", ["", "   ", "\t"])
@pytest.mark.parametrize(
    "args",
    [
        ("queue", "{t}", "hi"),
        ("send", "{t}", "hi", "--no-wait"),
        ("new", "--title", "x", "hi"),
        ("rename", "{t}", "new title"),
        ("project", "add", "."),
        ("retry", "{t}"),
    ],
    ids=lambda a: a[0] if isinstance(a, tuple) else repr(a),
)
def test_an_empty_or_blank_command_id_is_refused(cli, thread, conn, blank, args):
    tid = thread("t")
    before = event_types(conn)
    out = cli(*[a.format(t=tid) for a in args], "--command-id", blank)
    _refused(out, conn, before)
    assert "--command-id is empty" in out.stderr


def test_queue_reused_for_another_message_is_refused_and_drops_nothing_silently(cli, thread, conn):
    tid = thread("t")
    assert cli("queue", tid, "first", "--command-id", "k1").code == 0
    before = event_types(conn)
    out = cli("queue", tid, "second", "--command-id", "k1")
    _refused(out, conn, before)
    assert DIFFERENT in out.stderr and "'k1'" in out.stderr
    assert [i["text"] for i in cli("queue", "list", tid, "--json").json()] == ["first"]


def test_queue_reused_for_another_thread_is_refused(cli, thread, conn):
    a, b = thread("alpha"), thread("beta")
    assert cli("queue", a, "same text", "--command-id", "k2").code == 0
    before = event_types(conn)
    out = cli("queue", b, "same text", "--command-id", "k2")
    _refused(out, conn, before)
    assert DIFFERENT in out.stderr
    assert cli("queue", "list", b, "--json").json() == []


def test_the_same_command_replays_however_its_thread_is_spelled(cli, thread, conn):
    tid = thread("spelled")
    first = cli("queue", tid, "once", "--command-id", "k3", "--json")
    assert first.code == 0
    before = event_types(conn)
    for ref in (tid, tid[:6], tid.upper(), "spelled", "@last"):
        again = cli("queue", ref, "once", "--command-id", "k3", "--json")
        assert again.code == 0, (ref, again)
        assert again.stdout == first.stdout and "replayed" in again.stderr
    assert event_types(conn) == before


def test_send_reused_with_other_flags_or_text_is_refused(cli, thread, conn):
    tid = thread("t")
    assert cli("send", tid, "go", "--no-wait", "--command-id", "k4").code == 0
    before = event_types(conn)
    # `--json` and `--no-wait` only change how the outcome is shown: the same command.
    assert cli("send", tid, "go", "--no-wait", "--json", "--command-id", "k4").code == 0
    _refused(cli("send", tid, "go", "--no-wait", "--queue-if-busy", "--command-id", "k4"),
             conn, before)  # fmt: skip
    _refused(cli("send", tid, "stop", "--no-wait", "--command-id", "k4"), conn, before)


def test_a_rejected_command_replays_its_rejection_but_refuses_another_command(cli, thread, conn):
    tid = thread("t")
    assert cli("send", tid, "busy now", "--no-wait").code == 0
    rejected = cli("send", tid, "again", "--no-wait", "--command-id", "k5")
    assert rejected.code == ExitCode.REJECTED
    replay = cli("send", tid, "again", "--no-wait", "--command-id", "k5")
    assert replay.code == ExitCode.REJECTED and replay.stderr == rejected.stderr
    before = event_types(conn)
    _refused(cli("send", tid, "other", "--no-wait", "--command-id", "k5"), conn, before)


def test_queue_cancel_reused_for_another_item_is_refused(cli, thread, conn):
    tid = thread("t")
    for text in ("one", "two", "three"):
        assert cli("queue", tid, text).code == 0
    assert cli("queue", "cancel", tid, "1", "--command-id", "k6").code == 0
    # Same command again: replayed, although position 1 is now another item.
    assert cli("queue", "cancel", tid, "1", "--command-id", "k6").code == 0
    before = event_types(conn)
    _refused(cli("queue", "cancel", tid, "2", "--command-id", "k6"), conn, before)
    _refused(cli("queue", "move", tid, "2", "--to", "1", "--command-id", "k6"), conn, before)
    assert [i["text"] for i in cli("queue", "list", tid, "--json").json()] == ["two", "three"]


def test_rename_reused_with_another_title_is_refused_the_same_title_replays(cli, thread, conn):
    tid = thread("old")
    assert cli("rename", "old", "new", "--command-id", "k7").code == 0
    # "old" names no thread any more: the retry still replays on the recorded thread.
    assert cli("rename", "old", "new", "--command-id", "k7").code == 0
    before = event_types(conn)
    _refused(cli("rename", tid, "newer", "--command-id", "k7"), conn, before)
    assert cli("show", tid, "--json").json()["thread"]["title"] == "new"


def test_new_reused_with_a_message_queues_nothing_into_the_first_thread(cli, conn):
    first = cli("new", "--title", "bare", "--command-id", "k8")
    assert first.code == 0
    before = event_types(conn)
    out = cli("new", "--title", "bare", "a message", "--command-id", "k8")
    _refused(out, conn, before)
    assert DIFFERENT in out.stderr
    shown = cli("show", first.stdout.strip(), "--json").json()
    assert shown["messages"] == [] and shown["queue"] == []
    assert cli("new", "--title", "bare", "--command-id", "k8").stdout == first.stdout


def test_project_add_reused_for_another_directory_is_refused(cli, conn, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert cli("project", "add", str(tmp_path / "a"), "--command-id", "k9").code == 0
    before = event_types(conn)
    _refused(cli("project", "add", str(tmp_path / "b"), "--command-id", "k9"), conn, before)
    assert [p["path"] for p in cli("projects", "--json").json()] == [str(tmp_path / "a")]


def test_a_receipt_without_fingerprint_replays_as_before(cli, thread, conn):
    # What every receipt of a database written before schema 3 looks like: no fingerprint.
    tid = thread("t")
    Engine(conn).dispatch(
        c.TurnQueue(command_id="legacy", thread_id=tid, queue_item_id=new_id(),
                    message_id=new_id(), text="from an older t3cli")
    )  # fmt: skip
    assert conn.execute(
        "SELECT fingerprint FROM command_receipts WHERE command_id = 'legacy'"
    ).fetchone() == (None,)
    before = event_types(conn)
    out = cli("queue", tid, "something else", "--command-id", "legacy")
    assert out.code == 0 and "replayed" in out.stderr
    assert event_types(conn) == before


def test_the_engine_refuses_a_fingerprint_mismatch_under_the_write_lock(engine, make_thread):
    from t3cli.domain.rejections import CommandRejected

    tid = make_thread(engine)

    def queue(text: str):
        return c.TurnQueue(command_id="same", thread_id=tid, queue_item_id=new_id(),
                           message_id=new_id(), text=text)  # fmt: skip

    first = engine.dispatch(queue("a"), fingerprint="print-a")
    assert engine.dispatch(queue("a"), fingerprint="print-a").duplicate
    with pytest.raises(CommandRejected) as info:
        engine.dispatch(queue("b"), fingerprint="print-b")
    assert info.value.kind == "invalid" and DIFFERENT in info.value.reason
    # The receipt is untouched: the first command still replays.
    again = engine.dispatch(queue("a"), fingerprint="print-a")
    assert [e.sequence for e in again.events] == [e.sequence for e in first.events]

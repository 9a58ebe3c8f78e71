"""`t3 send` never overtakes a queue blocked by a failed head item (issue #12, point 3).

A real failure: an echo provider configured to fail a message, drained by the real reactor
(`t3 run --until-idle`), leaves the failed item at the head of the queue. `t3 send` must then be
refused like a busy thread (exit 3, a hint to retry or cancel, nothing appended), and
`--queue-if-busy` must queue the message behind the failed item.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from t3cli.errors import ExitCode
from tests.cli.conftest import event_types

CONFIG = '[providers.flaky]\nkind = "echo"\nfail_pattern = "BREAK"\n'


@pytest.fixture
def blocked(cli, t3_home: Path) -> str:
    """A thread whose only queued item failed: its queue is blocked."""
    t3_home.mkdir(exist_ok=True)
    (t3_home / "config.toml").write_text(CONFIG)
    created = cli("new", "--provider", "flaky", "--title", "blocked", "BREAK please")
    assert created.code == 0, created.stderr
    ran = cli("run", "--until-idle")
    assert ran.code == ExitCode.PROVIDER_FAILURE, ran.stderr
    threads = cli("threads", "--json").json()
    assert threads[0]["status"] == "blocked"
    return created.stdout.strip()


@pytest.mark.parametrize("wait", [False, True], ids=["--no-wait", "waiting"])
def test_send_behind_a_failed_head_exits_3_and_records_nothing(cli, conn, blocked, wait):
    before = event_types(conn)
    out = cli("send", blocked, "overtake?", *([] if wait else ["--no-wait"]))
    assert out.code == ExitCode.REJECTED, out
    assert out.stderr.startswith("error: ") and "blocked" in out.stderr
    assert f"t3 retry {blocked[:8]}" in out.stderr and "t3 queue cancel" in out.stderr
    assert out.stdout == ""
    assert event_types(conn) == before
    items = cli("queue", "list", blocked, "--json").json()
    assert [i["status"] for i in items] == ["failed"]


def test_send_queue_if_busy_queues_behind_the_failed_head(cli, blocked):
    out = cli("send", blocked, "after the fix", "--no-wait", "--queue-if-busy", "--json")
    assert out.code == 0, out
    doc = out.json()
    assert doc["turn_id"] is None and doc["queue_item_id"]
    items = cli("queue", "list", blocked, "--json").json()
    assert [(i["status"], i["text"]) for i in items] == [
        ("failed", "BREAK please"),
        ("pending", "after the fix"),
    ]


def test_waiting_send_queue_if_busy_says_it_is_stuck_behind_the_failure(cli, blocked):
    out = cli("send", blocked, "after the fix", "--queue-if-busy")
    assert out.code == ExitCode.REJECTED, out
    assert "failed item" in out.stderr and "t3 retry" in out.stderr
    statuses = [i["status"] for i in cli("queue", "list", blocked, "--json").json()]
    assert statuses == ["failed", "pending"]  # nothing ran past the failure


def test_after_cancelling_the_failed_head_send_runs(cli, blocked):
    assert cli("queue", "cancel", blocked, "1").code == 0
    out = cli("send", blocked, "now it runs")
    assert out.code == 0, out
    assert out.stdout.strip() == "now it runs"

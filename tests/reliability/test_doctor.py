"""`t3 doctor` finds the problems it is for, says what to do, and never crashes on them."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from t3cli.cli.app import main
from t3cli.contracts import commands as c
from t3cli.contracts.ids import new_id
from t3cli.engine import Engine


def doctor(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main(["doctor", "--json"])
    return code, json.loads(capsys.readouterr().out)


def finding(report: dict[str, Any], area: str, check: str) -> dict[str, Any]:
    return next(f for f in report["findings"] if f["area"] == area and f["check"] == check)


def test_healthy_database_passes(
    engine: Engine, make_thread: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    thread = make_thread(engine)
    engine.dispatch(
        c.TurnQueue(command_id=new_id(), thread_id=thread, queue_item_id=new_id(),
                    message_id=new_id(), text="hi")
    )  # fmt: skip
    code, report = doctor(capsys)
    assert code == 0 and report["ok"] is True
    assert finding(report, "database", "integrity")["status"] == "ok"
    assert finding(report, "database", "projections")["status"] == "ok"
    assert finding(report, "database", "file permissions")["status"] == "ok"


def test_projection_drift_fails_with_the_fix(
    engine: Engine,
    fresh_db: sqlite3.Connection,
    make_thread: Callable[..., str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    thread = make_thread(engine)
    fresh_db.execute("UPDATE threads SET title = 'tampered' WHERE thread_id = ?", (thread,))
    code, report = doctor(capsys)
    drift = finding(report, "database", "projections")
    assert code == 1 and drift["status"] == "fail"
    assert "tampered" in drift["message"] and "t3 replay" in drift["fix"]


def test_stuck_sending_item_and_expired_lease_are_reported(
    engine: Engine,
    fresh_db: sqlite3.Connection,
    make_thread: Callable[..., str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    thread = make_thread(engine)
    item = new_id()
    engine.dispatch(
        c.TurnQueue(command_id=new_id(), thread_id=thread, queue_item_id=item,
                    message_id=new_id(), text="hi")
    )  # fmt: skip
    engine.dispatch(
        c.QueuedTurnSendStart(command_id=new_id(), actor="reactor", thread_id=thread,
                              queue_item_id=item, turn_id=new_id())
    )  # fmt: skip
    fresh_db.execute(
        "INSERT INTO thread_leases (thread_id, owner, expires_at) VALUES (?, 'dead:1', 1.0)",
        (thread,),
    )
    code, report = doctor(capsys)
    assert code == 0  # warnings, not failures
    stuck = finding(report, "database", "stuck sends")
    assert stuck["status"] == "warn" and "t3 retry" in stuck["fix"]
    assert finding(report, "database", "leases")["status"] == "warn"


def test_not_sqlite_is_a_failure_and_left_untouched(
    t3_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    t3_home.mkdir(mode=0o700)
    db = t3_home / "t3.db"
    db.write_bytes(b"this is not a database\n" * 10)
    before = db.read_bytes()
    code, report = doctor(capsys)
    assert code == 1
    assert "not a t3 database" in finding(report, "database", "open")["message"]
    assert db.read_bytes() == before


def test_loose_permissions_warn(
    engine: Engine, db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db_path.chmod(0o644)
    _, report = doctor(capsys)
    perms = finding(report, "database", "file permissions")
    assert perms["status"] == "warn" and "chmod 0600" in perms["fix"]


def test_bad_config_is_a_failure(t3_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t3_home.mkdir(mode=0o700)
    (t3_home / "config.toml").write_text("default_provider = [unclosed\n")
    code, report = doctor(capsys)
    assert code == 1
    assert "not valid TOML" in finding(report, "config", "config file")["message"]

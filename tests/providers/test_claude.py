"""The claude adapter: argv, transcript mapping, resume, and claude-specific outcomes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from t3cli.contracts.runtime import Activity, SessionStarted, TextCompleted, TurnStarted, Usage
from t3cli.providers.base import Provider

from .conftest import (
    FAKES,
    final,
    make_provider,
    of_type,
    read_records,
    request,
    run_turn,
    session_id,
)


def claude(record: Path | None = None, **options: Any) -> Provider:
    table: dict[str, Any] = {"binary": str(FAKES / "claude")}
    if record is not None:
        table["env"] = {"FAKE_RECORD": str(record)}
    return make_provider("claude", {**table, **options})


def test_transcript_maps_to_runtime_events(project: Path) -> None:
    events = run_turn(claude(), request(project, "run the tests"))

    assert isinstance(events[0], SessionStarted)
    assert events[1] == TurnStarted()
    assert of_type(events, TextCompleted) == [
        TextCompleted("msg_1", "Running tests."),
        TextCompleted("msg_2", "done: run the tests"),
    ]
    tools = of_type(events, Activity)
    assert [(a.kind, a.item_id, a.status) for a in tools] == [
        ("tool_call", "toolu_1", "in_progress"),
        ("tool_call", "toolu_1", "completed"),
    ]
    assert tools[0].summary == "Bash: pytest -q"
    assert of_type(events, Usage) == [Usage(1850, 52, 1200, 0.0123)]
    assert final(events).status == "completed"


def test_argv_has_verbose_and_the_configured_options(project: Path, record: Path) -> None:
    provider = claude(
        record,
        model="claude-opus-4",
        permission_mode="acceptEdits",
        allowed_tools=["Bash(npm test)", "Read"],
        max_turns=3,
    )
    assert final(run_turn(provider, request(project, "hi"))).status == "completed"
    assert read_records(record)[0]["argv"] == [
        "-p", "--output-format", "stream-json", "--verbose", "--model", "claude-opus-4",
        "--permission-mode", "acceptEdits", "--allowedTools", "Bash(npm test),Read",
        "--max-turns", "3", "hi",
    ]  # fmt: skip
    assert read_records(record)[0]["cwd"] == str(project)


def test_second_turn_resumes_the_session_from_init(project: Path, record: Path) -> None:
    provider = claude(record)
    sid = session_id(run_turn(provider, request(project, "one")))
    second = run_turn(provider, request(project, "two", resume=sid, turn_id="tu2"))
    assert final(second).status == "completed"
    assert session_id(second) == sid
    argv = read_records(record)[1]["argv"]
    assert argv[argv.index("--resume") + 1] == sid
    assert "--resume" not in read_records(record)[0]["argv"]


def test_result_is_error_fails_with_the_result_text(project: Path) -> None:
    done = final(run_turn(claude(), request(project, "FAKE:result_is_error")))
    assert done.status == "failed"
    assert done.error == "claude: success: Invalid API key · Please run /login"


def test_failed_tool_is_a_failed_activity_not_a_failed_turn(project: Path) -> None:
    events = run_turn(claude(), request(project, "FAKE:tool_error"))
    assert final(events).status == "completed"
    failed = [a for a in of_type(events, Activity) if a.status == "failed"]
    assert [(a.item_id, a.summary) for a in failed] == [
        ("toolu_1", "tool failed: Exit code 1: command not found")
    ]


def test_rejected_permission_mode_is_a_failed_turn_with_claudes_message(project: Path) -> None:
    done = final(run_turn(claude(permission_mode="yolo"), request(project)))
    assert done.status == "failed"
    assert "--permission-mode" in (done.error or "")


def test_check_reports_the_version() -> None:
    check = claude().check()
    assert check.found and check.version == "2.0.0 (Claude Code, fake)"

"""The claude adapter: argv, transcript mapping, resume, and claude-specific outcomes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from t3cli.contracts.runtime import (
    Activity,
    SessionStarted,
    TextCompleted,
    TextDelta,
    TurnStarted,
    Usage,
)
from t3cli.providers.base import Provider, TurnRun

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
    # One meaning for tokens: input counts cache reads and writes too (claude's excludes them).
    reported = {
        "input_tokens": 1850,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 1200,
        "output_tokens": 52,
    }
    assert of_type(events, Usage) == [Usage(3050, 52, 1200, 0.0123, reported=reported)]
    # Each reply is streamed at once and confirmed complete by the line after it.
    assert [e.text for e in of_type(events, TextDelta)] == ["Running tests.", "done: run the tests"]
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
        "--max-turns", "3", "--", "hi",
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


def test_allowed_tools_do_not_swallow_the_prompt(project: Path, record: Path) -> None:
    # --allowedTools is variadic (the fake, like claude, takes every word up to the next option).
    provider = claude(record, allowed_tools=["Bash"])
    events = run_turn(provider, request(project, "first turn"))
    assert final(events).status == "completed"
    assert of_type(events, TextCompleted)[-1].text == "done: first turn"


def test_a_message_starting_with_a_dash_is_the_prompt(project: Path) -> None:
    events = run_turn(claude(), request(project, "--help me"))
    assert of_type(events, TextCompleted)[-1].text == "done: --help me"


def test_api_error_is_the_turns_error_never_the_reply(project: Path) -> None:
    events = run_turn(claude(), request(project, "FAKE:api_error_500"))
    done = final(events)
    assert done.status == "failed"
    assert (done.error or "").startswith("claude: API error 500: Internal server error (fake).")
    assert not of_type(events, TextCompleted) and not of_type(events, TextDelta)
    assert [a.kind for a in of_type(events, Activity)] == ["error"]


def test_unauthorized_reads_as_an_api_error(project: Path) -> None:
    done = final(run_turn(claude(), request(project, "FAKE:result_is_error")))
    assert done.status == "failed"
    assert done.error == "claude: API error 401: Invalid API key · Fix external API key"


def test_an_unknown_session_fails_with_claudes_reason(project: Path) -> None:
    lost = "0cdd183d-6ec8-451b-ad79-000000000000"
    done = final(run_turn(claude(), request(project, "FAKE:lost_session", resume=lost)))
    assert done.status == "failed"
    assert done.error == (
        f"claude: error_during_execution: No conversation found with session ID: {lost}"
    )


def test_api_retries_are_warnings(project: Path) -> None:
    events = run_turn(claude(), request(project, "FAKE:api_retry"))
    assert final(events).status == "completed"
    warnings = [a.summary for a in of_type(events, Activity) if a.kind == "warning"]
    assert warnings == [
        "claude: API retry 1/10 after HTTP 500 (server_error), next try in 0.6 s",
        "claude: API retry 2/10 after HTTP 500 (server_error), next try in 1.1 s",
    ]


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


@pytest.mark.parametrize("aborted_flag", ["0", "1"], ids=["2.1.197", "2.1.332"])
def test_an_interrupted_reply_is_kept_but_never_completed(project: Path, aborted_flag: str) -> None:
    provider = make_provider(
        "claude",
        {"binary": str(FAKES / "claude"), "env": {"FAKE_CLAUDE_ABORTED_FLAG": aborted_flag}},
    )

    async def interrupt(run: TurnRun) -> None:
        await run.interrupt()

    events = run_turn(provider, request(project, "FAKE:slow_reply"), after_first=interrupt)
    done = final(events)
    assert done.status == "interrupted"
    assert [e.text for e in of_type(events, TextDelta)] == ["one two three "]
    assert not of_type(events, TextCompleted)


def test_check_reports_the_version() -> None:
    check = claude().check()
    assert check.found and check.version == "2.0.0 (Claude Code, fake)"

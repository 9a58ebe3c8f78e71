"""The command provider against a fake `llm`: input modes, text and jsonl output, resume."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from t3cli.contracts.runtime import (
    Activity,
    SessionStarted,
    TextCompleted,
    TextDelta,
    TurnCompleted,
)
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

LLM = str(FAKES / "llm")
JSONL = {
    "output": "jsonl",
    "text_path": "content",
    "text_match": {"role": "assistant", "type": "message"},
    "session_id_path": "session_id",
}


def smol(record: Path, **options: Any) -> Provider:
    table: dict[str, Any] = {
        "kind": "command",
        "argv": [LLM, "-m", "SmolLM2", "--no-log"],
        "env": {"FAKE_RECORD": str(record)},
    }
    return make_provider("smol", {**table, **options})


def test_text_output_with_message_on_stdin(project: Path, record: Path) -> None:
    events = run_turn(smol(record), request(project, "hello there"))
    assert events[0] == SessionStarted("local-th1")
    reply = "reply: hello there\n"
    assert "".join(d.text for d in of_type(events, TextDelta)) == reply
    assert of_type(events, TextCompleted) == [TextCompleted("tu1:reply", reply)]
    assert final(events).status == "completed"
    entry = read_records(record)[0]
    assert entry["argv"] == ["-m", "SmolLM2", "--no-log"]
    assert (entry["stdin_kind"], entry["stdin"]) == ("pipe", "hello there")


def test_arg_input_appends_the_message_and_gives_devnull(project: Path, record: Path) -> None:
    events = run_turn(smol(record, input="arg"), request(project, "hi"))
    assert of_type(events, TextCompleted)[0].text == "reply: hi\n"
    entry = read_records(record)[0]
    assert entry["argv"] == ["-m", "SmolLM2", "--no-log", "hi"]
    assert entry["stdin_kind"] == "devnull"


def test_message_placeholder_is_substituted_inside_argv(project: Path, record: Path) -> None:
    provider = smol(record, argv=[LLM, "{message}", "-m", "{model}"], model="tiny")
    events = run_turn(provider, request(project, "a b; $(rm -rf /)"))
    assert of_type(events, TextCompleted)[0].text == "reply: a b; $(rm -rf /)\n"
    entry = read_records(record)[0]
    assert entry["argv"] == ["a b; $(rm -rf /)", "-m", "tiny"]
    assert entry["stdin_kind"] == "devnull"


def test_model_placeholder_without_a_model_fails_the_turn(project: Path, record: Path) -> None:
    provider = smol(record, argv=[LLM, "-m", "{model}"])
    done = final(run_turn(provider, request(project)))
    assert done.status == "failed"
    assert "providers.smol.model" in (done.error or "")


def test_jsonl_mapping_and_resume_args(project: Path, record: Path) -> None:
    provider = smol(
        record,
        argv=[LLM, "--jsonl"],
        input="arg",
        resume_args=["--cid", "{session_id}"],
        **JSONL,
    )
    first = run_turn(provider, request(project, "one"))
    sid = session_id(first)
    assert sid.startswith("conv-")
    assert [d.text for d in of_type(first, TextDelta)] == ["reply: ", "one"]
    assert of_type(first, TextCompleted)[0].text == "reply: one"
    assert final(first).status == "completed"

    second = run_turn(provider, request(project, "two", resume=sid, turn_id="tu2"))
    assert session_id(second) == sid
    assert of_type(second, TextCompleted)[0].text == f"(continuing {sid}) reply: two"
    assert read_records(record)[1]["argv"] == ["--jsonl", "--cid", sid, "two"]
    assert read_records(record)[0]["argv"] == ["--jsonl", "one"]


def test_a_local_session_id_is_never_passed_to_resume_args(project: Path, record: Path) -> None:
    provider = smol(record, resume_args=["--cid", "{session_id}"])
    sid = session_id(run_turn(provider, request(project, "one")))
    assert sid == "local-th1"
    run_turn(provider, request(project, "two", resume=sid))
    assert read_records(record)[1]["argv"] == ["-m", "SmolLM2", "--no-log"]


def test_exit_nonzero_fails_with_the_stderr_tail(project: Path, record: Path) -> None:
    events = run_turn(smol(record), request(project, "FAKE:exit_silent"))
    assert events == [
        TurnCompleted(
            "failed", error="llm: agent exited with code 1: Error: Unknown model: SmolLM2"
        )
    ]


def test_garbage_jsonl_lines_are_counted(project: Path, record: Path) -> None:
    provider = smol(record, argv=[LLM, "--jsonl"], input="arg", **JSONL)
    events = run_turn(provider, request(project, "FAKE:garbage"))
    assert final(events).status == "completed"
    assert of_type(events, Activity)[-1].detail == {"skipped_lines": 2}


def test_invalid_utf8_in_text_output_is_replaced(project: Path, record: Path) -> None:
    events = run_turn(smol(record), request(project, "FAKE:invalid_utf8"))
    assert final(events).status == "completed"
    assert "caf\ufffd \ufffd ok" in of_type(events, TextCompleted)[0].text


def test_hang_mid_reply_times_out_after_the_partial_text(project: Path, record: Path) -> None:
    events = run_turn(smol(record, turn_timeout_s=3), request(project, "FAKE:hang_mid_turn"))
    assert [d.text for d in of_type(events, TextDelta)] == ["reply: "]
    assert final(events).status == "timed_out"


def test_hang_before_output_hits_the_start_timeout(project: Path, record: Path) -> None:
    events = run_turn(smol(record, start_timeout_s=2), request(project, "FAKE:hang_start"))
    assert events == [
        TurnCompleted(
            "timed_out",
            error="smol timed out after 2 s waiting for the agent to start "
            "(providers.smol.start_timeout_s)",
        )
    ]


def test_missing_executable_names_the_argv_key(project: Path, record: Path) -> None:
    provider = smol(record, argv=["/nonexistent/llm", "-m", "x"])
    assert run_turn(provider, request(project)) == [
        TurnCompleted(
            "failed",
            error="llm executable not found: '/nonexistent/llm' "
            "(set providers.smol.argv in config.toml)",
        )
    ]


def test_check_reports_version_and_missing(record: Path) -> None:
    assert smol(record, version_args=["--version"]).check().version == "llm, version 0.0-fake"
    missing = smol(record, argv=["no-such-llm-binary"]).check()
    assert not missing.found
    assert "providers.smol.argv" in (missing.problem or "")


def agent_script(tmp_path: Path) -> Path:
    """An agent script that answers any invocation with a reply, noting each run in `ran`."""
    script = tmp_path / "agent"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> {tmp_path / "ran"}\n'
        'echo "WARNING: loading the model, this can take a while" >&2\n'
        'echo "agent 1.2.3 (fake)"\n'
    )
    script.chmod(0o755)
    return script


def test_check_never_runs_a_command_without_version_args(tmp_path: Path) -> None:
    script = agent_script(tmp_path)
    check = make_provider("smol", {"kind": "command", "argv": [str(script)]}).check()
    assert check.found and check.executable == str(script)
    assert check.version is None and check.problem is None
    assert not (tmp_path / "ran").exists()


def test_check_runs_version_args_and_reads_stdout_not_the_warning(tmp_path: Path) -> None:
    script = agent_script(tmp_path)
    table = {"kind": "command", "argv": [str(script), "-m", "x"], "version_args": ["-V"]}
    check = make_provider("smol", table).check()
    assert check.version == "agent 1.2.3 (fake)" and check.problem is None
    assert (tmp_path / "ran").read_text() == "-V\n"


def test_version_on_stderr_only_is_read_past_warnings(tmp_path: Path) -> None:
    script = tmp_path / "agent"
    script.write_text('#!/bin/sh\necho "WARNING: odd setup" >&2\necho "agent 9.9" >&2\n')
    script.chmod(0o755)
    table = {"kind": "command", "argv": [str(script)], "version_args": ["--version"]}
    assert make_provider("smol", table).check().version == "agent 9.9"

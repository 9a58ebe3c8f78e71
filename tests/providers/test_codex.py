"""The codex adapter: argv, transcript mapping, resume, and codex-specific outcomes."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from t3cli.contracts.runtime import Activity, TextCompleted, TurnStarted, Usage
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


def codex(record: Path | None = None, **options: Any) -> Provider:
    table: dict[str, Any] = {"binary": str(FAKES / "codex"), "skip_git_repo_check": True}
    # The fake keeps its sessions' usage totals under CODEX_HOME, like codex its rollouts.
    env = {"CODEX_HOME": str((record or Path(tempfile.mkdtemp()) / "r").parent / "codex-home")}
    if record is not None:
        env["FAKE_RECORD"] = str(record)
    table["env"] = env
    return make_provider("codex", {**table, **options})


def test_transcript_maps_to_runtime_events(project: Path) -> None:
    events = run_turn(codex(), request(project, "run the tests"))

    assert events[2] == TurnStarted()  # after codex's "Model metadata ... not found" warning
    activities = of_type(events, Activity)
    assert [(a.kind, a.item_id, a.status) for a in activities] == [
        ("warning", "item_m", "completed"),
        ("reasoning", "item_0", "completed"),
        ("command", "item_1", "in_progress"),
        ("command", "item_1", "completed"),
        ("plan", "item_2", "in_progress"),
        ("file_change", "item_3", "completed"),
        ("tool_call", "item_4", "completed"),
        ("web_search", "item_6", "completed"),
        ("warning", "item_7", "completed"),
        ("plan", "item_2", "completed"),
    ]
    command = activities[3]
    assert command.detail["command"] == "bash -lc 'pytest -q'"
    assert command.detail["exit_code"] == 0
    assert command.detail["output_tail"] == "3 passed\n"
    assert activities[5].summary == "update src/app.py"
    assert activities[6].summary == "docs.search"
    assert activities[9].summary == "plan: 2/2 done"
    assert of_type(events, TextCompleted) == [TextCompleted("item_5", "done: run the tests")]
    [usage] = of_type(events, Usage)
    assert (usage.input_tokens, usage.output_tokens, usage.cached_input_tokens) == (
        24763,
        122,
        24448,
    )
    assert final(events).status == "completed"


def test_argv_has_the_configured_flags_and_the_project_dir(project: Path, record: Path) -> None:
    provider = codex(record, model="gpt-5-codex", sandbox="workspace-write", extra_args=["--oss"])
    assert final(run_turn(provider, request(project, "hi"))).status == "completed"
    entry = read_records(record)[0]
    assert entry["argv"] == [
        "exec", "--json", "--cd", str(project), "--model", "gpt-5-codex",
        "--sandbox", "workspace-write", "--skip-git-repo-check", "--oss", "--", "hi",
    ]  # fmt: skip


def test_thread_model_overrides_the_config_model(project: Path, record: Path) -> None:
    provider = codex(record, model="from-config")
    run_turn(provider, request(project, "hi", model="from-thread"))
    argv = read_records(record)[0]["argv"]
    assert argv[argv.index("--model") + 1] == "from-thread"


def test_second_turn_resumes_the_session_from_the_first(project: Path, record: Path) -> None:
    # Global flags must precede `resume`: the fake (like old codex releases) rejects them after.
    provider = codex(record, model="m1", sandbox="read-only")
    first = run_turn(provider, request(project, "one"))
    sid = session_id(first)
    second = run_turn(provider, request(project, "two", resume=sid, turn_id="tu2"))

    assert final(second).status == "completed"
    assert session_id(second) == sid
    argv = read_records(record)[1]["argv"]
    assert argv[-4:] == ["resume", sid, "--", "two"]
    assert argv.index("--model") < argv.index("resume")
    assert "resume" not in read_records(record)[0]["argv"]


def test_outside_a_git_repo_without_the_skip_flag_says_what_to_set(project: Path) -> None:
    provider = codex(skip_git_repo_check=False)
    done = final(run_turn(provider, request(project)))
    assert done.status == "failed"
    assert done.error == (
        "codex: the project is not inside a git repository, and codex refuses to run there"
        " (set providers.codex.skip_git_repo_check = true in config.toml, or `git init`)"
    )


def test_reconnect_lines_after_turn_started_are_warnings(project: Path) -> None:
    events = run_turn(codex(), request(project, "FAKE:reconnecting"))
    assert final(events).status == "completed"
    warnings = [a.summary for a in of_type(events, Activity) if a.kind == "warning"]
    assert warnings[1:3] == [
        "codex: Reconnecting... 1/5 (stream disconnected before completion: error sending request)",
        "codex: Reconnecting... 2/5 (stream disconnected before completion: error sending request)",
    ]


def test_usage_is_the_turns_share_of_the_cumulative_session_total(
    project: Path, record: Path
) -> None:
    provider = codex(record)
    first = run_turn(provider, request(project, "one"))
    sid = session_id(first)
    [one] = of_type(first, Usage)
    assert one.session_total is not None and one.input_tokens == 24763
    # codex reports 2 x 24763 after the second turn; the turn's own share is the difference.
    second = run_turn(
        provider,
        request(project, "two", resume=sid, turn_id="tu2", session_usage=one.session_total),
    )
    [two] = of_type(second, Usage)
    assert two.reported is not None and two.reported["input_tokens"] == 2 * 24763
    assert (two.input_tokens, two.cached_input_tokens, two.output_tokens) == (24763, 24448, 122)
    # A previous total t3 does not know counts the whole reported figure, once.
    third = run_turn(provider, request(project, "three", resume=sid, turn_id="tu3"))
    assert of_type(third, Usage)[0].input_tokens == 3 * 24763


def test_a_lost_session_fails_with_codexs_error_line_not_the_backtrace(project: Path) -> None:
    sid = "01a2175f-3da2-7ae0-83ad-000000000000"
    done = final(run_turn(codex(), request(project, "FAKE:lost_session", resume=sid)))
    assert done.status == "failed"
    assert done.error == (
        "codex: agent exited with code 1: Error: thread/resume: thread/resume failed: no rollout"
        f" found for thread id {sid} (code -32600)"
    )


def test_a_session_open_in_another_codex_says_so(project: Path) -> None:
    sid = "01a2175f-3da2-7ae0-83ad-111111111111"
    done = final(run_turn(codex(), request(project, "FAKE:active_writer", resume=sid)))
    assert done.status == "failed"
    assert done.error == (
        f"codex: the agent session {sid} is open in another codex process (close it, then "
        "`t3 retry`)"
    )


def test_missing_project_directory_is_a_clean_failure(tmp_path: Path) -> None:
    done = final(run_turn(codex(), request(tmp_path / "gone")))
    assert done.status == "failed"
    assert "project directory does not exist" in (done.error or "")


def test_check_reports_the_version_from_stdout_not_the_warning(tmp_path: Path) -> None:
    check = codex().check()
    assert check.found and check.version == "codex-cli 0.0.0-fake" and check.problem is None
    assert check.executable == str(FAKES / "codex")

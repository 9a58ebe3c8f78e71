"""The codex adapter: argv, transcript mapping, resume, and codex-specific outcomes."""

from __future__ import annotations

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
    if record is not None:
        table["env"] = {"FAKE_RECORD": str(record)}
    return make_provider("codex", {**table, **options})


def test_transcript_maps_to_runtime_events(project: Path) -> None:
    events = run_turn(codex(), request(project, "run the tests"))

    assert events[1] == TurnStarted()
    activities = of_type(events, Activity)
    assert [(a.kind, a.item_id, a.status) for a in activities] == [
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
    command = activities[2]
    assert command.detail["command"] == "bash -lc 'pytest -q'"
    assert command.detail["exit_code"] == 0
    assert command.detail["output_tail"] == "3 passed\n"
    assert activities[4].summary == "update src/app.py"
    assert activities[5].summary == "docs.search"
    assert activities[8].summary == "plan: 2/2 done"
    assert of_type(events, TextCompleted) == [TextCompleted("item_5", "done: run the tests")]
    assert of_type(events, Usage) == [Usage(24763, 122, 24448, None)]
    assert final(events).status == "completed"


def test_argv_has_the_configured_flags_and_the_project_dir(project: Path, record: Path) -> None:
    provider = codex(record, model="gpt-5-codex", sandbox="workspace-write", extra_args=["--oss"])
    assert final(run_turn(provider, request(project, "hi"))).status == "completed"
    entry = read_records(record)[0]
    assert entry["argv"] == [
        "exec", "--json", "--cd", str(project), "--model", "gpt-5-codex",
        "--sandbox", "workspace-write", "--skip-git-repo-check", "--oss", "hi",
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
    assert argv[-3:] == ["resume", sid, "two"]
    assert argv.index("--model") < argv.index("resume")
    assert "resume" not in read_records(record)[0]["argv"]


def test_outside_a_git_repo_without_the_skip_flag_fails_with_codexs_reason(project: Path) -> None:
    provider = codex(skip_git_repo_check=False)
    done = final(run_turn(provider, request(project)))
    assert done.status == "failed"
    assert "--skip-git-repo-check was not specified" in (done.error or "")


def test_error_line_before_turn_started_is_only_a_warning(project: Path) -> None:
    events = run_turn(codex(), request(project, "FAKE:error_before_turn"))
    assert final(events).status == "completed"
    assert of_type(events, Activity)[0].summary == "codex: Re-connecting... 1/5"
    assert of_type(events, Activity)[0].kind == "warning"


def test_missing_project_directory_is_a_clean_failure(tmp_path: Path) -> None:
    done = final(run_turn(codex(), request(tmp_path / "gone")))
    assert done.status == "failed"
    assert "project directory does not exist" in (done.error or "")


def test_check_reports_the_version(tmp_path: Path) -> None:
    check = codex().check()
    assert check.found and check.version == "codex-cli 0.0.0-fake" and check.problem is None
    assert check.executable == str(FAKES / "codex")

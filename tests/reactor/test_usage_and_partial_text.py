"""Per-turn usage of cumulative providers, and the partial text of turns that did not complete.

Ingestion is tested on its own with plain values; the whole path (fake codex, `t3 send` in
separate processes, so nothing survives in a reactor's memory) on a real SQLite file.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from t3cli.contracts import commands as c
from t3cli.contracts.runtime import SessionStarted, TextDelta, TurnCompleted, Usage
from t3cli.reactor.ingest import TurnIngestor
from tests.conftest import FAKES

T3 = Callable[..., subprocess.CompletedProcess[str]]


def closing(ingestor: TurnIngestor, status: str) -> list[c.Command]:
    return ingestor.finish(
        TurnCompleted(status),  # type: ignore[arg-type]
        duration_ms=1,
        session_status="ready",
    )


def ended(commands: list[c.Command]) -> c.TurnCompletedCmd:
    [end] = [cmd for cmd in commands if isinstance(cmd, c.TurnCompletedCmd)]
    return end


@pytest.mark.parametrize(
    ("status", "complete"),
    [("completed", True), ("interrupted", False), ("failed", False), ("timed_out", False)],
)
def test_text_the_provider_never_completed_is_complete_only_if_the_turn_was(
    status: str, complete: bool
) -> None:
    ingestor = TurnIngestor("t", "u", "claude")
    ingestor.feed(TextDelta("msg_1", "one two th"))
    appends = [cmd for cmd in closing(ingestor, status) if isinstance(cmd, c.MessageAppend)]
    assert [(cmd.text, cmd.complete) for cmd in appends] == [("one two th", complete)]


def test_a_cumulative_total_is_recorded_and_carried_over_a_turn_that_reported_none() -> None:
    total = {"input_tokens": 250, "cached_input_tokens": 0, "output_tokens": 15}
    reporting = TurnIngestor("t", "u1", "codex", recorded_session_id="s1")
    reporting.feed(Usage(130, 8, 0, reported=total, session_total=total))
    end = ended(closing(reporting, "completed"))
    assert (end.input_tokens, end.reported_usage, end.session_usage) == (130, total, total)
    assert end.provider_session_id == "s1"
    # A failed turn reports nothing: the session's total so far stays findable for the next one.
    silent = TurnIngestor("t", "u2", "codex", recorded_session_id="s1", session_usage=total)
    end = ended(closing(silent, "failed"))
    assert (end.input_tokens, end.reported_usage, end.session_usage) == (None, None, total)


def test_a_total_is_never_carried_into_another_session() -> None:
    ingestor = TurnIngestor(
        "t", "u", "codex", recorded_session_id="s1", session_usage={"input_tokens": 9}
    )
    ingestor.feed(SessionStarted("s2"))
    assert ended(closing(ingestor, "failed")).session_usage is None


def test_each_turn_records_its_share_of_codexs_running_total(
    t3: T3, t3_home: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    t3_home.mkdir(parents=True, exist_ok=True)
    (t3_home / "config.toml").write_text(
        "[providers.codex]\n"
        f'binary = "{FAKES / "codex"}"\n'
        "skip_git_repo_check = true\n"
        f'env = {{ CODEX_HOME = "{tmp_path / "codex-home"}" }}\n'
    )
    thread = t3("new", "--project", str(project), "--provider", "codex").stdout.strip()
    for message in ("one", "two", "three"):  # each `t3 send` is a new reactor
        done = t3("send", thread, message)
        assert done.returncode == 0, done.stderr
    shown = json.loads(t3("show", thread, "--json").stdout)
    # The fake codex reports 24763 more input tokens per turn, as a running total.
    assert [t["usage"]["input_tokens"] for t in shown["turns"]] == [24763] * 3
    assert shown["thread"]["input_tokens"] == 3 * 24763
    events = [json.loads(line) for line in t3("events", "--json").stdout.splitlines()]
    reported = [
        e["payload"]["reported_usage"]["input_tokens"]
        for e in events
        if e["type"] == "thread.turn-completed"
    ]
    assert reported == [24763, 2 * 24763, 3 * 24763]  # the raw figures, kept for audit
    assert t3("replay", "--check").returncode == 0

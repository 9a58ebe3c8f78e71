"""Scenarios through `t3` with the real codex and claude CLIs against a loopback mock model.

Each test runs for every pinned agent (codex 0.169.0, claude 2.1.197 and 2.1.332) unless it is
about one kind only; see `conftest.py` for the setting and `agents.py` for the installation.
"""

from __future__ import annotations

import signal
import subprocess
from typing import Any

import pytest

from .agents import CODEX
from .conftest import World, agent_executable, agents
from .mock_models import Reply, ToolCall


def ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def session_of(world: World, thread: str) -> str:
    ids = {
        e["payload"]["provider_session_id"]
        for e in world.events(thread, "thread.session-set")
        if e["payload"].get("provider_session_id")
    }
    assert len(ids) == 1, ids
    return ids.pop()


def usage(turn: dict[str, Any]) -> tuple[int, int, int]:
    u = turn["usage"]
    return u["input_tokens"], u["cached_input_tokens"], u["output_tokens"]


def assistant_texts(shown: dict[str, Any]) -> list[str]:
    return [m["text"] for m in shown["messages"] if m["role"] == "assistant"]


def test_first_turn_then_a_resumed_turn_with_the_earlier_exchange(world: World) -> None:
    world.model.script(
        Reply(text="First answer.", input_tokens=120, cached_input_tokens=20, output_tokens=7),
        Reply(text="Second answer.", input_tokens=130, cached_input_tokens=40, output_tokens=8),
    )
    thread = world.new_thread()
    assert "First answer." in ok(world.t3("send", thread, "first question")).stdout
    # A message that starts with a dash is the prompt, never an option.
    assert "Second answer." in ok(world.t3("send", thread, "--", "-v is not a flag")).stdout

    first, second = world.model.requests
    assert "first question" in first.text() and "First answer." not in first.text()
    for said in ("first question", "First answer.", "-v is not a flag"):
        assert said in second.text()
    session = session_of(world, thread)
    argv_one, argv_two = world.argvs()
    assert session not in argv_one
    assert argv_one[-2:] == ["--", "first question"]
    if world.agent.kind == "codex":
        assert argv_two[-4:] == ["resume", session, "--", "-v is not a flag"]
    else:
        assert argv_two[argv_two.index("--resume") + 1] == session
        assert argv_two[-2:] == ["--", "-v is not a flag"]

    shown = world.show(thread)
    assert assistant_texts(shown) == ["First answer.", "Second answer."]
    # Per turn, exactly as the model sent it (codex reports running totals: 120, then 250).
    assert [usage(t) for t in shown["turns"]] == [(120, 20, 7), (130, 40, 8)]
    assert (shown["thread"]["input_tokens"], shown["thread"]["output_tokens"]) == (250, 15)
    [reported] = [
        e["payload"]["reported_usage"] for e in world.events(thread, "thread.turn-completed")
    ][1:]
    if world.agent.kind == "codex":  # the raw cumulative figure is kept for audit
        assert (reported["input_tokens"], reported["output_tokens"]) == (250, 15)
    else:  # claude's input excludes cache reads
        assert (reported["input_tokens"], reported["cache_read_input_tokens"]) == (90, 40)


def test_two_queued_turns_run_in_order(world: World) -> None:
    world.model.script(
        Reply(text="one done", input_tokens=100, output_tokens=5),
        Reply(text="two done", input_tokens=150, output_tokens=6),
    )
    thread = world.new_thread()
    ok(world.t3("queue", thread, "step one"))
    ok(world.t3("queue", thread, "step two"))
    ok(world.t3("run", "--until-idle"))
    shown = world.show(thread)
    assert [(m["role"], m["text"]) for m in shown["messages"]] == [
        ("user", "step one"),
        ("assistant", "one done"),
        ("user", "step two"),
        ("assistant", "two done"),
    ]
    assert [t["status"] for t in shown["turns"]] == ["completed", "completed"]
    assert [usage(t) for t in shown["turns"]] == [(100, 0, 5), (150, 0, 6)]
    assert shown["queue"] == []
    assert "step one" in world.model.requests[1].text()


def test_interrupt_during_a_slow_reply(world: World) -> None:
    words = "one two three four five six seven eight nine ten"
    world.model.script(Reply(text=words, chunks=10, chunk_delay_s=0.4))
    thread = world.new_thread()
    send = world.popen_t3("send", thread, "count slowly")
    try:
        world.model.wait_for_deltas(3)
        ok(world.t3("interrupt", thread))
        _, err = send.communicate(timeout=60)
    finally:
        if send.poll() is None:
            send.kill()
    assert send.returncode == 130, err
    shown = world.show(thread)
    [turn] = shown["turns"]
    assert turn["status"] == "interrupted"
    replies = [m for m in shown["messages"] if m["role"] == "assistant"]
    if world.agent.kind == "claude":
        # claude flushes what it had; t3 keeps it, marked incomplete.
        [partial] = replies
        assert partial["complete"] is False
        assert partial["text"] and words.startswith(partial["text"]) and partial["text"] != words
        assert "…" in world.t3("show", thread).stdout
    else:
        assert replies == []  # codex prints nothing of a reply it did not finish


ERRORS = {
    500: "Internal server error (mock)",
    401: "invalid x-api-key (mock)",
    429: "rate limited (mock)",
}
EXPECTED = {
    ("codex", 500): "codex: We\u2019re currently experiencing high demand",  # codex's wording
    ("codex", 401): "codex: unexpected status 401 Unauthorized: invalid x-api-key (mock)",
    ("codex", 429): "codex: exceeded retry limit, last status: 429 Too Many Requests",
    ("claude", 500): "claude: API error 500: Internal server error (mock).",
    ("claude", 401): "claude: API error 401: Invalid API key",
    ("claude", 429): "claude: API error 429: Request rejected (429) · rate limited (mock)",
}


@pytest.mark.parametrize("status", [500, 401, 429])
def test_http_errors_fail_the_turn_with_the_reason(world: World, status: int) -> None:
    world.model.script(Reply(status=status, error_message=ERRORS[status]))
    thread = world.new_thread()
    done = world.t3("send", thread, "hello")
    assert done.returncode == 5, done.stderr
    expected = EXPECTED[(world.agent.kind, status)]
    assert f"error: turn failed: {expected}" in done.stderr
    shown = world.show(thread)
    [turn] = shown["turns"]
    assert turn["status"] == "failed" and turn["error"].startswith(expected)
    assert assistant_texts(shown) == []  # an API error is never the assistant's reply


def test_a_model_that_never_answers_trips_the_turn_timeout_not_the_start_timeout(
    world: World,
) -> None:
    # Both CLIs print their first line before they contact the model.
    world.configure(start_timeout_s=4, turn_timeout_s=6)
    world.model.script(Reply(delay_s=120))
    thread = world.new_thread()
    done = world.t3("send", thread, "hello")
    assert done.returncode == 5, done.stderr
    [turn] = world.show(thread)["turns"]
    kind = world.agent.kind
    assert turn["status"] == "timed_out"
    assert turn["error"] == f"{kind} turn timed out after 6 s (providers.{kind}.turn_timeout_s)"


def test_an_agent_silent_past_the_start_timeout_is_killed(world: World) -> None:
    world.configure(start_timeout_s=0.001)  # no process prints its first line within 1 ms
    thread = world.new_thread()
    done = world.t3("send", thread, "hello")
    assert done.returncode == 5, done.stderr
    [turn] = world.show(thread)["turns"]
    assert turn["status"] == "timed_out"
    assert "waiting for the agent to start" in turn["error"]
    assert world.model.requests == []


def test_a_tool_call_runs_and_its_output_goes_back_to_the_model(world: World) -> None:
    if world.agent.kind == "claude":
        # The first turn with allowed_tools: `--allowedTools` must not swallow the prompt.
        world.configure(allowed_tools=["Bash"])
    world.model.script(Reply(tool_call=ToolCall("echo hi-from-tool")), Reply(text="It said hi."))
    thread = world.new_thread()
    assert "It said hi." in ok(world.t3("send", thread, "run the tool")).stdout
    assert "hi-from-tool" in world.model.requests[1].text()
    finished = [
        e["payload"]
        for e in world.events(thread, "thread.activity-appended")
        if e["payload"]["kind"] in ("command", "tool_call")
        and e["payload"]["status"] == "completed"
    ]
    assert any("hi-from-tool" in a["detail"]["output_tail"] for a in finished), finished
    if world.agent.kind == "claude":
        [argv] = world.argvs()
        assert argv[argv.index("--allowedTools") + 1] == "Bash"
        assert argv[-2:] == ["--", "run the tool"]


def test_a_project_that_is_not_a_git_repository(world: World) -> None:
    plain = world.root / "plain"
    plain.mkdir()
    world.model.script(Reply(text="Fine here."))
    done = ok(world.t3("new", "--project", str(plain), "--provider", world.provider))
    thread = done.stdout.strip()
    if world.agent.kind == "codex":
        refused = world.t3("send", thread, "hello")
        assert refused.returncode == 5
        assert (
            "error: turn failed: codex: the project is not inside a git repository, and codex"
            " refuses to run there (set providers.codex.skip_git_repo_check = true in config.toml,"
            " or `git init`)"
        ) in refused.stderr
        world.configure(skip_git_repo_check=True)
    assert "Fine here." in ok(world.t3("send", thread, "hello")).stdout


def test_a_lost_agent_session_fails_with_the_agents_reason(world: World) -> None:
    world.model.script(Reply(text="I will forget this."))
    thread = world.new_thread()
    ok(world.t3("send", thread, "remember me"))
    session = session_of(world, thread)
    world.lose_agent_state()
    done = world.t3("send", thread, "do you remember?")
    assert done.returncode == 5
    [_, turn] = world.show(thread)["turns"]
    if world.agent.kind == "codex":
        reason = f"no rollout found for thread id {session} (code -32600)"
        assert turn["error"].startswith("codex: agent exited with code 1: Error: thread/resume")
        assert "Stack backtrace" not in turn["error"] and "<unknown>" not in turn["error"]
    else:
        reason = f"claude: error_during_execution: No conversation found with session ID: {session}"
    assert turn["status"] == "failed" and turn["error"].endswith(reason)
    assert f"error: turn failed: {turn['error']}" in done.stderr


@agents("codex")
def test_a_codex_session_open_in_another_codex_process(world: World) -> None:
    world.model.script(
        Reply(text="first"), Reply(text="a long answer " * 10, chunks=50, chunk_delay_s=0.5)
    )
    thread = world.new_thread()
    ok(world.t3("send", thread, "first"))
    session = session_of(world, thread)
    env = {**world.env(), **world.agent_env()}
    holder = subprocess.Popen(
        [str(agent_executable(CODEX)), "exec", "--json", "--cd", str(world.project), "resume",
         session, "--", "hold the session"],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        world.model.wait_for_deltas(1)  # the other codex is mid-reply: it holds the session
        done = world.t3("send", thread, "second")
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert done.returncode == 5
    [_, turn] = world.show(thread)["turns"]
    assert turn["error"] == (
        f"codex: the agent session {session} is open in another codex process (close it, then "
        "`t3 retry`)"
    )


@agents("claude")
def test_claude_api_retries_are_warnings_shown_live_and_in_show(world: World) -> None:
    world.configure(env={"CLAUDE_CODE_MAX_RETRIES": "1"})
    world.model.script(
        Reply(status=500), Reply(text="After a retry."), Reply(status=500), Reply(text="Again.")
    )
    retry = "claude: API retry 1/1 after HTTP 500 (server_error)"
    thread = world.new_thread()
    done = ok(world.t3("send", thread, "hello"))
    assert "After a retry." in done.stdout
    assert f"warning: {retry}, next try in " in done.stderr  # live, while the turn runs
    ok(world.t3("queue", thread, "once more"))
    run = ok(world.t3("run", "--until-idle"))
    assert f"{thread[:8]} warning: {retry}" in run.stdout  # t3 run's plain lines
    turns = world.show(thread)["turns"]
    assert [[w.split(",")[0] for w in t["warnings"]] for t in turns] == [[retry], [retry]]
    assert f"warning: {retry}" in ok(world.t3("show", thread)).stdout


@agents("codex")
def test_codex_reconnects_are_warnings_and_its_failure_is_said_once(world: World) -> None:
    # codex 0.169 retries a failed request silently when the retry works; a retry that fails
    # too prints "Reconnecting... 1/1 (...)", then the reason of the failure twice.
    world.set_codex_retries(1)
    world.model.script(Reply(status=500))
    thread = world.new_thread()
    done = world.t3("send", thread, "hello")
    assert done.returncode == 5
    demand = "We\u2019re currently experiencing high demand, which may cause temporary errors."
    assert f"warning: codex: Reconnecting... 1/1 ({demand})" in done.stderr  # live
    [turn] = world.show(thread)["turns"]
    assert [w for w in turn["warnings"] if "high demand" in w] == [
        f"codex: Reconnecting... 1/1 ({demand})"
    ]  # the failure's own reason is the turn's error, not one more warning
    assert turn["error"] == f"codex: {demand}"


def test_providers_reports_the_version_from_stdout(world: World) -> None:
    import json

    rows = {row["name"]: row for row in json.loads(ok(world.t3("providers", "--json")).stdout)}
    row = rows[world.provider]
    assert row["found"] is True and row["problem"] is None
    assert world.agent.version in row["version"]
    assert not row["version"].startswith("WARNING")

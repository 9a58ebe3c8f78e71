"""Every PROTOCOLS.md failure mode, for each agent adapter (codex and claude), against the fakes.

Each test runs the real adapter on the real fake executable and asserts what a user would see:
the runtime events and the final `TurnCompleted` status and error.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from t3cli.contracts.runtime import (
    Activity,
    SessionStarted,
    TextCompleted,
    TurnCompleted,
)
from t3cli.providers.base import Provider, TurnRun

from .conftest import (
    FAKES,
    collect,
    final,
    make_provider,
    of_type,
    read_pids,
    read_records,
    request,
    run_turn,
    session_id,
    wait_dead,
)

AGENTS = ["codex", "claude"]


def agent(kind: str, **options: Any) -> Provider:
    table: dict[str, Any] = {"binary": str(FAKES / kind), **options}
    if kind == "codex":
        table.setdefault("skip_git_repo_check", True)
    return make_provider(kind, table)


@pytest.mark.parametrize("kind", AGENTS)
def test_exit_nonzero_with_nothing_on_stdout_fails_with_the_stderr_tail(
    kind: str, project: Path
) -> None:
    events = run_turn(agent(kind), request(project, "FAKE:exit_silent"))
    done = final(events)
    assert done.status == "failed"
    assert "agent exited with code" in (done.error or "")
    assert "exit_silent" in (done.error or "")  # the fake's stderr line
    assert of_type(events, SessionStarted) == []


@pytest.mark.parametrize("kind", AGENTS)
def test_garbage_lines_are_counted_and_skipped(kind: str, project: Path) -> None:
    events = run_turn(agent(kind), request(project, "FAKE:garbage"))
    assert final(events).status == "completed"
    warnings = [a for a in of_type(events, Activity) if "skipped_lines" in a.detail]
    expected = {"codex": 5, "claude": 3}[kind]
    assert [w.detail["skipped_lines"] for w in warnings] == [expected]
    assert of_type(events, TextCompleted)[-1].text == "done: FAKE:garbage"
    assert events[-2] is warnings[0]  # reported once, at the end


@pytest.mark.parametrize("kind", AGENTS)
def test_invalid_utf8_is_replaced_not_raised(kind: str, project: Path) -> None:
    events = run_turn(agent(kind), request(project, "FAKE:invalid_utf8"))
    assert final(events).status == "completed"
    assert of_type(events, TextCompleted)[-1].text == "caf\ufffd \ufffd\ufffd ok"


@pytest.mark.parametrize(
    ("kind", "error"),
    [("codex", "codex: stream disconnected"), ("claude", "claude: error_max_turns")],
)
def test_terminal_failure_event_fails_the_turn_with_its_message(
    kind: str, error: str, project: Path
) -> None:
    events = run_turn(agent(kind), request(project, "FAKE:turn_failed"))
    assert final(events) == TurnCompleted("failed", error=error)
    assert session_id(events)  # the session exists: a later turn can resume it


@pytest.mark.parametrize("kind", AGENTS)
def test_crash_by_sigkill_mid_turn_fails_with_the_signal(kind: str, project: Path) -> None:
    events = run_turn(agent(kind), request(project, "FAKE:sigkill"))
    done = final(events)
    assert done.status == "failed"
    assert (done.error or "").startswith(f"{kind}: agent exited with signal 9")


@pytest.mark.parametrize("kind", AGENTS)
def test_hang_before_the_first_line_hits_the_start_timeout_and_kills_the_group(
    kind: str, project: Path, pidfile: Path
) -> None:
    # Long enough for a loaded machine to start the fake (a Python script: ~0.4 s under load)
    # and let it write its pids; it then never prints, so the timeout is what ends the turn.
    provider = agent(kind, start_timeout_s=2, env={"FAKE_PIDFILE": str(pidfile)})
    events = run_turn(provider, request(project, "FAKE:hang_start"))
    done = final(events)
    assert done.status == "timed_out"
    assert done.error == (
        f"{kind} timed out after 2 s waiting for the agent to start "
        f"(providers.{kind}.start_timeout_s)"
    )
    leader, grandchild = read_pids(pidfile)
    assert wait_dead(leader)
    assert wait_dead(grandchild)


@pytest.mark.parametrize("kind", AGENTS)
def test_hang_mid_turn_hits_the_turn_timeout_and_kills_the_group(
    kind: str, project: Path, pidfile: Path
) -> None:
    provider = agent(kind, turn_timeout_s=3, env={"FAKE_PIDFILE": str(pidfile)})
    events = run_turn(provider, request(project, "FAKE:hang_mid_turn"))
    done = final(events)
    assert done.status == "timed_out"
    assert done.error == f"{kind} turn timed out after 3 s (providers.{kind}.turn_timeout_s)"
    assert session_id(events)
    leader, grandchild = read_pids(pidfile)
    assert wait_dead(leader)
    assert wait_dead(grandchild)


@pytest.mark.parametrize("kind", AGENTS)
def test_megabytes_of_output_are_streamed_whole(kind: str, project: Path) -> None:
    events = run_turn(agent(kind), request(project, "FAKE:big"))
    assert final(events).status == "completed"
    assert of_type(events, TextCompleted)[-1].text == "B" * (3 * 1024 * 1024)
    assert len(of_type(events, Activity)) > 1500


@pytest.mark.parametrize("kind", AGENTS)
def test_missing_executable_names_the_binary_and_the_config_key(
    kind: str, project: Path, tmp_path: Path
) -> None:
    missing = str(tmp_path / "nowhere" / kind)
    events = run_turn(agent(kind, binary=missing), request(project))
    assert events == [
        TurnCompleted(
            "failed",
            error=f"{kind} executable not found: {missing!r} "
            f"(set providers.{kind}.binary in config.toml)",
        )
    ]


@pytest.mark.parametrize("kind", AGENTS)
def test_default_binary_missing_from_path(kind: str, project: Path, tmp_path: Path) -> None:
    provider = make_provider(kind, {"env": {"PATH": str(tmp_path)}})
    assert final(run_turn(provider, request(project))).error == (
        f"{kind} executable not found: {kind!r} (set providers.{kind}.binary in config.toml)"
    )


@pytest.mark.parametrize("kind", AGENTS)
def test_stdin_is_not_inherited(kind: str, project: Path, record: Path) -> None:
    # Make this process's stdin an open pipe nobody writes to, as under cron or a parent's
    # pipe. A fake that inherited it would block reading it and the turn would time out.
    read_end, write_end = os.pipe()
    saved = os.dup(0)
    os.dup2(read_end, 0)
    try:
        provider = agent(kind, turn_timeout_s=2, env={"FAKE_RECORD": str(record)})
        events = run_turn(provider, request(project))
    finally:
        os.dup2(saved, 0)
        for fd in (saved, read_end, write_end):
            os.close(fd)
    assert final(events).status == "completed"
    assert read_records(record)[0]["stdin_kind"] == "devnull"


async def _interrupt(run: TurnRun) -> None:
    await run.interrupt()


async def _stop(run: TurnRun) -> None:
    await run.stop()


@pytest.mark.parametrize("kind", AGENTS)
def test_interrupt_ends_the_turn_and_the_group(kind: str, project: Path, pidfile: Path) -> None:
    provider = agent(kind, env={"FAKE_PIDFILE": str(pidfile)})
    events = run_turn(provider, request(project, "FAKE:hang_mid_turn"), after_first=_interrupt)
    assert final(events) == TurnCompleted("interrupted", error="interrupted")
    leader, grandchild = read_pids(pidfile)
    assert wait_dead(leader)
    assert wait_dead(grandchild)


@pytest.mark.parametrize("kind", AGENTS)
def test_interrupt_escalates_to_sigkill_when_sigint_is_ignored(
    kind: str, project: Path, pidfile: Path
) -> None:
    provider = agent(kind, interrupt_grace_s=0.3, env={"FAKE_PIDFILE": str(pidfile)})

    async def interrupt_when_ignoring(run: TurnRun) -> None:
        # The fake ignores SIGINT only once it has printed its first lines.
        await asyncio.sleep(0.3)
        await run.interrupt()

    events = run_turn(
        provider, request(project, "FAKE:ignore_sigint"), after_first=interrupt_when_ignoring
    )
    assert final(events).status == "interrupted"
    leader, grandchild = read_pids(pidfile)
    assert wait_dead(leader)
    assert wait_dead(grandchild)


@pytest.mark.parametrize("kind", AGENTS)
def test_stop_kills_the_group_at_once(kind: str, project: Path, pidfile: Path) -> None:
    provider = agent(kind, env={"FAKE_PIDFILE": str(pidfile)})
    events = run_turn(provider, request(project, "FAKE:hang_mid_turn"), after_first=_stop)
    assert final(events) == TurnCompleted("interrupted", error="stopped")
    leader, grandchild = read_pids(pidfile)
    assert wait_dead(leader)
    assert wait_dead(grandchild)


@pytest.mark.parametrize("kind", AGENTS)
def test_abandoning_the_stream_kills_the_group(kind: str, project: Path, pidfile: Path) -> None:
    provider = agent(kind, env={"FAKE_PIDFILE": str(pidfile)})

    async def first_event_then_leave() -> None:
        stream = provider.start_turn(request(project, "FAKE:hang_mid_turn")).events()
        await anext(stream)
        await stream.aclose()  # type: ignore[attr-defined]

    asyncio.run(first_event_then_leave())
    leader, grandchild = read_pids(pidfile)
    assert wait_dead(leader)
    assert wait_dead(grandchild)


@pytest.mark.parametrize("kind", AGENTS)
def test_env_reaches_the_agent_but_no_event(kind: str, project: Path, record: Path) -> None:
    secret = "s3cret-token-value"
    provider = agent(kind, env={"FAKE_RECORD": str(record), "T3TEST_TOKEN": secret})
    events = run_turn(provider, request(project, "FAKE:exit_silent"))
    assert read_records(record)[0]["env"]["T3TEST_TOKEN"] == secret
    assert secret not in repr(events)


@pytest.mark.parametrize("kind", AGENTS)
def test_a_message_that_looks_like_a_flag_stays_the_prompt(kind: str, project: Path) -> None:
    events = run_turn(agent(kind), request(project, "--help me with this"))
    assert final(events).status == "completed"
    assert of_type(events, TextCompleted)[-1].text == "done: --help me with this"


def test_interrupt_before_the_stream_starts_runs_nothing(project: Path, record: Path) -> None:
    provider = agent("codex", env={"FAKE_RECORD": str(record)})
    run = provider.start_turn(request(project))

    async def go() -> list[Any]:
        await run.interrupt()
        return await collect(run)

    assert final(asyncio.run(go())).status == "interrupted"
    assert not record.exists()


def test_a_grandchild_holding_stdout_does_not_hold_the_turn(project: Path, pidfile: Path) -> None:
    # The fake leaves a sleeping grandchild that inherited its stdout, then exits successfully:
    # the turn still ends (after a short grace) and the leftover is killed with the group.
    provider = agent("codex", env={"FAKE_PIDFILE": str(pidfile)})
    events = run_turn(provider, request(project, "hi"))
    assert final(events).status == "completed"
    _, grandchild = read_pids(pidfile)
    assert wait_dead(grandchild)


def test_cancelling_the_consuming_task_kills_the_group(project: Path, pidfile: Path) -> None:
    provider = agent("claude", env={"FAKE_PIDFILE": str(pidfile)})

    async def consume_then_cancel() -> None:
        seen = asyncio.Event()

        async def consume() -> None:
            async for _ in provider.start_turn(request(project, "FAKE:hang_mid_turn")).events():
                seen.set()

        task = asyncio.create_task(consume())
        await seen.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(consume_then_cancel())
    leader, grandchild = read_pids(pidfile)
    assert wait_dead(leader)
    assert wait_dead(grandchild)

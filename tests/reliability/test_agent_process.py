"""The agent's leash and process groups: real processes, real signals, real `/proc`.

- `end_group` ends what is left of a recorded group on this host — the leader and everything in
  its group, even once the leader is gone — and never a process that merely reuses its pid, nor
  anything recorded on another host.
- The launch gate sees the group before the agent exists; when it says no, nothing starts.
- Under its leash an agent gets exactly the environment, stdin and signals it would get without
  it, and its exit (status or signal) is reported as its own.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from t3cli.providers._process import AgentProcess, LaunchRefused
from t3cli.providers.agent_groups import LAUNCH_GATE, AgentGroup, describe, end_group
from tests.reliability.support import wait_until
from tests.reliability.test_delivery import alive, kill_if_alive

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


@pytest.fixture
def spawned() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def group_of(procs: list[subprocess.Popen[bytes]], script: str) -> subprocess.Popen[bytes]:
    """`sh -c script` leading a new process group, with a pipe as stdin."""
    proc = subprocess.Popen(["sh", "-c", script], start_new_session=True, stdin=subprocess.PIPE)
    procs.append(proc)
    return proc


def members(pgid: int) -> list[int]:
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.getpgid(int(name)) == pgid and alive(int(name)):
                    out.append(int(name))
            except ProcessLookupError:
                pass
    return out


def test_a_live_group_is_ended_with_its_children(spawned: list[subprocess.Popen[bytes]]) -> None:
    leader = group_of(spawned, "sleep 60 & sleep 61; wait")
    wait_until(lambda: len(members(leader.pid)) == 3, what="the group to form")
    group = describe(leader.pid)
    assert group is not None and group.pgid == leader.pid
    assert asyncio.run(end_group(group)) == "ended"
    assert members(leader.pid) == []
    assert asyncio.run(end_group(group)) == "gone"


def test_a_group_whose_leader_exited_is_still_ended(
    spawned: list[subprocess.Popen[bytes]],
) -> None:
    leader = group_of(spawned, "sleep 60 & read line")
    wait_until(lambda: len(members(leader.pid)) == 2, what="the group to form")
    group = describe(leader.pid)
    assert group is not None
    assert leader.stdin is not None
    leader.stdin.close()  # the leader exits; its child stays in the group
    leader.wait()
    [left] = members(leader.pid)
    assert asyncio.run(end_group(group)) == "ended"
    wait_until(lambda: not alive(left), what="the leftover child to die")


def test_a_pid_that_names_another_process_now_is_left_alone(
    spawned: list[subprocess.Popen[bytes]],
) -> None:
    other = group_of(spawned, "sleep 60")
    group = describe(other.pid)
    assert group is not None
    reused = AgentGroup(group.host, group.process_space, group.pgid, group.leader_start + 1)
    assert asyncio.run(end_group(reused)) == "gone"
    assert alive(other.pid)


def test_a_group_recorded_on_another_host_is_out_of_reach(
    spawned: list[subprocess.Popen[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    other = group_of(spawned, "sleep 60")
    group = describe(other.pid)
    assert group is not None
    monkeypatch.setenv("T3_HOST", "somewhere-else")
    assert asyncio.run(end_group(group)) == "elsewhere"
    assert alive(other.pid)


async def _spawn(argv: list[str], tmp_path: Path, **kwargs: object) -> AgentProcess:
    env = {"PATH": os.environ["PATH"], "T3TEST": "exact"}
    kwargs.setdefault("stdin_data", None)
    return await AgentProcess.spawn(argv, cwd=tmp_path, env=env, **kwargs)  # type: ignore[arg-type]


async def _output(proc: AgentProcess) -> tuple[bytes, int]:
    out = b"".join([chunk async for chunk in proc.chunks()])
    code = await proc.wait()
    proc.close()
    return out, code


def test_a_refused_launch_starts_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "agent-ran"
    seen: list[AgentGroup] = []

    async def refuse(group: AgentGroup) -> bool:
        seen.append(group)
        assert describe(group.pgid) == group  # the leash exists, waiting: the agent does not
        return False

    async def scenario() -> None:
        LAUNCH_GATE.set(refuse)
        with pytest.raises(LaunchRefused):
            await _spawn([sys.executable, "-c", f"open({str(marker)!r}, 'w')"], tmp_path)

    asyncio.run(scenario())
    [group] = seen
    wait_until(lambda: not alive(group.pgid), what="the refused leash to go")
    assert not marker.exists()


def test_an_interrupt_before_the_start_starts_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "agent-ran"

    async def scenario() -> None:
        with pytest.raises(LaunchRefused):
            await _spawn(
                [sys.executable, "-c", f"open({str(marker)!r}, 'w')"], tmp_path,
                may_start=lambda: False,
            )  # fmt: skip

    asyncio.run(scenario())
    assert not marker.exists()


def test_the_agent_gets_exactly_its_environment_and_stdin(tmp_path: Path) -> None:
    async def scenario() -> tuple[bytes, bytes]:
        env_proc = await _spawn(["/usr/bin/env"], tmp_path)
        cat = await _spawn(["/bin/cat"], tmp_path, stdin_data=b"x" * 300_000)
        return (await _output(env_proc))[0], (await _output(cat))[0]

    env_out, cat_out = asyncio.run(scenario())
    # No LC_CTYPE from the leash's own Python start-up, nothing of the reactor's environment.
    assert sorted(env_out.decode().splitlines()) == sorted(
        [f"PATH={os.environ['PATH']}", "T3TEST=exact"]
    )
    assert cat_out == b"x" * 300_000


@pytest.mark.parametrize(
    ("script", "code"),
    [
        ("import sys; sys.exit(3)", 3),
        ("import os, signal; os.killpg(0, signal.SIGTERM)", -signal.SIGTERM),
        ("import os, signal; os.kill(os.getpid(), signal.SIGINT)", -signal.SIGINT),
    ],
    ids=["exit-3", "group-SIGTERM", "SIGINT"],
)
def test_the_agents_exit_is_reported_as_its_own(tmp_path: Path, script: str, code: int) -> None:
    async def scenario() -> int:
        proc = await _spawn([sys.executable, "-c", script], tmp_path)
        return (await _output(proc))[1]

    assert asyncio.run(scenario()) == code


def test_a_dead_reactor_leaves_no_leash_waiting(tmp_path: Path) -> None:
    """A reactor that dies between starting the leash and letting the agent start: the leash
    goes too, and the agent never starts."""
    marker = tmp_path / "agent-ran"
    pidfile = tmp_path / "leash"
    driver = f"""
import asyncio, os, signal, sys
sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
from t3cli.providers._process import AgentProcess
from t3cli.providers.agent_groups import LAUNCH_GATE

async def die(group):
    open({str(pidfile)!r}, "w").write(str(group.pgid))
    os.kill(os.getpid(), signal.SIGKILL)

async def main():
    LAUNCH_GATE.set(die)
    await AgentProcess.spawn([{sys.executable!r}, "-c", "open({str(marker)!r}, 'w')"],
                             cwd=__import__("pathlib").Path("."), env={{}}, stdin_data=None)

asyncio.run(main())
"""
    done = subprocess.run([sys.executable, "-c", driver], cwd=tmp_path, check=False)
    assert done.returncode == -signal.SIGKILL
    leash = int(pidfile.read_text())
    try:
        wait_until(lambda: not alive(leash), 20, "the leash to follow its reactor")
    finally:
        kill_if_alive(leash)
    assert not marker.exists()

"""Agent process groups as the log records them, and ending one that a dead reactor left.

Every agent runs in a process group led by its leash (`_leash.py`). Before the agent itself is
started, the group is recorded with the turn (`thread.turn-agent-launched`): `AgentGroup` — the
host, the boot and PID namespace (`t3cli.host.process_space`), the group id (the leash's pid)
and the leash's start time (clock ticks after boot, from `/proc/PID/stat`). A pid alone is not an
identity: it is reused; a pid with its start time, within one boot and namespace, is.

`end_group(group)` is what a recovering reactor does before it fails or re-sends a turn whose
reactor died: on this host it SIGKILLs whatever is left of that group — never a process that
merely reuses one of its ids — and waits until it is gone. It answers with `GroupFate`:

- `gone`: nothing of the group runs (it died with its reactor, or ended);
- `ended`: it still ran; it was killed and is gone now;
- `elsewhere`: it ran on another host (or another boot or namespace): it cannot be seen or
  killed from here;
- `unverified`: this host cannot tell (no `/proc`), or the group survived the kill (another
  user's processes).

`LAUNCH_GATE` carries the reactor's hook into the provider layer: the reactor sets it for the
task that runs a turn, and `_process` awaits it with the new group before it lets the agent start
(a context variable, so the adapters between them need not pass it along).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

from t3cli.host import host_name, process_space

GroupFate = Literal["gone", "ended", "elsewhere", "unverified"]
_KILL_WAIT_S = 10.0
_POLL_S = 0.05


@dataclass(frozen=True, slots=True)
class AgentGroup:
    host: str
    process_space: str
    pgid: int  # the group id: the pid of its leader, the leash
    leader_start: int  # the leader's start time, clock ticks after boot


LaunchGate = Callable[[AgentGroup], Awaitable[bool]]
"""Records the group; True lets the agent start, False (the turn is no longer this reactor's to
run) gets the group killed before anything was started."""

LAUNCH_GATE: ContextVar[LaunchGate | None] = ContextVar("t3_launch_gate", default=None)


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, process group, start ticks) of `pid`, or None if it does not exist."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ")".
    fields = raw[raw.rfind(b")") + 2 :].split()
    return fields[0].decode(), int(fields[2]), int(fields[19])


def describe(pid: int) -> AgentGroup | None:
    """The group `pid` leads, as it is recorded; None where `/proc` cannot say."""
    found = _stat(pid)
    if found is None:
        return None
    return AgentGroup(host_name(), process_space(), pid, found[2])


def _members(group: AgentGroup) -> list[int]:
    """Live processes of `group`. A group id cannot be handed out again while a process of the
    group exists, so the members are those with that group id — unless the leader's pid now
    names a different process (the whole group ended and the id was reused)."""
    leader = _stat(group.pgid)
    if leader is not None and leader[2] != group.leader_start:
        return []
    members: list[int] = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        found = _stat(int(name))
        if found is not None and found[1] == group.pgid and found[0] != "Z":
            members.append(int(name))
    return members


def _end_now(group: AgentGroup) -> GroupFate:
    if group.host != host_name() or group.process_space != process_space():
        return "elsewhere"
    if not os.path.isdir("/proc/self"):
        return "unverified"
    if not _members(group):
        return "gone"
    try:
        os.killpg(group.pgid, signal.SIGKILL)
    except ProcessLookupError:
        return "gone"
    except PermissionError:
        return "unverified"
    deadline = time.monotonic() + _KILL_WAIT_S
    while _members(group):
        if time.monotonic() > deadline:
            return "unverified"
        time.sleep(_POLL_S)
    return "ended"


async def end_group(group: AgentGroup) -> GroupFate:
    """End what is left of `group` if it runs on this host (see the module docstring). Blocking
    work (reading `/proc`, waiting for the kill) runs off the event loop."""
    return await asyncio.to_thread(_end_now, group)

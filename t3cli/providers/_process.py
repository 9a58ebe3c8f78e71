"""One agent child process: spawned without a shell, on a leash, in its own process group.

Guarantees:

- argv lists only, never a shell. The agent runs under its leash (`_leash.py`), which leads a new
  process group (a new session), so every signal here goes to the whole group (the agent and
  whatever it started), and which SIGKILLs that group when the reactor's process dies — even by
  SIGKILL. The group is offered to the launch gate (`agent_groups.LAUNCH_GATE`, the reactor's
  record of it in the log) before the agent itself is started; a gate that says no, or an
  interrupt in the meantime, means the agent is never started.
- stdin is /dev/null, or a file (a memfd; elsewhere an unlinked temporary file) that holds the
  whole of `stdin_data` before the agent exists: an agent never reads a truncated message, even
  if the reactor dies the instant after starting it, and never inherits the caller's stdin
  (codex blocks forever reading an open, non-TTY stdin).
- stdout is delivered in chunks as it arrives, with backpressure (reading pauses while more than
  `_HIGH_WATER` bytes wait for the consumer), so megabytes of output never pile up in memory.
- stderr is drained continuously (a full pipe would block the child) and only its last
  `STDERR_TAIL_BYTES` are kept, for error messages.
- Process exit is noticed even when a grandchild still holds stdout open: after the leader exits,
  reading continues for `_EOF_GRACE_S`, then the group is SIGKILLed and reading ends.

Uses the public `loop.subprocess_exec` protocol API rather than `asyncio.create_subprocess_exec`:
in Python 3.11 the latter's `wait()` does not return until every pipe is closed, which a grandchild
holding stdout can delay forever.
"""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Final

from t3cli.host import host_name, process_space
from t3cli.providers.agent_groups import LAUNCH_GATE, AgentGroup, describe

LEASH: Final = Path(__file__).with_name("_leash.py")
STDERR_TAIL_BYTES: Final = 8 * 1024
_HIGH_WATER: Final = 1024 * 1024
_LOW_WATER: Final = 256 * 1024
_EOF_GRACE_S: Final = 2.0


class _AgentProtocol(asyncio.SubprocessProtocol):
    """Collects stdout chunks and a bounded stderr tail; notes exit and EOF."""

    def __init__(self) -> None:
        self.transport: asyncio.SubprocessTransport | None = None
        self.stdout: deque[bytes] = deque()
        self.stdout_buffered = 0
        self.stdout_eof = False
        self.stdout_paused = False
        self.stderr_tail = bytearray()
        self.exited = False
        self.changed = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.SubprocessTransport)
        self.transport = transport

    def pipe_data_received(self, fd: int, data: bytes | str) -> None:
        raw = data.encode() if isinstance(data, str) else data
        if fd == 1:
            self.stdout.append(raw)
            self.stdout_buffered += len(raw)
            if self.stdout_buffered > _HIGH_WATER and not self.stdout_paused:
                self._stdout_pipe_pause(True)
            self.changed.set()
        elif fd == 2:
            self.stderr_tail += raw
            if len(self.stderr_tail) > STDERR_TAIL_BYTES:
                del self.stderr_tail[: len(self.stderr_tail) - STDERR_TAIL_BYTES]

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd == 1:
            self.stdout_eof = True
            self.changed.set()

    def process_exited(self) -> None:
        self.exited = True
        self.changed.set()

    def _stdout_pipe_pause(self, pause: bool) -> None:
        if self.transport is None:
            return
        pipe = self.transport.get_pipe_transport(1)
        if isinstance(pipe, asyncio.ReadTransport):
            if pause:
                pipe.pause_reading()
            else:
                pipe.resume_reading()
            self.stdout_paused = pause


class SpawnFailed(Exception):
    """The child could not be started; `str(exc)` is the OS reason (e.g. ENOENT)."""

    def __init__(self, reason: OSError) -> None:
        super().__init__(reason.strerror or str(reason))
        self.reason = reason


class LaunchRefused(Exception):
    """The launch gate refused the agent, or the caller no longer wanted it: nothing started."""


def message_file(data: bytes) -> int:
    """A descriptor of a file holding all of `data`, positioned at its start (the caller closes
    it). A memfd where the system has one, else a temporary file unlinked at once."""
    try:
        fd = os.memfd_create("t3-message", os.MFD_CLOEXEC)
    except (AttributeError, OSError):
        fd, path = tempfile.mkstemp(prefix="t3-message-")
        os.unlink(path)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.lseek(fd, 0, os.SEEK_SET)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _launch_request(argv: Sequence[str], env: Mapping[str, str]) -> bytes:
    """The leash's launch message: executable, argc, argv and environment, NUL-separated."""
    fields = [os.fsencode(argv[0]), str(len(argv)).encode(), *map(os.fsencode, argv)]
    fields += [os.fsencode(k) + b"=" + os.fsencode(v) for k, v in env.items()]
    if any(b"\0" in field for field in fields):
        raise SpawnFailed(OSError(errno.EINVAL, "an argument or variable holds a NUL character"))
    return b"\0".join(fields)


class AgentProcess:
    """A spawned agent. Create with `await AgentProcess.spawn(...)`; always `close()` it."""

    def __init__(self, transport: asyncio.SubprocessTransport, protocol: _AgentProtocol) -> None:
        self._transport = transport
        self._protocol = protocol
        self.pid: int = transport.get_pid()  # the leash: leader of the process group
        self.agent_pid: int | None = None  # the agent itself, once started

    @classmethod
    async def spawn(
        cls,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        stdin_data: bytes | None,
        may_start: Callable[[], bool] = lambda: True,
    ) -> AgentProcess:
        """Start `argv` (argv[0] is a resolved path) under its leash, with `env` exactly.
        Raises `SpawnFailed`, or `LaunchRefused` when the gate or `may_start()` (asked once the
        group is recorded) says no; either way nothing of it is left running."""
        request = _launch_request(argv, env)
        loop = asyncio.get_running_loop()
        stdin: int = message_file(stdin_data) if stdin_data is not None else subprocess.DEVNULL
        ours, theirs = socket.socketpair()
        try:
            transport, protocol = await loop.subprocess_exec(
                _AgentProtocol,
                sys.executable, "-I", "-S", str(LEASH), str(os.getpid()), str(theirs.fileno()),
                stdin=stdin,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=str(cwd),
                start_new_session=True,
                pass_fds=(theirs.fileno(),),
            )  # fmt: skip
        except OSError as exc:
            ours.close()
            raise SpawnFailed(exc) from None
        finally:
            theirs.close()
            if stdin != subprocess.DEVNULL:
                os.close(stdin)
        process = cls(transport, protocol)
        try:
            await process._launch(ours, request, may_start)
        except BaseException:
            process.close()
            raise
        finally:
            ours.close()
        return process

    async def _launch(
        self, control: socket.socket, request: bytes, may_start: Callable[[], bool]
    ) -> None:
        gate = LAUNCH_GATE.get()
        if gate is not None:
            # Without /proc there is no start time to record: recovery will not judge it.
            group = describe(self.pid) or AgentGroup(host_name(), process_space(), self.pid, 0)
            if not await gate(group):
                raise LaunchRefused("the launch gate refused the agent")
        if not may_start():
            raise LaunchRefused("no longer wanted")
        loop = asyncio.get_running_loop()
        control.setblocking(False)
        await loop.sock_sendall(control, request)
        control.shutdown(socket.SHUT_WR)
        reply = b""
        while not reply.endswith(b"\n"):
            block = await loop.sock_recv(control, 4096)
            if not block:
                break
            reply += block
        word, _, rest = reply.decode(errors="replace").strip().partition(" ")
        if word == "ok":
            self.agent_pid = int(rest)
            return
        if word == "err":
            code, _, reason = rest.partition(" ")
            raise SpawnFailed(OSError(int(code), reason))
        raise SpawnFailed(OSError(errno.ECHILD, "the agent's leash exited before starting it"))

    @property
    def exited(self) -> bool:
        return self._protocol.exited

    @property
    def returncode(self) -> int | None:
        """Exit status once exited; negative N means killed by signal N."""
        return self._transport.get_returncode()

    def stderr_tail(self) -> str:
        """The last few KB the child wrote to stderr, decoded leniently and stripped."""
        return bytes(self._protocol.stderr_tail).decode("utf-8", errors="replace").strip()

    def signal_group(self, sig: signal.Signals) -> None:
        """Send `sig` to the child's whole process group; a group already gone is fine."""
        try:
            os.killpg(self.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    async def chunks(self) -> AsyncIterator[bytes]:
        """Yield stdout as it arrives until EOF (or until the exit grace runs out)."""
        protocol = self._protocol
        loop = asyncio.get_running_loop()
        exit_deadline: float | None = None
        killed_for_pipe = False
        while True:
            if protocol.stdout:
                chunk = protocol.stdout.popleft()
                protocol.stdout_buffered -= len(chunk)
                if protocol.stdout_paused and protocol.stdout_buffered < _LOW_WATER:
                    protocol._stdout_pipe_pause(False)
                yield chunk
                continue
            if protocol.stdout_eof:
                return
            protocol.changed.clear()
            if not protocol.exited:
                await protocol.changed.wait()
                continue
            # The leader exited but stdout is still open: a grandchild holds it. Give it a
            # moment to finish writing, then kill the group; if even that does not close the
            # pipe (a grandchild that left the group), stop reading.
            if exit_deadline is None:
                exit_deadline = loop.time() + _EOF_GRACE_S
            remaining = exit_deadline - loop.time()
            if remaining <= 0:
                if killed_for_pipe:
                    return
                killed_for_pipe = True
                self.signal_group(signal.SIGKILL)
                exit_deadline = loop.time() + 1.0
                continue
            try:
                # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation.
                async with asyncio.timeout(remaining):
                    await protocol.changed.wait()
            except TimeoutError:
                pass

    async def wait(self) -> int:
        """Wait for the leader to exit (not for its pipes to close) and return its status."""
        while not self._protocol.exited:
            self._protocol.changed.clear()
            await self._protocol.changed.wait()
        code = self.returncode
        assert code is not None
        return code

    def close(self) -> None:
        """Release the pipes; kills the leader if it is still running. Idempotent."""
        if not self._protocol.exited:
            self.signal_group(signal.SIGKILL)
        self._transport.close()

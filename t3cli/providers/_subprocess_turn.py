"""A turn run by one agent subprocess: spawn, stream stdout through a parser, decide the outcome.

Shared by the codex, claude and command adapters, which supply the argv and a `StreamParser`.

Guarantees (on top of `_process`):

- `events()` yields the parser's events as stdout arrives, then at most one `Activity("warning")`
  counting the skipped lines, then exactly one `TurnCompleted`; no exception escapes for anything
  the agent or the OS does (missing executable, missing project directory, crash, garbage).
- Outcome: a terminal success in the stream *and* exit status 0 is `completed`, even if an interrupt
  raced with the end of the turn; otherwise `stop()` gives `interrupted`/"stopped", `interrupt()`
  gives `interrupted`, and anything else is the parser's verdict (terminal failure event, or the
  exit status with the stderr tail).
- An interrupt or stop before the agent is started means it is never started (the turn ends
  `interrupted` without it); so does a launch gate that refuses it (`_process.spawn`).
- `interrupt()` sends SIGINT to the process group and SIGKILL `interrupt_grace_s` later if the agent
  is still running; `stop()` sends SIGKILL at once. After an interrupted or stopped turn the whole
  group is SIGKILLed, so nothing the agent started survives it. When `events()` is abandoned, the
  group is SIGKILLed too.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path

from t3cli.contracts.runtime import Activity, RuntimeEvent, TurnCompleted
from t3cli.providers._guard import STOPPED_ERROR
from t3cli.providers._process import AgentProcess, LaunchRefused, SpawnFailed
from t3cli.providers._stream import ProcessExit, StreamParser

_MIN_SECRET_CHARS = 4
_ENDED = "the turn had already ended (another reactor took the thread over)"


class SubprocessTurn:
    """One agent process for one turn (a raw `TurnRun`; providers wrap it in `GuardedTurn`)."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env_extra: Mapping[str, str],
        stdin_data: bytes | None,
        parser: StreamParser,
        label: str,
        binary_key: str,
        interrupt_grace_s: float,
    ) -> None:
        """`label` names the agent in errors ("codex"); `binary_key` is the config key that sets
        the executable ("providers.codex.binary"), named in the missing-executable error."""
        self._argv = list(argv)
        self._cwd = cwd
        self._env_extra = dict(env_extra)
        self._stdin_data = stdin_data
        self._parser = parser
        self._label = label
        self._binary_key = binary_key
        self._grace_s = interrupt_grace_s
        self._proc: AgentProcess | None = None
        self._interrupted = False
        self._stopped = False
        self._finished = False
        self._escalation: asyncio.Task[None] | None = None

    async def interrupt(self) -> None:
        if self._finished or self._interrupted or self._stopped:
            return
        self._interrupted = True
        if self._proc is not None:
            self._send_interrupt(self._proc)

    async def stop(self) -> None:
        if self._finished:
            return
        self._stopped = True
        if self._proc is not None:
            self._proc.signal_group(signal.SIGKILL)

    def _send_interrupt(self, proc: AgentProcess) -> None:
        proc.signal_group(signal.SIGINT)

        async def escalate() -> None:
            await asyncio.sleep(self._grace_s)
            if not proc.exited:
                proc.signal_group(signal.SIGKILL)

        self._escalation = asyncio.create_task(escalate())

    def _child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self._env_extra)
        return env

    def _redact(self, text: str) -> str:
        """`text` with the values of the configured `env` replaced by `***`. The stderr tail
        becomes part of a recorded error message, and an agent that fails often dumps its
        environment or the request it sent there: t3 must not copy a configured API key into
        the log. (Very short values are left alone: masking "1" everywhere helps nobody.)"""
        for value in sorted(self._env_extra.values(), key=len, reverse=True):
            if len(value) >= _MIN_SECRET_CHARS:
                text = text.replace(value, "***")
        return text

    def _preflight(self, env: Mapping[str, str]) -> str | None:
        """A user-facing reason the agent cannot be started, else None (argv[0] is resolved)."""
        if not self._cwd.is_dir():
            return f"project directory does not exist: {str(self._cwd)!r}"
        binary = self._argv[0]
        resolved = shutil.which(binary, path=env.get("PATH", os.defpath))
        if resolved is None:
            if os.sep in binary and Path(binary).is_file():
                return (
                    f"{self._label} executable is not executable: {binary!r} "
                    f"(chmod +x it, or set {self._binary_key} in config.toml)"
                )
            return (
                f"{self._label} executable not found: {binary!r} "
                f"(set {self._binary_key} in config.toml)"
            )
        self._argv[0] = resolved
        return None

    async def events(self) -> AsyncIterator[RuntimeEvent]:
        try:
            async for event in self._run():
                yield event
        finally:
            self._finished = True
            if self._escalation is not None:
                self._escalation.cancel()
            if self._proc is not None:
                if self._interrupted or self._stopped:
                    self._proc.signal_group(signal.SIGKILL)
                self._proc.close()

    async def _run(self) -> AsyncIterator[RuntimeEvent]:
        if self._stopped or self._interrupted:
            yield self._requested_end()
            return
        env = self._child_env()
        problem = self._preflight(env)
        if problem is not None:
            yield TurnCompleted("failed", error=problem)
            return
        try:
            proc = await AgentProcess.spawn(
                self._argv,
                cwd=self._cwd,
                env=env,
                stdin_data=self._stdin_data,
                may_start=lambda: not (self._stopped or self._interrupted),
            )
        except SpawnFailed as exc:
            yield TurnCompleted("failed", error=f"cannot start {self._label}: {exc}")
            return
        except LaunchRefused:
            if self._stopped or self._interrupted:
                yield self._requested_end()
            else:
                yield TurnCompleted("failed", error=f"{self._label} was not started: {_ENDED}")
            return
        self._proc = proc
        # interrupt()/stop() may have been called while the process was being created.
        if self._stopped:
            proc.signal_group(signal.SIGKILL)
        elif self._interrupted:
            self._send_interrupt(proc)

        saw_stdout = False
        async for chunk in proc.chunks():
            saw_stdout = True
            for event in self._parser.feed_chunk(chunk):
                yield event
        returncode = await proc.wait()
        exit = ProcessExit(returncode, self._redact(proc.stderr_tail()), saw_stdout)
        for event in self._parser.finish(exit):
            yield event
        if self._parser.skipped:
            count = self._parser.skipped
            yield Activity(
                "warning",
                f"skipped {count} unreadable or unknown output line(s) from {self._label}",
                detail={"skipped_lines": count},
            )
        if self._parser.succeeded() and returncode == 0:
            yield TurnCompleted("completed")
        elif self._stopped or self._interrupted:
            yield self._requested_end()
        else:
            yield self._parser.verdict(exit)

    def _requested_end(self) -> TurnCompleted:
        if self._stopped:
            return TurnCompleted("interrupted", error=STOPPED_ERROR)
        return TurnCompleted("interrupted", error="interrupted")

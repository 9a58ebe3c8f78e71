"""What the agent-CLI providers (codex, claude) share: one process per turn, stdin /dev/null.

A subclass says how to build the argv and which parser reads the output; running the process
(its own process group, the bounded stderr tail, the masking of configured secrets) and checking
the executable are the same for both, so they live here once.
"""

from __future__ import annotations

from abc import abstractmethod

from t3cli.providers._check import check_executable
from t3cli.providers._options import ClaudeOptions, CodexOptions
from t3cli.providers._provider import ProviderBase
from t3cli.providers._stream import StreamParser
from t3cli.providers._subprocess_turn import SubprocessTurn
from t3cli.providers.base import ProviderCheck, TurnRequest, TurnRun


class AgentCliProvider(ProviderBase):
    """A provider that runs its agent CLI (`options.binary`) once per turn."""

    def __init__(self, name: str, options: CodexOptions | ClaudeOptions) -> None:
        super().__init__(name, options)
        self._cli_options = options

    @property
    def _binary_key(self) -> str:
        return f"providers.{self.name}.binary"

    @abstractmethod
    def _argv(self, request: TurnRequest) -> list[str]: ...

    @abstractmethod
    def _parser(self, request: TurnRequest) -> StreamParser: ...

    def _open_turn(self, request: TurnRequest) -> TurnRun:
        return SubprocessTurn(
            self._argv(request),
            cwd=request.cwd,
            env_extra=self._cli_options.env,
            stdin_data=None,
            parser=self._parser(request),
            label=self.kind,
            binary_key=self._binary_key,
            interrupt_grace_s=self._cli_options.interrupt_grace_s,
        )

    def check(self) -> ProviderCheck:
        return check_executable(
            name=self.name,
            kind=self.kind,
            binary=self._cli_options.binary,
            binary_key=self._binary_key,
            env_extra=self._cli_options.env,
        )

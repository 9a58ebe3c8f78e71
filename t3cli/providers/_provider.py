"""What every provider shares: its identity, its timeouts, and `start_turn` applying the guard.

Subclasses implement `_open_turn` (the raw run) and `check`. Because `start_turn` lives here, no
provider can forget the timeouts or the one-`TurnCompleted`-last invariant (see `_guard`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from t3cli.providers._guard import GuardedTurn
from t3cli.providers._options import CommonOptions
from t3cli.providers.base import ProviderCheck, TurnRequest, TurnRun


class ProviderBase(ABC):
    """A configured provider instance; cheap to create, holds no process."""

    kind: str
    cumulative_usage = False

    def __init__(self, name: str, options: CommonOptions) -> None:
        self.name = name
        self.start_timeout_s, self.turn_timeout_s = options.resolved_timeouts()
        self.model = options.model

    def start_turn(self, request: TurnRequest) -> TurnRun:
        """Prepare a turn; nothing runs until its `events()` is iterated. Never raises."""
        return GuardedTurn(
            self._open_turn(request),
            provider_name=self.name,
            start_timeout_s=self.start_timeout_s,
            turn_timeout_s=self.turn_timeout_s,
        )

    def _model_for(self, request: TurnRequest) -> str | None:
        return request.model or self.model

    @abstractmethod
    def _open_turn(self, request: TurnRequest) -> TurnRun: ...

    @abstractmethod
    def check(self) -> ProviderCheck: ...

"""A turn that cannot even be prepared (e.g. a config gap found at start): it just fails.

Keeps `start_turn` free of exceptions: the reason reaches the user as the turn's error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from t3cli.contracts.runtime import RuntimeEvent, TurnCompleted


class FailedTurn:
    """Yields exactly `TurnCompleted("failed", error=reason)`."""

    def __init__(self, reason: str) -> None:
        self._reason = reason

    async def interrupt(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def events(self) -> AsyncIterator[RuntimeEvent]:
        yield TurnCompleted("failed", error=self._reason)

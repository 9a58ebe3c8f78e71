"""The decider's typed rejection."""

from __future__ import annotations

from typing import Literal

RejectionKind = Literal["not_found", "rejected", "invalid"]


class CommandRejected(Exception):
    """A command broke an invariant. `kind` maps to an exit code at the edge: `not_found` → 4,
    `rejected` → 3, `invalid` → 2. `reason` says what happened, `hint` what to do."""

    def __init__(self, reason: str, *, kind: RejectionKind = "rejected", hint: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.kind: RejectionKind = kind
        self.hint = hint

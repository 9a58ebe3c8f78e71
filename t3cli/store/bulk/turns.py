"""The folds of the `sessions` and `turns` tables: mirror `store.projectors.turns`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from t3cli.store.bulk._base import Fold, Payload, Unsupported, _key, _opt, _req
from t3cli.store.projectors.core import SESSIONS, TURNS


class SessionsFold(Fold):
    projector = SESSIONS
    columns = {
        "sessions": (
            "thread_id", "status", "provider", "provider_session_id", "error", "stop_requested",
            "updated_at",
        )
    }  # fmt: skip

    def __init__(self) -> None:
        self.rows: dict[str, list[Any]] = {}

    def handlers(self) -> dict[str, Callable[[int, str, Payload], None]]:
        return {
            "thread.session-set": self.session_set,
            "thread.session-stop-requested": self.stop_requested,
        }

    def session_set(self, seq: int, at: str, p: Payload) -> None:
        tid, status = _key(p, "thread_id"), _req(p, "status")
        provider, session = _opt(p, "provider"), _opt(p, "provider_session_id")
        error = _opt(p, "error")
        row = self.rows.get(tid)
        if row is None:
            self.rows[tid] = [tid, status, provider, session, error, 0, at]
            return
        row[1] = status
        if provider is not None:
            row[2] = provider
        if session is not None:
            row[3] = session
        row[4] = error
        row[5] = 0
        row[6] = at

    def stop_requested(self, seq: int, at: str, p: Payload) -> None:
        row = self.rows.get(_key(p, "thread_id"))
        if row is not None:
            row[5] = 1
            row[6] = at

    def tables(self) -> dict[str, list[list[Any]]]:
        return {"sessions": list(self.rows.values())}


class TurnsFold(Fold):
    projector = TURNS
    columns = {
        "turns": (
            "turn_id", "thread_id", "message_id", "queue_item_id", "status",
            "interrupt_requested", "provider_session_id", "error", "input_tokens",
            "output_tokens", "cached_input_tokens", "cost_usd", "duration_ms",
            "requested_sequence", "requested_at", "started_at", "completed_at",
        )
    }  # fmt: skip

    def __init__(self) -> None:
        self.rows: dict[str, list[Any]] = {}

    def handlers(self) -> dict[str, Callable[[int, str, Payload], None]]:
        return {
            "thread.turn-start-requested": self.requested,
            "thread.turn-started": self.started,
            "thread.turn-completed": self.completed,
            "thread.turn-interrupt-requested": self.interrupt,
        }

    def requested(self, seq: int, at: str, p: Payload) -> None:
        turn_id = _key(p, "turn_id")
        if turn_id in self.rows:
            raise Unsupported("duplicate turn")
        self.rows[turn_id] = [
            turn_id, _req(p, "thread_id"), _req(p, "message_id"), _opt(p, "queue_item_id"),
            "requested", 0, None, None, None, None, None, None, None, seq, at, None, None,
        ]  # fmt: skip

    def started(self, seq: int, at: str, p: Payload) -> None:
        session = _opt(p, "provider_session_id")
        row = self.rows.get(_key(p, "turn_id"))
        if row is not None:
            row[4] = "running"
            row[15] = at
            if session is not None:
                row[6] = session

    def completed(self, seq: int, at: str, p: Payload) -> None:
        status = _req(p, "status")
        values = [
            _opt(p, "error"), _opt(p, "input_tokens"), _opt(p, "output_tokens"),
            _opt(p, "cached_input_tokens"), _opt(p, "cost_usd"), _opt(p, "duration_ms"),
        ]  # fmt: skip
        row = self.rows.get(_key(p, "turn_id"))
        if row is not None:
            row[4] = status
            row[7:13] = values
            row[16] = at

    def interrupt(self, seq: int, at: str, p: Payload) -> None:
        row = self.rows.get(_key(p, "turn_id"))
        if row is not None:
            row[5] = 1

    def tables(self) -> dict[str, list[list[Any]]]:
        return {"turns": list(self.rows.values())}

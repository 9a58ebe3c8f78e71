"""The folds of the `projects` and `threads` tables: mirror `store.projectors.threads`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from t3cli.store.bulk._base import Fold, Payload, Unsupported, _key, _opt, _req
from t3cli.store.projectors.core import PROJECTS, THREADS


class ProjectsFold(Fold):
    projector = PROJECTS
    columns = {
        "projects": (
            "project_id", "path", "title", "default_provider", "created_at", "updated_at",
        )
    }  # fmt: skip

    def __init__(self) -> None:
        self.rows: dict[str, list[Any]] = {}
        self.paths: set[Any] = set()

    def handlers(self) -> dict[str, Callable[[int, str, Payload], None]]:
        return {"project.created": self.created, "project.updated": self.updated}

    def created(self, seq: int, at: str, p: Payload) -> None:
        pid, path = _key(p, "project_id"), _req(p, "path")
        if pid in self.rows or path in self.paths:
            raise Unsupported("duplicate project")
        self.paths.add(path)
        self.rows[pid] = [pid, path, _req(p, "title"), _req(p, "default_provider"), at, at]

    def updated(self, seq: int, at: str, p: Payload) -> None:
        title, provider = _opt(p, "title"), _opt(p, "default_provider")
        row = self.rows.get(_key(p, "project_id"))
        if row is not None:
            if title is not None:
                row[2] = title
            if provider is not None:
                row[3] = provider
            row[5] = at

    def tables(self) -> dict[str, list[list[Any]]]:
        return {"projects": list(self.rows.values())}


THREAD_COLUMNS = (
    "thread_id", "project_id", "provider", "model", "title", "provider_options", "archived",
    "deleted", "active_turn_id", "active_turn_status", "pending_count", "sending_count",
    "failed_count", "created_sequence", "created_at", "updated_at",
)  # fmt: skip


class ThreadsFold(Fold):
    projector = THREADS
    columns = {"threads": THREAD_COLUMNS}

    def __init__(self) -> None:
        self.rows: dict[str, list[Any]] = {}

    def handlers(self) -> dict[str, Callable[[int, str, Payload], None]]:
        return {
            "thread.created": self.created,
            "thread.updated": self.updated,
            "thread.archived": self.setter({6: 1}),
            "thread.unarchived": self.setter({6: 0}),
            "thread.deleted": self.setter({7: 1, 10: 0, 11: 0, 12: 0}),
            "thread.turn-start-requested": self.turn_requested,
            "thread.turn-started": self.turn_started,
            "thread.turn-completed": self.turn_completed,
            "thread.turn-queued": self.counter({10: 1}),
            "thread.queued-turn-send-started": self.counter({10: -1, 11: 1}),
            "thread.queued-turn-resolved": self.counter({11: -1}),
            "thread.queued-turn-send-failed": self.counter({11: -1, 12: 1}),
            "thread.queued-turn-requeued": self.counter({12: -1, 10: 1}),
            "thread.queued-turn-cancelled": self.cancelled,
        }

    def created(self, seq: int, at: str, p: Payload) -> None:
        tid = _key(p, "thread_id")
        if tid in self.rows:
            raise Unsupported("duplicate thread")
        self.rows[tid] = [
            tid, _req(p, "project_id"), _req(p, "provider"), _opt(p, "model"), _req(p, "title"),
            None, 0, 0, None, None, 0, 0, 0, seq, at, at,
        ]  # fmt: skip

    def updated(self, seq: int, at: str, p: Payload) -> None:
        title, model = _opt(p, "title"), _opt(p, "model")
        options = p.get("provider_options")
        encoded = json.dumps(options, sort_keys=True) if options is not None else None
        row = self.rows.get(_key(p, "thread_id"))
        if row is not None:
            if title is not None:
                row[4] = title
            if model is not None:
                row[3] = model
            if encoded is not None:
                row[5] = encoded
            row[15] = at

    def setter(self, values: dict[int, int]) -> Callable[[int, str, Payload], None]:
        items = tuple(values.items())

        def handler(seq: int, at: str, p: Payload) -> None:
            row = self.rows.get(_key(p, "thread_id"))
            if row is not None:
                for index, value in items:
                    row[index] = value
                row[15] = at

        return handler

    def counter(self, deltas: dict[int, int]) -> Callable[[int, str, Payload], None]:
        items = tuple(deltas.items())

        def handler(seq: int, at: str, p: Payload) -> None:
            row = self.rows.get(_key(p, "thread_id"))
            if row is not None:
                for index, delta in items:
                    row[index] += delta
                row[15] = at

        return handler

    def cancelled(self, seq: int, at: str, p: Payload) -> None:
        index = 12 if p.get("from_status") == "failed" else 10
        row = self.rows.get(_key(p, "thread_id"))
        if row is not None:
            row[index] -= 1
            row[15] = at

    def turn_requested(self, seq: int, at: str, p: Payload) -> None:
        turn_id = _key(p, "turn_id")
        row = self.rows.get(_key(p, "thread_id"))
        if row is not None:
            row[8] = turn_id
            row[9] = "requested"
            row[15] = at

    def turn_started(self, seq: int, at: str, p: Payload) -> None:
        turn_id = _key(p, "turn_id")
        row = self.rows.get(_key(p, "thread_id"))
        if row is not None and row[8] == turn_id:
            row[9] = "running"
            row[15] = at

    def turn_completed(self, seq: int, at: str, p: Payload) -> None:
        turn_id = _key(p, "turn_id")
        row = self.rows.get(_key(p, "thread_id"))
        if row is not None and row[8] == turn_id:
            row[8] = row[9] = None
            row[15] = at

    def tables(self) -> dict[str, list[list[Any]]]:
        return {"threads": list(self.rows.values())}

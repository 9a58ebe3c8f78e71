"""Full rebuild from sequence 0, folded in memory: the fast path of `replay.rebuild`, of the
scratch rebuild in `replay.check` and of a projector that is new or whose version changed.

The per-event handlers in `store.projectors` stay the semantics of record (the append path and
incremental catch-up run them). A rebuild from an empty table does not need to run their SQL one
statement per event: each fold below mirrors one projector's handlers on Python dicts (one row
per key, in the table's column order), and the final rows are written once per table with
`executemany`. The log is read in sequence order with only the columns the handlers use, and only
the events some projector handles are decoded.

Exactness (`tests/core/test_fast_rebuild.py` proves it against the per-event rebuild, table by
table, on random command sequences and on targeted logs):
- A fold covers one exact projector object and version (`FOLDS`); any other projector, or a
  changed one, is rebuilt by its handlers.
- Where a handler's SQL could behave in a way a dict cannot mirror exactly (a duplicate key on a
  plain INSERT, a NULL into a NOT NULL column, a value SQLite would convert or refuse to bind, a
  key that is not a string, a NUL character under `length()`), the fold gives up
  (`Unsupported`) and the caller falls back to the handlers — which then either produce the rows
  or raise exactly as they always did. Any other exception while folding or writing is treated
  the same way, so the fast path never changes an outcome, only its cost.
- Only row contents are reproduced (what `SELECT *` returns), not hidden rowids.
- An event no projector handles is not decoded, so a malformed payload of an unhandled type
  (a corrupt log) fails only the per-event path.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from t3cli.contracts.events import EVENT_TYPES
from t3cli.store import eventlog
from t3cli.store.projectors.base import Projector
from t3cli.store.projectors.core import (
    ACTIVITIES,
    MESSAGES,
    PROJECTS,
    QUEUED_TURNS,
    SESSIONS,
    THREADS,
    TURNS,
)
from t3cli.store.projectors.summaries import PREVIEW_CHARS, THREAD_SUMMARIES, _preview
from t3cli.store.projectors.transcript import _encode_detail

READ_BATCH = 20_000
Progress = Callable[[int, int], None]
Payload = dict[str, Any]


class Unsupported(Exception):
    """The fold cannot mirror the handlers exactly for this log: use the handlers."""


_SCALAR = (str, int, float)


def _req(p: Payload, key: str) -> Any:
    """A value bound by a handler into a NOT NULL column (or compared): str, int or float."""
    value = p[key]
    if type(value) not in _SCALAR:
        raise Unsupported(key)
    return value


def _opt(p: Payload, key: str) -> Any:
    """A value bound by a handler that may be NULL."""
    value = p.get(key)
    if value is not None and type(value) not in _SCALAR:
        raise Unsupported(key)
    return value


def _nullable(p: Payload, key: str) -> Any:
    """A value a handler reads as `p[key]` and binds where NULL is allowed."""
    value = p[key]
    if value is not None and type(value) not in _SCALAR:
        raise Unsupported(key)
    return value


def _key(p: Payload, key: str) -> str:
    """A value a handler matches rows by: must be a string (the key columns are TEXT)."""
    value = p[key]
    if type(value) is not str:
        raise Unsupported(key)
    return value


class Fold:
    projector: Projector
    columns: dict[str, tuple[str, ...]]

    def handlers(self) -> dict[str, Callable[[int, str, Payload], None]]:
        raise NotImplementedError

    def tables(self) -> dict[str, list[list[Any]]]:
        raise NotImplementedError


# --- projects, threads -----------------------------------------------------------------------


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


# --- sessions, turns -------------------------------------------------------------------------


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


# --- queued_turns ----------------------------------------------------------------------------


class QueueFold(Fold):
    """Positions are dense and 1-based per thread after every handler (insert at max + 1, a
    removal closes the gap, a move renumbers), so each thread's queue is kept as an ordered
    list of item ids and `position` is written as index + 1."""

    projector = QUEUED_TURNS
    columns = {
        "queued_turns": (
            "queue_item_id", "thread_id", "message_id", "position", "status",
            "failure_reason", "attempts", "turn_id", "queued_sequence", "queued_at",
            "updated_at",
        )
    }  # fmt: skip

    def __init__(self) -> None:
        self.rows: dict[str, list[Any]] = {}
        self.queues: dict[str, list[str]] = {}

    def handlers(self) -> dict[str, Callable[[int, str, Payload], None]]:
        return {
            "thread.turn-queued": self.queued,
            "thread.queued-turn-send-started": self.send_started,
            "thread.queued-turn-resolved": self.remove,
            "thread.queued-turn-cancelled": self.remove,
            "thread.queued-turn-send-failed": self.send_failed,
            "thread.queued-turn-requeued": self.requeued,
            "thread.queued-turn-moved": self.moved,
            "thread.deleted": self.thread_deleted,
        }

    def queued(self, seq: int, at: str, p: Payload) -> None:
        item, tid = _key(p, "queue_item_id"), _key(p, "thread_id")
        if item in self.rows:
            raise Unsupported("duplicate queue item")
        self.rows[item] = [
            item, tid, _req(p, "message_id"), 0, "pending", None, 0, None, seq, at, at,
        ]  # fmt: skip
        self.queues.setdefault(tid, []).append(item)

    def send_started(self, seq: int, at: str, p: Payload) -> None:
        turn_id = _nullable(p, "turn_id")
        row = self.rows.get(_key(p, "queue_item_id"))
        if row is not None:
            row[4] = "sending"
            row[7] = turn_id
            row[6] += 1
            row[5] = None
            row[10] = at

    def remove(self, seq: int, at: str, p: Payload) -> None:
        item, tid = _key(p, "queue_item_id"), _key(p, "thread_id")
        row = self.rows.pop(item, None)
        if row is None:
            return
        if row[1] != tid:  # the handler would close a gap in another thread's queue
            raise Unsupported("queue item of another thread")
        self.queues[tid].remove(item)

    def send_failed(self, seq: int, at: str, p: Payload) -> None:
        reason = _nullable(p, "reason")
        row = self.rows.get(_key(p, "queue_item_id"))
        if row is not None:
            row[4] = "failed"
            row[5] = reason
            row[10] = at

    def requeued(self, seq: int, at: str, p: Payload) -> None:
        row = self.rows.get(_key(p, "queue_item_id"))
        if row is not None:
            row[4] = "pending"
            row[10] = at

    def moved(self, seq: int, at: str, p: Payload) -> None:
        item, tid = _key(p, "queue_item_id"), _key(p, "thread_id")
        ids = self.queues.get(tid)
        if not ids or item not in ids:
            return
        to = p["to_position"]
        if type(to) is not int:
            raise Unsupported("to_position")
        ids.remove(item)
        ids.insert(max(0, min(len(ids), to - 1)), item)
        self.rows[item][10] = at

    def thread_deleted(self, seq: int, at: str, p: Payload) -> None:
        for item in self.queues.pop(_key(p, "thread_id"), ()):
            del self.rows[item]

    def tables(self) -> dict[str, list[list[Any]]]:
        for ids in self.queues.values():
            for index, item in enumerate(ids, 1):
                self.rows[item][3] = index
        return {"queued_turns": list(self.rows.values())}


# --- messages, activities --------------------------------------------------------------------


class MessagesFold(Fold):
    projector = MESSAGES
    columns = {
        "messages": (
            "message_id", "thread_id", "sequence", "role", "text", "turn_id", "queue_item_id",
            "complete", "created_at", "updated_at",
        )
    }  # fmt: skip

    def __init__(self) -> None:
        self.rows: dict[str, list[Any]] = {}

    def handlers(self) -> dict[str, Callable[[int, str, Payload], None]]:
        return {
            "thread.message-sent": self.sent,
            "thread.turn-start-requested": self.turn_requested,
        }

    def sent(self, seq: int, at: str, p: Payload) -> None:
        mid, text = _key(p, "message_id"), p["text"]
        if type(text) is not str:
            raise Unsupported("text")
        tid, role = _req(p, "thread_id"), _req(p, "role")
        turn_id, item = _opt(p, "turn_id"), _opt(p, "queue_item_id")
        complete = 1 if p.get("complete", True) else 0
        row = self.rows.get(mid)
        if row is None:
            self.rows[mid] = [mid, tid, seq, role, text, turn_id, item, complete, at, at]
            return
        row[4] += text
        row[7] = complete
        row[9] = at

    def turn_requested(self, seq: int, at: str, p: Payload) -> None:
        if p.get("queue_item_id") is not None:
            turn_id = _nullable(p, "turn_id")
            row = self.rows.get(_key(p, "message_id"))
            if row is not None:
                row[5] = turn_id

    def tables(self) -> dict[str, list[list[Any]]]:
        return {"messages": list(self.rows.values())}


class ActivitiesFold(Fold):
    projector = ACTIVITIES
    columns = {
        "activities": (
            "activity_id", "thread_id", "turn_id", "sequence", "kind", "summary", "status",
            "detail", "created_at",
        )
    }  # fmt: skip

    def __init__(self) -> None:
        self.rows: dict[str, list[Any]] = {}

    def handlers(self) -> dict[str, Callable[[int, str, Payload], None]]:
        return {"thread.activity-appended": self.appended}

    def appended(self, seq: int, at: str, p: Payload) -> None:
        aid = _key(p, "activity_id")
        tid, turn_id, kind = _req(p, "thread_id"), _req(p, "turn_id"), _req(p, "kind")
        summary, status = _req(p, "summary"), _opt(p, "status")
        detail = _encode_detail(p.get("detail") or {})
        row = self.rows.get(aid)
        if row is None:
            self.rows[aid] = [aid, tid, turn_id, seq, kind, summary, status, detail, at]
            return
        row[5] = summary
        row[6] = status
        row[7] = detail

    def tables(self) -> dict[str, list[list[Any]]]:
        return {"activities": list(self.rows.values())}


# --- thread_summaries ------------------------------------------------------------------------


class SummariesFold(Fold):
    projector = THREAD_SUMMARIES
    columns = {
        "thread_summaries": (
            "thread_id", "project_id", "title", "provider", "preview", "preview_message_id",
            "message_count", "turn_count", "queue_depth", "input_tokens", "output_tokens",
            "cost_usd", "deleted", "last_activity_at", "last_activity_sequence",
        )
    }  # fmt: skip

    def __init__(self) -> None:
        self.rows: dict[str, list[Any]] = {}

    def handlers(self) -> dict[str, Callable[[int, str, Payload], None]]:
        return {
            "thread.created": self.created,
            "thread.updated": self.updated,
            "thread.deleted": self.deleted,
            "thread.archived": self.touch,
            "thread.unarchived": self.touch,
            "thread.message-sent": self.message,
            "thread.turn-start-requested": self.turn_requested,
            "thread.turn-started": self.touch,
            "thread.turn-completed": self.turn_completed,
            "thread.activity-appended": self.touch,
            "thread.turn-queued": self.depth(+1),
            "thread.queued-turn-resolved": self.depth(-1),
            "thread.queued-turn-cancelled": self.depth(-1),
        }

    def _row(self, seq: int, at: str, p: Payload) -> list[Any] | None:
        row = self.rows.get(_key(p, "thread_id"))
        if row is not None:
            row[13] = at
            row[14] = seq
        return row

    def created(self, seq: int, at: str, p: Payload) -> None:
        tid = _key(p, "thread_id")
        if tid in self.rows:
            raise Unsupported("duplicate thread")
        self.rows[tid] = [
            tid, _req(p, "project_id"), _req(p, "title"), _req(p, "provider"), "", None,
            0, 0, 0, 0, 0, 0.0, 0, at, seq,
        ]  # fmt: skip

    def touch(self, seq: int, at: str, p: Payload) -> None:
        self._row(seq, at, p)

    def updated(self, seq: int, at: str, p: Payload) -> None:
        title = _opt(p, "title")
        row = self._row(seq, at, p)
        if row is not None and title is not None:
            row[2] = title

    def deleted(self, seq: int, at: str, p: Payload) -> None:
        row = self._row(seq, at, p)
        if row is not None:
            row[12] = 1
            row[8] = 0

    def message(self, seq: int, at: str, p: Payload) -> None:
        text = p["text"]
        if type(text) is not str:
            raise Unsupported("text")
        mid = _key(p, "message_id")
        if p.get("chunk", 0) == 0:
            preview = _preview(text)
            row = self._row(seq, at, p)
            if row is not None:
                row[6] += 1
                row[4] = preview
                row[5] = mid
            return
        more = _preview(text[: PREVIEW_CHARS * 2])
        row = self._row(seq, at, p)
        if row is not None and row[5] == mid:
            preview = row[4]
            if "\x00" in preview or "\x00" in more:  # SQLite's length() stops at a NUL
                raise Unsupported("NUL in preview")
            if len(preview) < PREVIEW_CHARS:
                row[4] = (preview + more)[:PREVIEW_CHARS]

    def turn_requested(self, seq: int, at: str, p: Payload) -> None:
        row = self._row(seq, at, p)
        if row is not None:
            row[7] += 1

    def turn_completed(self, seq: int, at: str, p: Payload) -> None:
        added = (p.get("input_tokens") or 0, p.get("output_tokens") or 0)
        cost = p.get("cost_usd") or 0.0
        if type(added[0]) is not int or type(added[1]) is not int or type(cost) not in (int, float):
            raise Unsupported("usage")
        row = self._row(seq, at, p)
        if row is not None:
            row[9] += added[0]
            row[10] += added[1]
            row[11] += cost

    def depth(self, delta: int) -> Callable[[int, str, Payload], None]:
        def handler(seq: int, at: str, p: Payload) -> None:
            row = self._row(seq, at, p)
            if row is not None:
                row[8] = max(0, row[8] + delta)

        return handler

    def tables(self) -> dict[str, list[list[Any]]]:
        return {"thread_summaries": list(self.rows.values())}


FOLDS: dict[int, type[Fold]] = {
    id(fold.projector): fold
    for fold in (
        ProjectsFold, ThreadsFold, SessionsFold, TurnsFold, QueueFold, MessagesFold,
        ActivitiesFold, SummariesFold,
    )
}  # fmt: skip


def supported(projector: Projector) -> bool:
    """True when `projector` has a fold (the very projector object, hence the same version)."""
    fold = FOLDS.get(id(projector))
    return fold is not None and fold.projector is projector


def _upcast_payload(conn: sqlite3.Connection, seq: int) -> Payload:
    # A payload of an older schema version: read it through the log's own path (rare).
    record = eventlog.read_after(conn, seq - 1, 1)[0]
    payload: Payload = record.payload
    return payload


_raw_decode = json.JSONDecoder().raw_decode


def fold_log(
    read: sqlite3.Connection,
    projectors: Sequence[Projector],
    limits: dict[str, int],
    *,
    progress: Progress | None = None,
    total: int | None = None,
) -> tuple[list[Fold], int, dict[str, int]]:
    """Fold every event with `sequence <= limits[name]` into each projector's fold.
    Returns the folds, the number of events read and, per projector, the last sequence read
    for it (0 if none). Raises `Unsupported` (or whatever the handlers would also raise)."""
    folds = [FOLDS[id(p)]() for p in projectors]
    until = max(limits.values(), default=0)
    # Per event type, the handlers of every fold, in projector order, with each one's limit.
    routes: dict[str, list[tuple[int, Callable[[int, str, Payload], None]]]] = {}
    for fold in folds:
        limit = limits[fold.projector.name]
        for event_type, handler in fold.handlers().items():
            routes.setdefault(event_type, []).append((limit, handler))
    current = {name: cls.SCHEMA_VERSION for name, cls in EVENT_TYPES.items()}
    last = 0
    done = 0
    decode = _raw_decode
    while last < until:
        rows = read.execute(
            "SELECT sequence, type, payload, schema_version, occurred_at FROM events"
            " WHERE sequence > ? AND sequence <= ? ORDER BY sequence LIMIT ?",
            (last, until, READ_BATCH),
        ).fetchall()
        if not rows:
            break
        for seq, type_, text, version, at in rows:
            handlers = routes.get(type_)
            if handlers is None:
                continue
            if version < current.get(type_, 0):
                payload = _upcast_payload(read, seq)
            else:
                payload, end = decode(text)
                if end != len(text):
                    raise Unsupported("payload with trailing text")
            if type(payload) is not dict:
                raise Unsupported("payload")
            for limit, handler in handlers:
                if seq <= limit:
                    handler(seq, at, payload)
        last = rows[-1][0]
        done += len(rows)
        if progress is not None:
            progress(done, total if total is not None else done)
    applied = {p.name: min(last, limits[p.name]) for p in projectors}
    if done:
        # The last sequence each projector saw: its limit, or the last event read below it.
        for p in projectors:
            if limits[p.name] < last:
                row = read.execute(
                    "SELECT max(sequence) FROM events WHERE sequence <= ?", (limits[p.name],)
                ).fetchone()
                applied[p.name] = int(row[0] or 0)
    return folds, done, applied


def write_rows(conn: sqlite3.Connection, folds: Sequence[Fold]) -> None:
    """Insert every fold's rows into its (empty) tables."""
    for fold in folds:
        for table, rows in fold.tables().items():
            columns = fold.columns[table]
            conn.executemany(
                f"INSERT INTO {table} ({', '.join(columns)})"
                f" VALUES ({', '.join('?' * len(columns))})",
                rows,
            )


class Outcome:
    """What `rebuild` did: the projectors it rebuilt (the others are left to the handlers), the
    events it read, the last sequence applied per projector, and why it fell back, if it did."""

    __slots__ = ("applied", "fallback", "read", "rebuilt")

    def __init__(self) -> None:
        self.rebuilt: list[Projector] = []
        self.read = 0
        self.applied: dict[str, int] = {}
        self.fallback: str | None = None


# The latest rebuild's outcome (for tests and diagnostics): LAST[0].
LAST: list[Outcome] = [Outcome()]


def rebuild(
    read: sqlite3.Connection,
    write: sqlite3.Connection,
    projectors: Sequence[Projector],
    limits: dict[str, int],
    *,
    progress: Progress | None = None,
    total: int | None = None,
) -> Outcome:
    """Rebuild the supported ones of `projectors` (their tables empty, inside `write`'s write
    transaction) from the events of `read` up to each one's limit. Cursors are the caller's.
    On any failure their tables are emptied again and nothing is reported as rebuilt, so the
    caller's handlers run instead, with the outcome they always had."""
    outcome = Outcome()
    LAST[0] = outcome
    chosen = [p for p in projectors if supported(p)]
    if not chosen:
        return outcome
    try:
        folds, outcome.read, outcome.applied = fold_log(
            read, chosen, limits, progress=progress, total=total
        )
        write_rows(write, folds)
    except Exception as exc:  # the handlers decide; see the module docstring
        outcome.fallback = f"{type(exc).__name__}: {exc}"
        outcome.read, outcome.applied = 0, {}
        for projector in chosen:
            projector.reset(write)
        return outcome
    outcome.rebuilt = chosen
    return outcome

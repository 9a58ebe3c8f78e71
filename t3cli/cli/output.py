"""The JSON shapes of `t3 ... --json` — a stable, documented contract (README, "JSON output").

Each function maps one read-side row to its JSON object. Keys are only ever added, never renamed
or removed; values are JSON scalars, lists or objects; timestamps are ISO-8601 UTC strings with
milliseconds (`2026-11-22T20:09:32.123Z`); absent values are `null`, never missing keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from t3cli.store.queries import MessageRow, ProjectRow, QueueRow, ThreadRow, TurnRow


def project_json(row: ProjectRow) -> dict[str, Any]:
    """`t3 projects --json` items and `t3 project add --json`."""
    return {
        "id": row.project_id,
        "path": row.path,
        "title": row.title,
        "default_provider": row.default_provider,
        "thread_count": row.thread_count,
        "created_at": row.created_at,
    }


def thread_json(row: ThreadRow) -> dict[str, Any]:
    """`t3 threads --json` items, `t3 show --json`'s `thread`, and `t3 new --json`."""
    return {
        "id": row.thread_id,
        "title": row.title,
        "provider": row.provider,
        "model": row.model,
        "status": row.status,
        "session_status": row.session_status,
        "queue_depth": row.queue_depth,
        "archived": row.archived,
        "project_id": row.project_id,
        "project_path": row.project_path,
        "created_at": row.created_at,
        "last_activity_at": row.last_activity_at,
        "last_activity_sequence": row.last_activity_sequence,
        "preview": row.preview,
        "message_count": row.message_count,
        "turn_count": row.turn_count,
        "input_tokens": row.input_tokens,
        "output_tokens": row.output_tokens,
        "cost_usd": row.cost_usd,
    }


def message_json(row: MessageRow) -> dict[str, Any]:
    """`t3 show --json`'s `messages` items, in transcript order."""
    return {
        "message_id": row.message_id,
        "role": row.role,
        "text": row.text,
        "turn_id": row.turn_id,
        "queue_item_id": row.queue_item_id,
        "complete": row.complete,
        "created_at": row.created_at,
    }


def turn_json(row: TurnRow) -> dict[str, Any]:
    """`t3 show --json`'s `turns` items, in the order they were requested."""
    return {
        "turn_id": row.turn_id,
        "status": row.status,
        "queue_item_id": row.queue_item_id,
        "message_id": row.message_id,
        "requested_at": row.requested_at,
        "started_at": row.started_at,
        "completed_at": row.completed_at,
        "duration_ms": row.duration_ms,
        "usage": {
            "input_tokens": row.input_tokens,
            "output_tokens": row.output_tokens,
            "cached_input_tokens": row.cached_input_tokens,
        },
        "cost_usd": row.cost_usd,
        "error": row.error,
    }


def queue_json(row: QueueRow) -> dict[str, Any]:
    """`t3 queue list --json` items and `t3 show --json`'s `queue` items (FIFO order)."""
    return {
        "queue_item_id": row.queue_item_id,
        "thread_id": row.thread_id,
        "position": row.position,
        "status": row.status,
        "text": row.text,
        "failure_reason": row.failure_reason,
        "attempts": row.attempts,
        "turn_id": row.turn_id,
        "queued_at": row.queued_at,
    }


def show_json(
    thread: ThreadRow,
    messages: list[MessageRow],
    turns: list[TurnRow],
    queue: list[QueueRow],
    *,
    warnings: Mapping[str, list[str]] | None = None,
) -> dict[str, Any]:
    """`t3 show --json`: one object with the thread, its transcript, turns (each with its
    `warnings`: retries and other agent notices, oldest first) and queue."""
    warned = warnings or {}
    return {
        "thread": thread_json(thread),
        "messages": [message_json(m) for m in messages],
        "turns": [{**turn_json(t), "warnings": warned.get(t.turn_id, [])} for t in turns],
        "queue": [queue_json(q) for q in queue],
    }


def write_json(
    thread_id: str | None, command_id: str, sequence: int, **ids: str | None
) -> dict[str, Any]:
    """The result of a write command: the thread, any ids it created, the command id and the
    sequence of its last event. Identical when replayed with the same `--command-id`."""
    out: dict[str, Any] = {"thread_id": thread_id}
    out.update(ids)
    out["command_id"] = command_id
    out["sequence"] = sequence
    return out

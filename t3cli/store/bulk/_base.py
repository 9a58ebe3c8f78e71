"""Shared machinery of the in-memory folds: the `Fold` base class every projector's fold
implements, and the rules by which a fold gives up.

Where a handler's SQL could behave in a way a dict cannot mirror exactly (a duplicate key on a
plain INSERT, a NULL into a NOT NULL column, a value SQLite would convert or refuse to bind, a
key that is not a string, a NUL character under `length()`), the fold raises `Unsupported` and
the caller falls back to the per-event handlers — which then either produce the rows or raise
exactly as they always did. The type guards below (`_req`, `_opt`, `_nullable`, `_key`) are how
a fold reads a payload value under those rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from t3cli.store.projectors.base import Projector

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

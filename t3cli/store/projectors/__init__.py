"""Projectors: each folds events into the tables it owns.

A projector is deterministic: applying the same events in the same order to empty tables always
yields the same rows (timestamps come from the events, never the clock). That is what makes
`t3 replay --check` meaningful. Core projectors run inside the append transaction; the
`thread_summaries` projector runs asynchronously (see `store.pipeline`).
"""

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
from t3cli.store.projectors.summaries import THREAD_SUMMARIES

CORE_PROJECTORS: tuple[Projector, ...] = (
    PROJECTS,
    THREADS,
    SESSIONS,
    TURNS,
    QUEUED_TURNS,
    MESSAGES,
    ACTIVITIES,
)
ASYNC_PROJECTORS: tuple[Projector, ...] = (THREAD_SUMMARIES,)
ALL_PROJECTORS: tuple[Projector, ...] = CORE_PROJECTORS + ASYNC_PROJECTORS

__all__ = ["ALL_PROJECTORS", "ASYNC_PROJECTORS", "CORE_PROJECTORS", "Projector"]

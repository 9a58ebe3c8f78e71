"""The core projectors, updated in the append transaction (the decider needs them current)."""

from t3cli.store.projectors.queue import QUEUED_TURNS
from t3cli.store.projectors.threads import PROJECTS, THREADS
from t3cli.store.projectors.transcript import ACTIVITIES, MESSAGES
from t3cli.store.projectors.turns import SESSIONS, TURNS

__all__ = ["ACTIVITIES", "MESSAGES", "PROJECTS", "QUEUED_TURNS", "SESSIONS", "THREADS", "TURNS"]

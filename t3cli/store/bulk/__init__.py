"""Full rebuild from sequence 0, folded in memory: the fast path of `replay.rebuild`, of the
scratch rebuild in `replay.check` and of a projector that is new or whose version changed.

The per-event handlers in `store.projectors` stay the semantics of record (the append path and
incremental catch-up run them). A rebuild from an empty table does not need to run their SQL one
statement per event: each fold mirrors one projector's handlers on Python dicts (one row per
key, in the table's column order), and the final rows are written once per table with
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

The package mirrors `store.projectors`: `_base` holds the `Fold` base class and the type guards
behind `Unsupported`, `_rebuild` the driver (`fold_log`, `write_rows`, `rebuild`), and one module
per projector group holds its folds (`threads`, `turns`, `queue`, `transcript`, `summaries`).
"""

from __future__ import annotations

from t3cli.store.bulk._base import Fold, Payload, Progress, Unsupported
from t3cli.store.bulk._rebuild import (
    FOLDS,
    LAST,
    READ_BATCH,
    Outcome,
    fold_log,
    rebuild,
    supported,
    write_rows,
)
from t3cli.store.bulk.queue import QueueFold
from t3cli.store.bulk.summaries import SummariesFold
from t3cli.store.bulk.threads import THREAD_COLUMNS, ProjectsFold, ThreadsFold
from t3cli.store.bulk.transcript import ActivitiesFold, MessagesFold
from t3cli.store.bulk.turns import SessionsFold, TurnsFold

__all__ = [
    "FOLDS",
    "LAST",
    "READ_BATCH",
    "THREAD_COLUMNS",
    "ActivitiesFold",
    "Fold",
    "MessagesFold",
    "Outcome",
    "Payload",
    "Progress",
    "ProjectsFold",
    "QueueFold",
    "SessionsFold",
    "SummariesFold",
    "ThreadsFold",
    "TurnsFold",
    "Unsupported",
    "fold_log",
    "rebuild",
    "supported",
    "write_rows",
]

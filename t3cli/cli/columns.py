"""Column widths for tables on a terminal, by priority: what the user types next is never cut.

A table's columns are either *kept* (ids, status, queue depth, times: never cut, never hidden)
or *give way* in a stated order when the terminal is too narrow. `fit_widths` decides every
column's width once for all rows, so a long cell can never squeeze another column to nothing.

Guarantees of `fit_widths(columns, natural, available, gap)`:
- A kept column always gets its natural width.
- Columns that give way shrink in their `give_way` order (1 first): each one down to its
  `min_width` before the next one is touched. If that is still too wide, they are hidden in the
  same order (width 0), each hidden column also freeing its gap.
- Room freed by hiding a column goes back to the columns still shown that gave way after it.
- The result never exceeds `available` unless the kept columns alone do (then every column that
  gives way is hidden and the kept ones keep their widths: the caller's terminal is narrower
  than the essentials, and cutting an id would only make it unusable).
- Pure and deterministic: no terminal, no rich.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

KEEP = 0


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    give_way: int = KEEP  # 0: never cut; otherwise the order in which it gives way (1 first)
    min_width: int = 1  # narrowest useful width once cut; below it the column is hidden
    max_width: int | None = None  # cap on the natural width (a long preview never needs more)
    justify: Literal["left", "right"] = "left"


def fit_widths(
    columns: Sequence[Column], natural: Sequence[int], available: int, gap: int
) -> list[int]:
    """The width of each column (0: hidden) so the table fits in `available` cells, columns
    separated by `gap` cells. `natural[i]` is the widest cell of column i (header included)."""
    capped = [
        min(n, c.max_width) if c.max_width is not None else n
        for c, n in zip(columns, natural, strict=True)
    ]
    widths = list(capped)

    def total() -> int:
        shown = [w for w in widths if w > 0]
        return sum(shown) + gap * max(0, len(shown) - 1)

    yielding = sorted((c.give_way, i) for i, c in enumerate(columns) if c.give_way != KEEP)
    for _, i in yielding:
        excess = total() - available
        if excess <= 0:
            return widths
        floor = min(columns[i].min_width, widths[i])
        widths[i] = max(floor, widths[i] - excess)
    for _, i in yielding:
        if total() <= available:
            return widths
        widths[i] = 0
        # The room the hidden column freed goes back to the columns that gave way after it.
        for _, j in reversed(yielding):
            slack = available - total()
            if slack <= 0:
                break
            if widths[j] > 0:
                widths[j] = min(capped[j], widths[j] + slack)
    return widths

"""Rich tables whose column widths follow `cli.columns` priorities (imports rich: call it only
when drawing on a terminal).

`fitted_table` measures every cell, asks `fit_widths` for the widths, cuts each cell to its
column's width itself (`…` at the end; at the start for a `Tail` cell, such as a reply as it
streams, whose newest words matter) and gives rich fixed widths, so rich never re-balances them:
a kept column is exactly as wide as its widest cell, whatever the other cells hold.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text

from t3cli.cli.columns import Column, fit_widths

GAP = 2  # cells between two columns: rich's padding of one cell on each side


class Tail(Text):
    """A cell cut at its start when too wide (its end is what matters)."""


def cut_start(text: Text, width: int) -> Text:
    """`text` cut to `width` cells keeping its end, with `…` in front when cut."""
    if cell_len(text.plain) <= width:
        return text
    if width <= 0:
        return Text("")
    keep = 0
    used = 1  # the ellipsis
    for char in reversed(text.plain):
        size = cell_len(char)
        if used + size > width:
            break
        used += size
        keep += 1
    tail = text[len(text.plain) - keep :] if keep else Text("")
    return Text("…", style=text.style) + tail


def fitted_table(
    columns: Sequence[Column],
    rows: Sequence[Sequence[Text]],
    width: int,
    *,
    row_styles: Sequence[str] = (),
    header_style: str = "bold",
) -> Table:
    """A borderless table of `rows` at most `width` cells wide when the kept columns allow it
    (see `cli.columns.fit_widths`); hidden columns are left out."""
    natural = [
        max([cell_len(column.header), *(cell_len(row[i].plain) for row in rows)])
        for i, column in enumerate(columns)
    ]
    widths = fit_widths(columns, natural, width, gap=GAP)
    table = Table(box=None, header_style=header_style, pad_edge=False, padding=(0, GAP // 2))
    shown = [i for i, w in enumerate(widths) if w > 0]
    for i in shown:
        table.add_column(
            columns[i].header, width=widths[i], no_wrap=True, overflow="ellipsis",
            justify=columns[i].justify,
        )  # fmt: skip
    for index, row in enumerate(rows):
        cells = []
        for i in shown:
            if isinstance(row[i], Tail):
                cells.append(cut_start(row[i], widths[i]))
            else:
                cell = row[i].copy()
                cell.truncate(widths[i], overflow="ellipsis")
                cells.append(cell)
        style = row_styles[index] if index < len(row_styles) else ""
        table.add_row(*cells, style=style or None)
    return table

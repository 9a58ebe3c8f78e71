"""Column priorities (`t3cli.cli.columns.fit_widths`): kept columns are never cut, the others give
way in their order — shrinking first, then hiding — and the table fits whenever it can."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from t3cli.cli.columns import KEEP, Column, fit_widths

COLUMNS = (
    Column("ID"),
    Column("TITLE", give_way=2, min_width=10),
    Column("PROVIDER", give_way=3, min_width=6),
    Column("STATUS"),
    Column("QUEUE"),
    Column("PREVIEW", give_way=1, min_width=12),
)
NATURAL = [8, 30, 8, 8, 5, 60]  # 119 cells + 5 gaps of 2 = 129


def test_everything_fits_on_a_wide_terminal() -> None:
    assert fit_widths(COLUMNS, NATURAL, 200, gap=2) == NATURAL


def test_the_preview_shrinks_first() -> None:
    widths = fit_widths(COLUMNS, NATURAL, 100, gap=2)
    assert widths == [8, 30, 8, 8, 5, 31]


def test_then_the_title_then_the_provider() -> None:
    # Preview at its minimum (12) is still too wide: the title shrinks.
    assert fit_widths(COLUMNS, NATURAL, 70, gap=2) == [8, 19, 8, 8, 5, 12]
    # Title at its minimum too: the provider shrinks.
    assert fit_widths(COLUMNS, NATURAL, 59, gap=2) == [8, 10, 6, 8, 5, 12]


def test_columns_are_hidden_in_the_same_order_and_the_room_goes_back() -> None:
    # 57 cells: the preview is hidden; the room it frees goes back to the title and provider.
    assert fit_widths(COLUMNS, NATURAL, 57, gap=2) == [8, 20, 8, 8, 5, 0]
    # Narrower: the title goes too, and the provider gets its natural width back.
    assert fit_widths(COLUMNS, NATURAL, 40, gap=2) == [8, 0, 8, 8, 5, 0]


def test_kept_columns_keep_their_width_on_a_tiny_terminal() -> None:
    assert fit_widths(COLUMNS, NATURAL, 20, gap=2) == [8, 0, 0, 8, 5, 0]


def test_max_width_caps_the_natural_width() -> None:
    columns = (Column("ID"), Column("PREVIEW", give_way=1, max_width=20))
    assert fit_widths(columns, [8, 300], 200, gap=2) == [8, 20]


@given(
    natural=st.lists(st.integers(min_value=1, max_value=80), min_size=6, max_size=6),
    available=st.integers(min_value=0, max_value=250),
)
def test_kept_columns_are_never_cut_and_the_table_fits_when_it_can(
    natural: list[int], available: int
) -> None:
    widths = fit_widths(COLUMNS, natural, available, gap=2)
    kept = [i for i, column in enumerate(COLUMNS) if column.give_way == KEEP]
    for i in kept:
        assert widths[i] == natural[i]
    shown = [w for w in widths if w > 0]
    total = sum(shown) + 2 * (len(shown) - 1)
    essentials = sum(natural[i] for i in kept) + 2 * (len(kept) - 1)
    if essentials <= available:
        assert total <= available
    for i, column in enumerate(COLUMNS):
        if column.give_way != KEEP and widths[i] > 0:
            assert min(column.min_width, natural[i]) <= widths[i] <= natural[i]

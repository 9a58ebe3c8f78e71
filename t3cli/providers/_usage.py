"""Token usage as the agents report it, turned into one meaning for every provider.

The meaning t3 records for a turn (README, "JSON output"):

- `input_tokens`: every input token the model processed in the turn, cache reads included;
- `cached_input_tokens`: how many of those were read from the provider's prompt cache;
- `output_tokens`: as reported (reasoning tokens included where the provider counts them there).

codex already reports input that way, but as a **running total of its whole session**, across
resumed processes: a turn's own figure is the difference from the total the same session reported
at the end of its previous turn. claude reports each turn on its own, with `input_tokens`
*excluding* cache reads and cache writes, which are added here.

The figures exactly as reported are kept too (`Usage.reported`), so the normalisation can always
be recomputed and audited from the log.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from t3cli.contracts.runtime import Usage


def reported_counts(usage: object) -> dict[str, int]:
    """The integer fields of a provider's usage object, as reported (nested objects left out)."""
    if not isinstance(usage, dict):
        return {}
    return {
        str(key): value
        for key, value in usage.items()
        if isinstance(value, int) and not isinstance(value, bool)
    }


def codex_turn_usage(total: dict[str, int], previous: Mapping[str, int] | None) -> Usage:
    """One codex turn's usage from the session's running `total` after the turn.

    `previous` is the total the same session reported after its previous turn. When it is unknown
    (the session's first turn, or a total t3 never saw), or the new total is not larger in every
    figure (codex started counting afresh), the whole `total` is counted once as this turn's.
    """
    keys = ("input_tokens", "cached_input_tokens", "output_tokens")
    base: Mapping[str, int] = {}
    if previous is not None and all(total.get(k, 0) >= previous.get(k, 0) for k in keys):
        base = previous

    def turn(key: str) -> int | None:
        return total[key] - base.get(key, 0) if key in total else None

    return Usage(
        input_tokens=turn("input_tokens"),
        output_tokens=turn("output_tokens"),
        cached_input_tokens=turn("cached_input_tokens"),
        reported=total,
        session_total=total,
    )


def claude_turn_usage(usage: dict[str, int], cost: Any) -> Usage:
    """One claude turn's usage from its `result.usage` (per turn; input excludes the cache)."""
    fresh = usage.get("input_tokens")
    read = usage.get("cache_read_input_tokens")
    written = usage.get("cache_creation_input_tokens")
    parts = [n for n in (fresh, read, written) if n is not None]
    return Usage(
        input_tokens=sum(parts) if parts else None,
        output_tokens=usage.get("output_tokens"),
        cached_input_tokens=read,
        cost_usd=_cost(cost),
        reported=usage or None,
    )


def _cost(value: object) -> float | None:
    return None if isinstance(value, bool) or not isinstance(value, int | float) else float(value)

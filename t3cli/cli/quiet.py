"""`-q/--quiet` on listing commands (`t3 threads`, `t3 queue list`): full ids only, one per line.

Guarantees: with `--quiet`, stdout holds nothing but 32-character ids followed by a newline, in
the listing's order, terminal or not (no header, no colour, no "empty" sentence), so
`t3 threads -q --status blocked | xargs -n1 t3 retry` works; notes and pagination cursors stay
on stderr. `--quiet` together with `--json` is a usage error (exit 2).
"""

from __future__ import annotations

from collections.abc import Iterable

from t3cli.cli.env import Env
from t3cli.errors import UsageError


def check(json: bool, quiet: bool) -> None:
    """Refuse `--json` with `--quiet`: they ask for two different outputs."""
    if json and quiet:
        raise UsageError(
            "--quiet and --json cannot be combined",
            hint="--quiet prints ids only; --json prints whole records",
        )


def print_ids(env: Env, ids: Iterable[str]) -> None:
    """Write each id on its own line."""
    env.stdout.write("".join(f"{value}\n" for value in ids))

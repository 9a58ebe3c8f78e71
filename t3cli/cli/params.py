"""Parameters shared by `t3` commands, as `Annotated` aliases.

Deliberately tiny and import-free beyond typer (and `t3cli.cli.completion`, which the root group
needs anyway): every command module imports it at start-up, and
start-up is what `t3 queue` and every TAB completion pay for. (Command modules also avoid
`from __future__ import annotations`: typer would then `eval` every annotation string twice per
command while building the command tree, on every run.)
"""

from typing import Annotated

import typer

from t3cli.cli.completion import THREAD

# The largest integer SQLite stores: a bigger --limit, --before, --since or --to is a usage error
# (exit 2), not an OverflowError from the driver.
MAX_INT = 2**63 - 1

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print JSON (shapes: README, 'JSON output').")
]
CommandIdOption = Annotated[
    str | None,
    typer.Option(
        "--command-id",
        metavar="ID",
        help="Idempotency key: retrying with the same ID replays the first outcome.",
    ),
]
ThreadArg = Annotated[
    str,
    typer.Argument(
        metavar="THREAD",
        click_type=THREAD,  # TAB completes id prefixes of threads (titles as help), and @last
        help="Id, unique id prefix, exact title, or @last.",
    ),
]
MessageArg = Annotated[
    str, typer.Argument(metavar="MESSAGE|-", help="The message text; `-` reads standard input.")
]
QuietOption = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="Print only full ids, one per line (for xargs)."),
]
ItemArg = Annotated[
    str, typer.Argument(metavar="ITEM", help="Position in the queue (1 is the head) or id prefix.")
]

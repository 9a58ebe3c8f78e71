"""Shell completion for `t3`: click's own bash, zsh and fish support, under `_T3_COMPLETE`.

typer (0.24) answers completion requests with its own instruction format and, for zsh, renders
help texts through rich — an import every TAB would pay for. `T3Group` answers them with click's
classes instead (`_T3_COMPLETE=bash_complete`, `zsh_complete`, `fish_complete`, and `*_source`),
which import nothing beyond click. The scripts `t3 completion SHELL` prints (and `completions/`
holds) are click's scripts for program `t3`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping
from typing import Any

import click
from click.shell_completion import BashComplete, FishComplete, ShellComplete, ZshComplete
from typer.core import TyperGroup

PROG_NAME = "t3"
COMPLETE_VAR = "_T3_COMPLETE"
SHELLS: dict[str, type[ShellComplete]] = {
    "bash": BashComplete,
    "zsh": ZshComplete,
    "fish": FishComplete,
}


def source(cli: click.Command, shell: str) -> str:
    """The completion script for `shell` (a key of `SHELLS`), for program `t3`. Deterministic:
    it depends only on the shell, never on this machine (no bash version probe)."""
    comp = SHELLS[shell](cli, {}, PROG_NAME, COMPLETE_VAR)
    return ShellComplete.source(comp)


class T3Group(TyperGroup):
    """The root group: answers `_T3_COMPLETE` requests with click's completion classes."""

    def _main_shell_completion(
        self,
        ctx_args: MutableMapping[str, Any],
        prog_name: str,
        complete_var: str | None = None,
    ) -> None:
        var = complete_var or COMPLETE_VAR
        instruction = os.environ.get(var)
        if not instruction:
            return
        shell, _, action = instruction.partition("_")
        comp_cls = SHELLS.get(shell)
        if comp_cls is None or action not in ("source", "complete"):
            sys.stderr.write(
                f"t3: unsupported completion request {var}={instruction!r}"
                " (expected bash|zsh|fish followed by _complete or _source)\n"
            )
            sys.exit(2)
        comp = comp_cls(self, ctx_args, prog_name, var)
        out = ShellComplete.source(comp) if action == "source" else comp.complete()
        sys.stdout.write(out + ("\n" if out and not out.endswith("\n") else ""))
        sys.stdout.flush()
        sys.exit(0)

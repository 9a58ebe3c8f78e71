"""The command that prints the next page of a paginated listing (`t3 threads`).

Guarantee: the printed command is the invocation as given — every option that differs from its
default (`--limit 2`, `--json`, `--status queued`, ...) — with `--before CURSOR` set to the new
cursor, shell-quoted so it can be pasted back as is.
"""

from __future__ import annotations

import shlex

import click


def next_page_command(cursor_option: str, cursor: int) -> str:
    """The current command again with `cursor_option` set to `cursor`."""
    ctx = click.get_current_context()
    words = ctx.command_path.split()
    for param in ctx.command.params:
        if not isinstance(param, click.Option) or not param.opts or not param.expose_value:
            continue
        name = param.opts[-1] if param.opts[-1].startswith("--") else param.opts[0]
        value = ctx.params.get(param.name or "")
        if name == cursor_option or value is None or value == param.default:
            continue
        if param.is_flag:
            words.append(name)
        elif isinstance(value, (list, tuple)):
            for item in value:
                words += [name, str(item)]
        else:
            words += [name, str(value)]
    words += [cursor_option, str(cursor)]
    return shlex.join(words)

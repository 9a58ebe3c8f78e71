"""Every `t3 ... --help` page describes every argument and option once."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator

import click
import pytest
import typer

from t3cli.cli.app import build_app


def _commands(
    command: click.Command, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            if not sub.hidden:
                yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(build_app())))


def test_the_tree_is_walked() -> None:
    paths = {path for path, _ in COMMANDS}
    assert {("send",), ("queue",), ("queue", "move"), ("run",)} <= paths


@pytest.mark.parametrize(
    "path, command", [c for c in COMMANDS if c[0]], ids=[" ".join(c[0]) for c in COMMANDS if c[0]]
)
def test_help_lists_each_argument_with_its_description_once(
    t3: Callable[..., subprocess.CompletedProcess[str]],
    path: tuple[str, ...],
    command: click.Command,
) -> None:
    result = t3(*path, "--help")
    assert result.returncode == 0, result.stderr
    page = result.stdout
    assert "Positional arguments" not in page
    for param in command.params:
        help_text = getattr(param, "help", None)
        if isinstance(param, click.Argument):
            assert help_text, f"`t3 {' '.join(path)}`: argument {param.name} has no description"
            first_words = " ".join(help_text.split()[:3])
            assert page.count(first_words) == 1, (first_words, page)
        elif isinstance(param, click.Option) and not param.hidden and help_text:
            assert param.opts[0] in page, (param.opts, page)


def test_queue_help_shows_the_shorthands_arguments_and_options(
    t3: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    page = t3("queue", "--help").stdout
    for text in ("THREAD", "Id, unique id prefix", "MESSAGE|-", "--command-id", "--json", "move"):
        assert text in page, (text, page)

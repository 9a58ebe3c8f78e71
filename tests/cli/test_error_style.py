"""One error style for every error (issue #12, point 7): `error: ...` then `hint: ...` on stderr,
the exit code of the README table — click's own usage errors included, "did you mean" once.

The click cases run in-process through `main()` (the console script's code path); one runs the
real executable to prove nothing else prints first. A static check makes sure every error the
code raises for users carries a hint.
"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

from t3cli.errors import ExitCode
from tests.conftest import REPO, t3_executable

CLICK_ERRORS = {
    "--limit -1": ("threads", "--limit", "-1"),
    "--before garbage": ("threads", "--before", "garbage"),
    "--since abc": ("events", "--since", "abc"),
    "--max-concurrent 0": ("run", "--max-concurrent", "0"),
    "unknown option": ("threads", "--frobnicate"),
    "unknown option, close to one": ("threads", "--lmit", "3"),
    "unknown command": ("thread",),
    "unknown subcommand": ("queue", "lsit"),
    "move --to abc": ("queue", "move", "x", "1", "--to", "abc"),
    "cancel -1": ("queue", "cancel", "x", "-1"),
    "missing argument": ("send",),
    "extra argument": ("show", "a", "b"),
    "unknown config subcommand": ("config", "shwo"),
}


def assert_one_style(out, code: int = ExitCode.USAGE) -> None:
    assert out.code == code, out
    lines = out.stderr.splitlines()
    assert lines[0].startswith("error: "), out.stderr
    assert any(line.startswith("hint: ") for line in lines), out.stderr
    for click_style in ("Usage:", "Try '", "Error:"):
        assert click_style not in out.stderr, out.stderr
    assert len(re.findall("did you mean", out.stderr, re.IGNORECASE)) <= 1, out.stderr
    assert out.stdout == ""


@pytest.mark.parametrize("args", list(CLICK_ERRORS.values()), ids=list(CLICK_ERRORS))
def test_click_usage_errors_use_the_one_style(cli, args):
    assert_one_style(cli(*args))


def test_suggestions_are_given_once_in_the_hint(cli):
    command = cli("thread")
    assert command.stderr == (
        "error: no such command 'thread'\n"
        "hint: did you mean 't3 threads'? (`t3 --help` lists the commands)\n"
    )
    option = cli("threads", "--lmit", "3")
    assert option.stderr == (
        "error: no such option '--lmit'\nhint: did you mean '--limit'? (see 't3 threads --help')\n"
    )
    value = cli("queue", "move", "x", "1", "--to", "abc")
    assert value.stderr.startswith("error: invalid value for '--to': 'abc' is not a valid integer")
    assert "hint: see 't3 queue move --help'" in value.stderr


def test_the_real_executable_prints_only_the_one_style(tmp_path):
    done = subprocess.run(
        [*t3_executable(), "threads", "--limit", "-1"], capture_output=True, text=True,
        env={"T3_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}, check=False,
    )  # fmt: skip
    assert done.returncode == ExitCode.USAGE
    assert done.stderr == (
        "error: invalid value for '--limit': -1 is not in the range 1<=x<=9223372036854775806\n"
        "hint: see 't3 threads --help'\n"
    )


@pytest.mark.parametrize(
    ("setup", "args", "code"),
    [
        (None, ("show", "nosuch"), ExitCode.NOT_FOUND),
        (None, ("run", "--recover", "twice"), ExitCode.USAGE),
        ("queued", ("retry", "{t}", "1"), ExitCode.REJECTED),
        ("queued", ("interrupt", "{t}"), ExitCode.REJECTED),
        ("queued", ("archive", "{t}"), ExitCode.REJECTED),
        ("queued", ("rm", "{t}"), ExitCode.REJECTED),
        (None, ("unarchive", "{t}"), ExitCode.REJECTED),
        (None, ("rename", "{t}", " "), ExitCode.USAGE),
        (None, ("completion", "tcsh"), ExitCode.USAGE),
        (None, ("threads", "--status", "sleeping"), ExitCode.USAGE),
    ],
)
def test_errors_of_t3_itself_always_have_a_hint(cli, thread, setup, args, code):
    tid = thread("t")
    if setup == "queued":
        assert cli("queue", tid, "waiting").code == 0
    assert_one_style(cli(*[a.format(t=tid) for a in args]), code)


# Handlers of the reactor's own commands: their rejections never reach a user's terminal.
REACTOR_ONLY = {
    "decide", "_send_start", "_resolve", "_send_fail", "_turn_of", "_turn_started",
    "_turn_completed", "_message_append",
}  # fmt: skip
ERRORS = {
    "T3Error", "UsageError", "NotFound", "Rejected", "ProviderError", "DatabaseError",
    "DatabaseCorrupt", "DatabaseLocked", "ConfigError", "CommandRejected", "OutputFailed",
}  # fmt: skip


def _errors_without_hint(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    missing = []

    def visit(node: ast.AST, function: str) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = node.name
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            keywords = {k.arg for k in node.keywords}
            if name in ERRORS and "hint" not in keywords and None not in keywords:
                if function not in REACTOR_ONLY and not (
                    name == "CommandRejected" and function == "__init__"
                ):
                    missing.append(f"{path.relative_to(REPO)}:{node.lineno} {name} in {function}")
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(tree, "<module>")
    return missing


def test_every_error_raised_for_users_carries_a_hint():
    missing = [line for path in sorted((REPO / "t3cli").rglob("*.py"))
               for line in _errors_without_hint(path)]  # fmt: skip
    assert missing == []


def test_a_replayed_rejection_recorded_without_a_hint_still_gets_one(cli, thread, conn):
    # Receipts of rejections written before every rejection had a hint hold hint = NULL.
    tid = thread("t")
    assert cli("interrupt", tid, "--command-id", "old").code == ExitCode.REJECTED
    conn.execute("UPDATE command_receipts SET hint = NULL WHERE command_id = 'old'")
    assert_one_style(cli("interrupt", tid, "--command-id", "old"), ExitCode.REJECTED)

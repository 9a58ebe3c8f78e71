"""Smaller inconsistencies of the command line (issue #13, point 9).

- Write confirmations: stdout carries the full id of what a write acted on (data), stderr one
  confirmation line with 8-character ids — the same for every write.
- The pagination hint repeats the other flags (`--limit 2 --json`).
- `archive` and `rm` word the same refusal the same way.
- Ctrl-C on `t3 send` says `turn interrupted`, not `turn interrupted: interrupted`.
- `--no-color` is accepted after the subcommand.
- `t3` alone prints its help (exit 0); `t3 help [COMMAND]...` exists.
"""

from __future__ import annotations

import re
import signal
import subprocess
from pathlib import Path

import pytest

from t3cli.errors import ExitCode
from tests.conftest import t3_executable
from tests.reliability.support import t3_env, wait_until

FULL_ID = re.compile(r"^[0-9a-f]{32}$")
ANY_FULL_ID = re.compile(r"[0-9a-f]{32}")


def _fail_head(cli, t3_home: Path, tid: str) -> None:
    (t3_home / "config.toml").write_text('[providers.echo]\nfail_pattern = "BREAK"\n')
    assert cli("queue", tid, "BREAK").code == 0
    assert cli("run", "--until-idle").code == ExitCode.PROVIDER_FAILURE


@pytest.mark.parametrize(
    ("args", "confirmation"),
    [
        (("rename", "{t}", "renamed title"), "renamed thread {s} (renamed title)"),
        (("archive", "{t}"), "archived thread {s} (t)"),
        (("stop", "{t}"), "stop requested for thread {s}"),
        (("queue", "cancel", "{t}", "1"), "cancelled item {i} of thread {s}"),
        (("queue", "move", "{t}", "2", "--to", "1"), "moved item {j} of thread {s} to position 1"),
        (("retry", "{t}"), "requeued item {i} of thread {s}"),
        (("interrupt", "{t}"), "interrupt requested for turn {u} of thread {s}"),
        (("rm", "{t}", "--force"), "deleted thread {s} (t)"),
    ],
    ids=lambda v: v[0] if isinstance(v, tuple) else None,
)
def test_every_write_prints_its_full_id_on_stdout_and_confirms_on_stderr(
    cli, thread, t3_home, args, confirmation
):
    tid = thread("t")
    ids = {"t": tid, "s": tid[:8]}
    verb = args[0] if args[0] != "queue" else args[1]
    if verb in ("cancel", "move", "retry"):
        t3_home.mkdir(exist_ok=True)
        _fail_head(cli, t3_home, tid)
        second = cli("queue", tid, "second").stdout.strip()
        items = cli("queue", "list", tid, "--json").json()
        ids.update(i=items[0]["queue_item_id"][:8], j=second[:8])
        expected_data = items[0]["queue_item_id"] if verb != "move" else second
    elif verb == "interrupt":
        turn = cli("send", tid, "running", "--no-wait").stdout.strip()
        ids["u"] = turn[:8]
        expected_data = turn
    else:
        expected_data = tid
    out = cli(*[a.format(**ids) for a in args])
    assert out.code == 0, out
    assert FULL_ID.match(out.stdout.strip()) and out.stdout.count("\n") == 1, out.stdout
    assert out.stdout.strip() == expected_data
    assert out.stderr == confirmation.format(**ids) + "\n"
    assert not ANY_FULL_ID.search(out.stderr)


def test_with_json_the_document_is_the_confirmation(cli, thread):
    tid = thread("t")
    out = cli("rename", tid, "new", "--json")
    assert out.code == 0 and out.json()["thread_id"] == tid
    assert out.stderr == ""


def test_the_pagination_hint_keeps_the_other_flags(cli, thread):
    for n in range(3):
        thread(f"t{n}")
    out = cli("threads", "--limit", "2", "--json", "--status", "idle")
    assert len(out.json()) == 2
    (hint,) = [line for line in out.stderr.splitlines() if line.startswith("more: ")]
    command = hint.removeprefix("more: ").split()
    assert command[:2] == ["t3", "threads"]
    assert "--json" in command and command[command.index("--limit") + 1] == "2"
    assert command[command.index("--status") + 1] == "idle"
    following = cli(*command[1:])
    assert following.code == 0 and len(following.json()) == 1
    assert "more:" not in following.stderr


def test_archive_and_rm_word_the_same_refusal_the_same_way(cli, thread):
    tid = thread("busy")
    assert cli("send", tid, "running", "--no-wait").code == 0
    archive = cli("archive", tid)
    rm = cli("rm", tid, "--force")
    assert archive.code == rm.code == ExitCode.REJECTED
    first = [archive.stderr.splitlines()[0], rm.stderr.splitlines()[0]]
    assert first == [
        f"error: cannot archive thread {tid[:8]}: a turn is running",
        f"error: cannot delete thread {tid[:8]}: a turn is running",
    ]
    assert archive.stderr.splitlines()[1] == rm.stderr.splitlines()[1]  # the same hint


def test_ctrl_c_on_send_says_the_turn_was_interrupted_once(t3_home, tmp_path):
    t3_home.mkdir(exist_ok=True)
    (t3_home / "config.toml").write_text('[providers.echo]\nhang_pattern = "HANG"\n')
    env = t3_env(t3_home)
    tid = subprocess.run([*t3_executable(), "new", "--project", str(tmp_path)], env=env,
                         capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    proc = subprocess.Popen([*t3_executable(), "send", tid, "HANG please"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip

    def running() -> bool:
        shown = subprocess.run([*t3_executable(), "threads", "--json"], env=env,
                               capture_output=True, text=True, check=False)  # fmt: skip
        return '"status": "running"' in shown.stdout

    try:
        wait_until(running, what="the turn to run")
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == ExitCode.INTERRUPTED, err
    assert "turn interrupted" in err
    assert "interrupted: interrupted" not in err


def test_no_color_is_accepted_after_the_subcommand(cli, thread):
    tid = thread("coloured")
    assert "\x1b[" in cli("threads", tty=True).stdout
    for args in (("threads", "--no-color"), ("show", tid, "--no-color"),
                 ("queue", "list", "--no-color"), ("--no-color", "threads")):  # fmt: skip
        out = cli(*args, tty=True)
        assert out.code == 0, (args, out)
        assert "\x1b[" not in out.stdout, args
    assert cli("queue", tid, "msg", "--no-color").code == 0


def test_t3_alone_prints_help_and_exits_0(cli):
    out = cli()
    assert out.code == 0
    assert out.stdout.startswith("Usage: t3 ") and "Commands:" in out.stdout
    assert out.stderr == ""


def test_t3_help_shows_the_help_of_any_command(cli):
    assert cli("help").stdout == cli("--help").stdout
    assert cli("help", "queue", "move").stdout == cli("queue", "move", "--help").stdout
    assert cli("help", "send").stdout == cli("send", "--help").stdout
    unknown = cli("help", "sned")
    assert unknown.code == ExitCode.USAGE
    assert unknown.stderr.startswith("error: no such command 't3 sned'")
    assert "did you mean 't3 send'?" in unknown.stderr

"""Agent output cannot drive the user's terminal (issue #12, point 5).

A real hostile reply: the `echo` provider answers with the message itself, so a message full of
terminal escapes — retitle (`ESC ]0;`), clear (`ESC [2J`), clipboard write (`ESC ]52;`), a C1
CSI, a bidirectional override — comes back as the agent's reply, through the real reactor. A
`command` agent writes the same to its stderr and fails, so the error t3 quotes carries them too.

Human-readable output (`t3 send`'s streamed reply and errors, `t3 show`, `t3 threads`,
`t3 queue list`, confirmations, ambiguity lists) must never contain the raw control characters,
and must show them as visible escapes; `--json` and `t3 events --json` keep the exact text.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from t3cli.errors import ExitCode

HOSTILE = (
    "look \x1b]0;pwned\x07 clear \x1b[2J clip \x1b]52;c;ZXZpbA==\x07 csi \x9b31m rtl \u202e end"
)
RAW = ("\x1b", "\x07", "\x9b", "\u202e")
# On a terminal rich draws its own colours (`ESC [1m`); what must never appear is the agent's.
HOSTILE_SEQUENCES = ("\x1b]", "\x1b[2J", "\x07", "\x9b", "\u202e")
SHOWN = ("\\x1b]0;pwned\\x07", "\\x1b[2J", "\\x9b31m", "\\u202e")


def assert_tamed(text: str, *, terminal: bool = False) -> None:
    for raw in HOSTILE_SEQUENCES if terminal else RAW:
        assert raw not in text, (raw, text)
    for escape in SHOWN:
        assert escape in text, (escape, text)


@pytest.fixture
def hostile_thread(t3, t3_home: Path, tmp_path: Path) -> str:
    created = t3("new", "--project", str(tmp_path), "--title", "hostile")
    assert created.returncode == 0, created.stderr
    tid = created.stdout.strip()
    sent = t3("send", tid, HOSTILE)  # the real reactor runs the echo agent
    assert sent.returncode == 0, sent.stderr
    assert_tamed(sent.stdout)
    return tid


def test_send_streams_the_reply_escaped_and_json_keeps_it_exact(t3, hostile_thread):
    again = t3("send", hostile_thread, HOSTILE, "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["reply"] == HOSTILE


@pytest.mark.parametrize("tty", [False, True], ids=["plain", "terminal"])
def test_show_escapes_the_transcript(cli, hostile_thread, tty):
    out = cli("show", hostile_thread, tty=tty)
    assert out.code == 0
    assert_tamed(out.stdout, terminal=tty)
    texts = [m["text"] for m in cli("show", hostile_thread, "--json").json()["messages"]]
    assert texts == [HOSTILE, HOSTILE]


@pytest.mark.parametrize("tty", [False, True], ids=["plain", "terminal"])
def test_threads_and_queue_list_escape_titles_previews_and_messages(cli, t3, tmp_path, tty):
    made = t3("new", "--project", str(tmp_path), HOSTILE)  # title and first message
    tid = made.stdout.strip()
    assert t3("queue", tid, HOSTILE).returncode == 0
    for args in (("threads",), ("queue", "list")):
        out = cli(*args, tty=tty)
        assert out.code == 0, out
        for raw in HOSTILE_SEQUENCES if tty else RAW:
            assert raw not in out.stdout, (args, raw, out.stdout)
        assert "\\x1b" in out.stdout, (args, out.stdout)
    assert cli("threads", "--json").json()[0]["title"] == HOSTILE[:59] + "…"  # exact, cut


def test_events_json_keeps_the_exact_text(cli, hostile_thread):
    out = cli("events", "--json")
    texts = [json.loads(line)["payload"].get("text") for line in out.stdout.splitlines()]
    assert HOSTILE in texts


def test_an_agent_error_quoted_in_t3_send_is_escaped(t3, t3_home: Path, tmp_path: Path):
    t3_home.mkdir(exist_ok=True)
    script = tmp_path / "hostile_agent.py"
    script.write_text(
        "import sys\nsys.stdin.read()\n"
        f"sys.stdout.write({HOSTILE!r})\nsys.stderr.write({'fatal ' + HOSTILE!r} + '\\n')\n"
        "sys.exit(1)\n"
    )
    (t3_home / "config.toml").write_text(
        f'[providers.evil]\nkind = "command"\nargv = [{json.dumps(sys.executable)},'
        f" {json.dumps(str(script))}]\n"
    )
    tid = t3("new", "--project", str(tmp_path), "--provider", "evil").stdout.strip()
    out = t3("send", tid, "hi")
    assert out.returncode == ExitCode.PROVIDER_FAILURE, out.stderr
    assert out.stderr.startswith("error: ")
    assert_tamed(out.stderr)
    assert_tamed(out.stdout)
    shown = t3("show", tid)
    assert_tamed(shown.stdout)


def test_titles_in_errors_and_confirmations_are_escaped(cli, thread):
    first = thread(HOSTILE)
    thread(HOSTILE)
    ambiguous = cli("show", HOSTILE)
    assert ambiguous.code == ExitCode.USAGE
    assert_tamed(ambiguous.stderr)
    renamed = cli("rename", first, HOSTILE + " again")
    assert renamed.code == 0 and renamed.stdout.strip() == first
    assert_tamed(renamed.stderr)


def test_the_raw_bytes_never_reach_a_real_pipe(t3, hostile_thread):
    # The console script itself, end to end, as bytes.
    from tests.conftest import t3_executable

    done = subprocess.run(
        [*t3_executable(), "show", hostile_thread], capture_output=True, check=False,
        env=dict(os.environ),
    )  # fmt: skip
    assert done.returncode == 0
    for raw in (b"\x1b", b"\x07", "\x9b".encode(), "\u202e".encode()):
        assert raw not in done.stdout

"""Security basics: private files, no shell between a message and an agent, no API key in the log.

- The data directory is created 0700 and the database 0600 (and its -wal/-shm), created so under
  a umask of 022 — never chmod-ed after the fact, which would leave a window.
- A message full of shell syntax reaches every kind of agent as exactly one argv element (or as
  stdin), byte for byte, and nothing of it runs.
- The values of a provider's `env` table (API keys) are never written to the log by t3: not in
  errors (an agent's stderr, which t3 quotes in a failed turn's error, is masked), not in events,
  `t3 events --json` or `t3 show --json`. What the agent itself prints on stdout is its reply,
  recorded verbatim: if an agent echoes its own key in its answer, that answer is in the transcript
  (docs/reliability.md).
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from tests.reliability.support import FAKES, run_t3, t3_env, write_config

NASTY = (
    "$(touch PWNED); rm -rf x; `touch PWNED2` && echo 'quoted \" `id`' | sh > PWNED3 \\ \n|| true"
)
CANARY = "sk-secret-canary-123"

RECORDER = """\
import json, os, sys
data = sys.stdin.read() if not sys.stdin.isatty() else ""
with open(os.environ["T3TEST_RECORD"], "a") as fh:
    fh.write(json.dumps({"argv": sys.argv[1:], "stdin": data}) + "\\n")
print("ok")
"""

LEAKER = """\
import os, sys
dump = "\\n".join(f"{k}={v}" for k, v in sorted(os.environ.items()))
sys.stderr.write(dump + "\\n")
if "STDOUT" in " ".join(sys.argv[1:]) + sys.stdin.read():
    print(dump)
sys.stderr.write(f"fatal: request with key {os.environ['OPENAI_API_KEY']} was refused\\n")
sys.exit(1)
"""


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def umask_022() -> None:
    os.umask(0o022)


@pytest.mark.parametrize("where", ["T3_HOME", "XDG data dir"])
def test_data_directory_0700_and_database_0600_even_with_umask_022(
    tmp_path: Path, where: str
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    if where == "T3_HOME":
        data_dir = tmp_path / "fresh" / "home"
        env = t3_env(data_dir)
    else:
        env = t3_env(tmp_path / "unused")
        del env["T3_HOME"]
        env["XDG_DATA_HOME"] = str(tmp_path / "xdg-data")
        env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg-config")
        data_dir = tmp_path / "xdg-data" / "t3cli"
    created = run_t3(data_dir, "new", "--title", "private", "hello", env=env, cwd=project,
                     preexec=umask_022)  # fmt: skip
    assert created.code == 0, created
    assert mode(data_dir) == 0o700
    assert mode(data_dir / "t3.db") == 0o600
    # A reactor keeps the database open: its -wal and -shm must be private too.
    run = run_t3(data_dir, "run", "--until-idle", env=env, cwd=project, preexec=umask_022)
    assert run.code == 0, run
    for suffix in ("-wal", "-shm"):
        side = data_dir / f"t3.db{suffix}"
        if side.exists():
            assert mode(side) == 0o600, suffix
    for entry in data_dir.iterdir():
        assert not mode(entry) & 0o077, f"{entry.name} is readable by others"


def _shell_config(tmp_path: Path) -> str:
    recorder = tmp_path / "recorder.py"
    recorder.write_text(RECORDER)
    py = json.dumps(sys.executable)
    return f"""
[providers.as_arg]
kind = "command"
argv = [{py}, "{recorder}"]
input = "arg"

[providers.as_stdin]
kind = "command"
argv = [{py}, "{recorder}"]
input = "stdin"

[providers.templated]
kind = "command"
argv = [{py}, "{recorder}", "--prompt={{message}}"]

[providers.codex]
binary = "{FAKES / "codex"}"
skip_git_repo_check = true

[providers.claude]
binary = "{FAKES / "claude"}"
"""


@pytest.mark.parametrize("provider", ["as_arg", "as_stdin", "templated", "codex", "claude"])
def test_a_message_never_reaches_a_shell(tmp_path: Path, provider: str) -> None:
    home = tmp_path / "home"
    project = tmp_path / "project"
    project.mkdir()
    (project / "x").write_text("must survive `rm -rf x`")
    write_config(home, _shell_config(tmp_path))
    record = tmp_path / "record.jsonl"
    env = t3_env(home, T3TEST_RECORD=str(record), FAKE_RECORD=str(record))
    created = run_t3(home, "new", "--title", "t", "--provider", provider, env=env, cwd=project)
    assert created.code == 0, created
    sent = run_t3(home, "send", "t", NASTY, env=env, cwd=project)
    assert sent.code == 0, sent
    for directory in (project, tmp_path, home, Path.cwd()):
        for name in ("PWNED", "PWNED2", "PWNED3"):
            assert not (directory / name).exists(), f"{name} appeared in {directory}"
    assert (project / "x").exists()
    calls = [json.loads(line) for line in record.read_text().splitlines()]
    assert len(calls) == 1
    call = calls[0]
    if provider == "as_stdin":
        assert call["stdin"] == NASTY and NASTY not in call["argv"]
    elif provider == "templated":
        assert call["argv"][-1] == f"--prompt={NASTY}"
    else:
        assert call["argv"][-1] == NASTY  # the prompt: one argv element, byte for byte


def _leaky_config(tmp_path: Path) -> str:
    leaker = tmp_path / "leaker.py"
    leaker.write_text(LEAKER)
    return f"""
[providers.leaky]
kind = "command"
argv = [{json.dumps(sys.executable)}, "{leaker}"]
input = "arg"
env = {{ OPENAI_API_KEY = "{CANARY}", OTHER_TOKEN = "tok-canary-456" }}
"""


def test_configured_api_keys_never_reach_the_log(tmp_path: Path) -> None:
    home = tmp_path / "home"
    project = tmp_path / "project"
    project.mkdir()
    write_config(home, _leaky_config(tmp_path))
    env = t3_env(home)
    assert (
        run_t3(home, "new", "--title", "t", "--provider", "leaky", env=env, cwd=project).code == 0
    )
    # The agent fails and prints its whole environment (with the key) on stderr, then a last
    # line quoting the key — which is the line t3 quotes in the turn's error.
    sent = run_t3(home, "send", "t", "do the thing", env=env, cwd=project)
    assert sent.code == 5, sent
    assert "fatal: request with key *** was refused" in sent.stderr, sent
    queued = run_t3(home, "queue", "t", "again", env=env, cwd=project)
    assert queued.code == 0, queued
    for _ in range(2):  # the queued turn fails (its reason quotes the error), is retried, fails
        assert run_t3(home, "run", "--until-idle", env=env, cwd=project).code == 5
        assert run_t3(home, "retry", "t", env=env, cwd=project).code == 0
    config = run_t3(home, "config", "show", "--json", env=env)
    events = run_t3(home, "events", "--json", env=env)
    show = run_t3(home, "show", "t", "--json", env=env)
    doctor = run_t3(home, "doctor", "--json", env=env)
    providers = run_t3(home, "providers", "--json", env=env)
    outputs = {"events": events, "show": show, "config show": config, "doctor": doctor,
               "providers": providers, "send": sent}  # fmt: skip
    for secret in (CANARY, "tok-canary-456"):
        for name, out in outputs.items():
            assert secret not in out.stdout + out.stderr, f"{secret} in `t3 {name}`"
        for path in home.glob("t3.db*"):  # the database, its -wal and -shm
            assert secret.encode() not in path.read_bytes(), f"{secret} in {path.name}"
    assert "***" in show.stdout  # the error is there, masked


def test_an_agent_that_prints_its_key_in_its_reply_is_recorded_verbatim(tmp_path: Path) -> None:
    """The documented boundary: t3 does not rewrite an agent's answer. (Masking it would also
    be unreliable: a streamed reply can split a key across chunks.)"""
    home = tmp_path / "home"
    project = tmp_path / "project"
    project.mkdir()
    write_config(home, _leaky_config(tmp_path))
    env = t3_env(home)
    assert (
        run_t3(home, "new", "--title", "t", "--provider", "leaky", env=env, cwd=project).code == 0
    )
    sent = run_t3(home, "send", "t", "print STDOUT please", env=env, cwd=project)
    assert sent.code == 5
    show = run_t3(home, "show", "t", "--json", env=env)
    transcript = json.loads(show.stdout)
    replies = [m["text"] for m in transcript["messages"] if m["role"] == "assistant"]
    errors = [t["error"] for t in transcript["turns"]]
    assert any(CANARY in text for text in replies)  # the agent's own words
    assert all(CANARY not in (error or "") for error in errors)  # t3's words

"""`t3 paths`, `t3 config path|show`, `t3 completion`, `t3 --version`, exit codes, and the
checked-in completion scripts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from t3cli.errors import ExitCode
from tests.conftest import REPO

SCRIPTS = {"bash": "t3.bash", "zsh": "_t3", "fish": "t3.fish"}


def test_exit_codes_are_the_documented_ones():
    assert {code.name: int(code) for code in ExitCode} == {
        "OK": 0,
        "ERROR": 1,
        "USAGE": 2,
        "REJECTED": 3,
        "NOT_FOUND": 4,
        "PROVIDER_FAILURE": 5,
        "DB_BUSY": 6,
        "INTERRUPTED": 130,
        "TERMINATED": 143,
    }
    documented = (REPO / "README.md").read_text()
    for code in ExitCode:
        assert f"| {int(code)} |" in documented, code


def test_paths(cli, t3_home):
    doc = cli("paths", "--json").json()
    assert doc["home"] == str(t3_home)
    assert doc["database"] == str(t3_home / "t3.db")
    assert doc["config_file"] == str(t3_home / "config.toml")
    plain = cli("paths").stdout.splitlines()
    assert plain[1] == f"database\t{t3_home / 't3.db'}"


def test_config_path_and_show_with_masked_secrets(cli, t3_home, monkeypatch):
    assert cli("config", "path").stdout.strip() == str(t3_home / "config.toml")
    t3_home.mkdir(exist_ok=True)
    (t3_home / "config.toml").write_text(
        'default_provider = "claude"\n'
        "[providers.llm]\n"
        'kind = "command"\n'
        'argv = ["llm", "-m", "x"]\n'
        'api_key = "sk-file"\n'
        "[providers.llm.env]\n"
        'OPENAI_API_KEY = "sk-secret"\n'
    )
    shown = cli("config", "show")
    assert shown.code == 0
    assert "sk-secret" not in shown.stdout and "sk-file" not in shown.stdout
    assert 'default_provider = "claude"' in shown.stdout
    assert "[providers.llm]" in shown.stdout and '"OPENAI_API_KEY" = "***"' in shown.stdout
    doc = cli("config", "show", "--json").json()
    assert doc["providers"]["llm"]["env"] == {"OPENAI_API_KEY": "***"}
    assert doc["providers"]["llm"]["argv"] == ["llm", "-m", "x"]
    monkeypatch.setenv("T3_DEFAULT_PROVIDER", "codex")  # environment beats the file
    assert cli("config", "show", "--json").json()["default_provider"] == "codex"


def test_bad_config_exits_2(cli, t3_home):
    t3_home.mkdir(exist_ok=True)
    (t3_home / "config.toml").write_text("this is = = not toml")
    out = cli("config", "show")
    assert out.code == 2 and "not valid TOML" in out.stderr


def test_version(cli, t3_home):
    out = cli("--version")
    assert out.code == 0
    assert out.stdout.startswith("t3 ") and f"database {t3_home / 't3.db'}" in out.stdout


def test_unknown_command_and_bad_option_exit_2(cli):
    assert cli("frobnicate").code == 2
    assert cli("threads", "--limit", "0").code == 2


def test_completion_unknown_shell_exits_2(cli):
    assert cli("completion", "tcsh").code == 2


@pytest.mark.parametrize("shell", sorted(SCRIPTS))
def test_checked_in_completion_scripts_are_current(cli, shell):
    out = cli("completion", shell)
    assert out.code == 0
    checked_in = (REPO / "completions" / SCRIPTS[shell]).read_text()
    assert out.stdout == checked_in, (
        f"completions/{SCRIPTS[shell]} is stale: regenerate it with "
        f"`t3 completion {shell} > completions/{SCRIPTS[shell]}`"
    )


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completion_offers_queue_for_qu(t3_home):
    env = dict(os.environ, T3_HOME=str(t3_home))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    script = REPO / "completions" / "t3.bash"
    words = {"t3 qu": "1", "t3 queue ''": "2"}
    replies = {}
    for words_text, cword in words.items():
        done = subprocess.run(
            ["bash", "--norc", "-c",
             f'source "{script}"; COMP_WORDS=({words_text}); COMP_CWORD={cword};'
             ' _t3_complete t3; printf "%s\\n" "${COMPREPLY[@]}"'],
            capture_output=True, text=True, env=env, timeout=30, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        replies[words_text] = [line.split()[0] for line in done.stdout.splitlines()]
    assert replies["t3 qu"] == ["queue"]
    assert {"add", "list", "cancel", "move", "clear"} <= set(replies["t3 queue ''"])


def test_completion_request_through_the_entry_point(t3):
    out = t3(env={"_T3_COMPLETE": "bash_complete", "COMP_WORDS": "t3 thr", "COMP_CWORD": "1"})
    assert out.returncode == 0
    assert out.stdout == "plain\tthreads\tList threads, most recently active first.\n"
    bad = t3(env={"_T3_COMPLETE": "tcsh_complete"})
    assert bad.returncode == 2

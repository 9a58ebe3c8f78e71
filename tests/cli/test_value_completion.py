"""TAB completion of option values through the real entry point (`_T3_COMPLETE`): what each
option offers, silence on failure, and no heavy imports. The shells themselves are driven in
tests/completion/."""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from t3cli.contracts.events import EVENT_TYPES
from tests.cli.test_startup import _heavy, _imported


@pytest.fixture
def offered(t3: Callable[..., subprocess.CompletedProcess[str]]) -> Callable[..., list[list[str]]]:
    """`offered("t3 threads --status ")`: [kind, value, description] per candidate (bash)."""

    def run(words: str, cwd: Path | None = None) -> list[list[str]]:
        cword = len(shlex.split(words)) - (0 if words.endswith(" ") else 1)
        out = t3(env={"_T3_COMPLETE": "bash_complete", "COMP_WORDS": words,
                      "COMP_CWORD": str(cword)}, cwd=cwd, timeout=30)  # fmt: skip
        assert (out.returncode, out.stderr) == (0, "")
        rows = [line.split("\t") for line in out.stdout.splitlines()]
        assert all(len(row) == 3 for row in rows), out.stdout
        return rows

    return run


def values(rows: list[list[str]]) -> list[str]:
    return [row[1] for row in rows]


def test_status_values_with_their_meaning(offered):
    rows = offered("t3 threads --status ")
    assert values(rows) == ["idle", "starting", "running", "queued", "blocked", "archived"]
    assert all(kind == "plain" and about for kind, _, about in rows)
    assert values(offered("t3 threads --status q")) == ["queued"]
    assert offered("t3 threads --status zz") == []


def test_provider_values_follow_the_configuration(offered, t3_home):
    assert offered("t3 new --provider ") == [
        ["plain", "echo", "echo provider (default)"],
        ["plain", "codex", "codex provider"],
        ["plain", "claude", "claude provider"],
    ]
    t3_home.mkdir(parents=True, exist_ok=True)
    (t3_home / "config.toml").write_text(
        'default_provider = "claude"\n[providers.smol]\nkind = "command"\nargv = ["llm"]\n'
    )
    rows = offered("t3 project add --provider ")
    assert values(rows) == ["echo", "codex", "claude", "smol"]
    assert rows[2][2] == "claude provider (default)" and rows[3][2] == "command provider"


def test_a_broken_configuration_offers_no_provider_and_says_nothing(offered, t3_home):
    t3_home.mkdir(parents=True, exist_ok=True)
    (t3_home / "config.toml").write_text("this is [not toml")
    assert offered("t3 new --provider ") == []


def test_event_types_and_their_families(offered):
    rows = offered("t3 events --type ")
    globs = [value for value in values(rows) if value.endswith("*")]
    assert {"thread.*", "project.*", "thread.turn-*", "thread.queued-turn-*"} <= set(globs)
    assert values(rows)[len(globs):] == list(EVENT_TYPES)
    assert values(offered("t3 events --type thread.turn-c")) == ["thread.turn-completed"]


def test_fixed_values(offered):
    assert values(offered("t3 run --recover ")) == ["at-most-once", "resend"]
    assert values(offered("t3 run --on-exit ")) == ["interrupt", "wait"]
    assert values(offered("t3 completion ")) == ["bash", "zsh", "fish"]
    assert values(offered("t3 completion z")) == ["zsh"]


@pytest.mark.parametrize(
    "words",
    ["t3 new --project ", "t3 threads --project ", "t3 run --project ", "t3 run -p ",
     "t3 retry --all --project ", "t3 project add "],
)  # fmt: skip
def test_path_arguments_complete_directories(offered, words):
    assert offered(words + "sub") == [["dir", "sub", ""]]  # the shell lists the directories


def test_new_commands_are_offered(offered):
    assert "watch" in values(offered("t3 "))
    assert "clear" in values(offered("t3 queue "))
    assert {"--all", "--project"} <= set(values(offered("t3 retry --")))
    assert {"--quiet", "-q"} <= set(values(offered("t3 threads -")))


def test_thread_ids_sharing_8_characters_are_offered_longer(offered, conn):
    from t3cli.contracts import commands as c
    from t3cli.engine import Engine
    from tests.conftest import create_thread

    engine = Engine(conn)
    first = create_thread(engine, title="one")
    twin = first[:10] + ("0" if first[10] != "0" else "1") + first[11:]
    project = conn.execute("SELECT project_id FROM threads").fetchone()[0]
    engine.dispatch(c.ThreadCreate(command_id="twin", thread_id=twin, project_id=project,
                                   provider="echo", title="two"))  # fmt: skip
    shown = values(offered(f"t3 show {first[:4]}"))
    assert sorted(shown) == sorted([first[:11], twin[:11]])  # distinct, so a shell can tell


def test_value_completion_imports_nothing_heavy(t3_home):
    env = dict(os.environ, T3_HOME=str(t3_home), _T3_COMPLETE="bash_complete")
    for words in ("t3 threads --status ", "t3 events --type ", "t3 run --recover "):
        env.update(COMP_WORDS=words, COMP_CWORD=str(len(words.split())))
        assert _heavy(_imported([], env)) == []
    # Provider names need the registry's name table: that module, and nothing else of providers.
    env.update(COMP_WORDS="t3 new --provider ", COMP_CWORD="3")
    heavy = _heavy(_imported([], env))
    assert heavy == ["t3cli.providers", "t3cli.providers.registry"], heavy

"""Completion in real bash, zsh and fish, installed on a fresh account by the README's recipes:
thread ids with titles, statuses, providers, event types, fixed values and directories."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.completion.conftest import BASH_COMPLETION, World, command_line

pytestmark = pytest.mark.tmux

STATUSES = ["idle", "starting", "running", "queued", "blocked", "archived"]
PROVIDERS = ["echo", "codex", "claude", "smol"]
QUEUED_TURN_TYPES = [
    "thread.queued-turn-send-started", "thread.queued-turn-resolved",
    "thread.queued-turn-send-failed", "thread.queued-turn-requeued",
    "thread.queued-turn-cancelled", "thread.queued-turn-moved",
]  # fmt: skip


def by_recency(world: World) -> list[tuple[str, str]]:
    """(8-character id, title) of the world's threads, most recently active first."""
    return [(tid[:8], title) for title, tid in reversed(world.threads.items())]


# --- bash --------------------------------------------------------------------------------------

_BASH_TAB = """
. {bash_completion}
# bash-completion's own loader must find the file where the README put it.
__load_completion t3 2>/dev/null || _comp_load t3 || exit 3
spec=$(complete -p t3) || exit 4
func=${{spec##*-F }}; func=${{func%% *}}
COMP_LINE={line}; COMP_POINT=${{#COMP_LINE}}
read -ra COMP_WORDS <<< "$COMP_LINE"
[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
COLUMNS=200
"$func" t3 "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\\n' "${{COMPREPLY[@]}}"
"""


@pytest.fixture
def bash_tab(account: Callable[[str], Path], world: World) -> Callable[[str], list[str]]:
    """COMPREPLY for TAB at the end of `line`, as bash-completion loads and calls t3's function
    in a fresh account."""
    home = account("bash")

    def tab(line: str) -> list[str]:
        script = _BASH_TAB.format(bash_completion=BASH_COMPLETION, line=shlex.quote(line))
        done = subprocess.run(
            ["bash", "--norc", "--noprofile", "-c", script], env=world.env(home),
            cwd=world.project, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert (done.returncode, done.stderr) == (0, ""), done.stderr
        return [line for line in done.stdout.splitlines() if line]

    return tab


def test_bash_lists_thread_ids_with_their_titles(bash_tab, world):
    width = 8
    expected = [f"{'@last':<{width}}  -- the most recently active thread"] + [
        f"{tid:<{width}}  -- {title}" for tid, title in by_recency(world)
    ]
    assert bash_tab("t3 show ") == expected
    docs = world.threads["docs: the README"]
    assert bash_tab("t3 show docs") == [docs[:8]]  # one candidate: the bare id is inserted
    assert bash_tab(f"t3 queue {docs[:5]}") == [docs[:8]]
    assert [line.split()[0] for line in bash_tab("t3 show 'fix")] == [
        world.threads["fix flaky tests"][:8], world.threads["fix login, then logout"][:8],
    ]  # fmt: skip


def test_bash_completes_values(bash_tab):
    assert [line.split()[0] for line in bash_tab("t3 threads --status ")] == STATUSES
    assert bash_tab("t3 threads --status bl") == ["blocked"]
    assert bash_tab("t3 threads --status=bl") == ["blocked"]  # bash's word is what follows `=`
    providers = bash_tab("t3 new --provider ")
    assert [line.split()[0] for line in providers] == PROVIDERS
    assert "echo provider (default)" in providers[0] and "command provider" in providers[3]
    assert bash_tab("t3 project add . --provider sm") == ["smol"]
    assert bash_tab("t3 run --recover ") == ["at-most-once", "resend"]
    assert bash_tab("t3 run --on-exit w") == ["wait"]
    assert bash_tab("t3 completion ") == ["bash", "zsh", "fish"]
    queued = [line.split()[0] for line in bash_tab("t3 events --type thread.queued-turn-")]
    assert queued == ["thread.queued-turn-*", *QUEUED_TURN_TYPES]


def test_bash_interactive_tab_on_a_fresh_account(account, pane, world):
    """The whole thing a user does: open a terminal, type, press TAB (twice to list)."""
    shell = pane("bash", account("bash"))
    fix_login = world.threads["fix login, then logout"]
    screen = shell.tab("t3 show ", lambda s: "fix login, then logout" in s, presses=2)
    assert f"{fix_login[:8]}  -- fix login, then logout" in screen
    docs = world.threads["docs: the README"][:8]
    shell.tab("t3 show docs", lambda s: command_line(s).endswith(f"t3 show {docs}"))
    # TAB inserts "subdir" (what both share), TAB again finds nothing more, the third lists.
    screen = shell.tab("t3 run --project sub", lambda s: "subdir2/" in s, presses=3)
    assert "subdir1/" in screen and "a-file" not in screen
    shell.tab("t3 thr", lambda s: command_line(s).endswith("t3 threads"))
    shell.tab("t3 threads --status bl", lambda s: command_line(s).endswith("--status blocked"))
    shell.tab("t3 run --on-exit=w", lambda s: command_line(s).endswith("--on-exit=wait"))


# --- zsh ---------------------------------------------------------------------------------------


def test_zsh_interactive_tab_on_a_fresh_account(account, pane, world):
    shell = pane("zsh", account("zsh"))
    screen = shell.tab("t3 show ", lambda s: "fix login, then logout" in s)
    listed = [line.split("  -- ", 1) for line in screen.splitlines() if "  -- " in line]
    assert [(value.strip(), title) for value, title in listed] == [
        ("@last", "the most recently active thread"), *by_recency(world),
    ]  # fmt: skip
    # A title's first word lists its threads and leaves the word alone...
    screen = shell.tab("t3 show fix", lambda s: "fix flaky tests" in s)
    assert command_line(screen).endswith("t3 show fix") and "docs: the README" not in screen
    # ...and one match is inserted.
    docs = world.threads["docs: the README"][:8]
    shell.tab("t3 show docs", lambda s: command_line(s).endswith(f"t3 show {docs}"))
    screen = shell.tab("t3 threads --status ", lambda s: "archived" in s)
    assert [line.split()[0] for line in screen.splitlines()[1:] if line.strip()] == STATUSES
    screen = shell.tab("t3 new --provider ", lambda s: "smol" in s)
    assert "command provider" in screen and "echo provider (default)" in screen
    screen = shell.tab("t3 run --project sub", lambda s: "subdir2/" in s, presses=2)
    assert "subdir1/" in screen and "a-file" not in screen
    shell.tab("t3 run --on-exit w", lambda s: command_line(s).endswith("--on-exit wait"))
    shell.tab("t3 threads --status=bl", lambda s: command_line(s).endswith("--status=blocked"))
    screen = shell.tab(
        "t3 events --type thread.queued-turn-s", lambda s: "send-failed" in s, presses=2
    )
    assert "thread.queued-turn-send-started" in screen


# --- fish --------------------------------------------------------------------------------------


@pytest.fixture
def fish_complete(account: Callable[[str], Path], world: World) -> Callable[[str], list[str]]:
    """What fish offers for `line` (`complete -C`), with t3.fish autoloaded from the account."""
    home = account("fish")

    def complete(line: str) -> list[str]:
        done = subprocess.run(
            ["fish", "-c", f"complete -C {shlex.quote(line)}"],
            env=world.env(home), cwd=world.project, capture_output=True, text=True, timeout=60,
            check=False,
        )  # fmt: skip
        assert (done.returncode, done.stderr) == (0, ""), done.stderr
        return done.stdout.splitlines()

    return complete


def test_fish_descriptions_keep_their_commas(fish_complete, world):
    assert fish_complete("t3 show ") == ["@last\tthe most recently active thread"] + [
        f"{tid}\t{title}" for tid, title in by_recency(world)
    ]
    fix = world.threads["fix login, then logout"]
    assert fish_complete(f"t3 retry {fix[:3]}") == [f"{fix[:8]}\tfix login, then logout"]


def test_fish_completes_values_and_directories(fish_complete):
    assert [line.split("\t")[0] for line in fish_complete("t3 threads --status ")] == STATUSES
    assert [line.split("\t")[0] for line in fish_complete("t3 new --provider ")] == PROVIDERS
    assert fish_complete("t3 run --recover ") == ["at-most-once", "resend"]
    assert fish_complete("t3 run --on-exit=w") == ["--on-exit=wait"]
    assert [line.split("\t")[0] for line in fish_complete("t3 run --project sub")] == [
        "subdir1/", "subdir2/",
    ]  # fmt: skip
    assert [line.split("\t")[0] for line in fish_complete("t3 project add ")] == [
        "subdir1/", "subdir2/",
    ]  # fmt: skip
    assert fish_complete("t3 events --type thread.queued-turn-c") == [
        "thread.queued-turn-cancelled"
    ]

"""TAB completion of THREAD arguments and options: 8-character id prefixes of non-deleted
threads, most recently active first (titles as help), plus `@last`; nothing, silently, when there
is no usable database. Through the real entry point (`_T3_COMPLETE=...`) and a real bash."""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.fixture
def complete(t3) -> Callable[..., list[str]]:
    """`complete("t3 show 7f")`: the bash candidates t3 offers for the last word."""

    def run(words: str, shell: str = "bash", check_quiet: bool = True) -> list[str]:
        cword = len(shlex.split(words)) - (0 if words.endswith(" ") else 1)
        out = t3(env={"_T3_COMPLETE": f"{shell}_complete", "COMP_WORDS": words,
                      "COMP_CWORD": str(cword)}, timeout=30)  # fmt: skip
        assert out.returncode == 0, out.stderr
        if check_quiet:
            assert out.stderr == ""
        lines = [line.split("\t") for line in out.stdout.splitlines()]
        assert all(len(fields) == 3 for fields in lines), out.stdout
        if shell != "bash":
            return [field for fields in lines for field in fields]
        return [fields[1] for fields in lines]

    return run


def test_thread_argument_offers_id_prefixes_most_recent_first(complete, thread, cli):
    a, b, c = thread("fix login"), thread("Fix logout"), thread("docs")
    assert complete("t3 show ") == ["@last", c[:8], b[:8], a[:8]]
    assert cli("queue", a[:8], "more").code == 0  # activity (not yet projected) moves `a` up
    assert complete("t3 show ") == ["@last", a[:8], c[:8], b[:8]]
    assert cli("threads").code == 0  # ... and stays there once projected
    assert complete("t3 show ") == ["@last", a[:8], c[:8], b[:8]]


def test_incomplete_word_filters_by_id_prefix_or_title_prefix(complete, thread):
    ids = [thread(title) for title in ("fix login", "Fix logout", "docs")]
    docs = ids[2]
    assert complete(f"t3 show {docs[:6]}") == [docs[:8]]
    assert complete(f"t3 show {docs[:12]}") == [docs[:12]]  # a longer prefix is kept
    assert set(complete("t3 show fix")) == {ids[0][:8], ids[1][:8]}
    assert complete("t3 show 'Fix lo'") == complete("t3 show 'fix lo'")
    assert len(complete("t3 show 'fix lo'")) == 2
    assert complete("t3 show @") == ["@last"]
    assert complete("t3 show zzz") == []
    assert complete("t3 show 100%_") == []  # LIKE wildcards are literal


def test_zsh_shows_titles_and_deleted_threads_are_not_offered(complete, thread, cli):
    keep, gone = thread("keep me"), thread("delete me")
    assert cli("rm", gone[:8]).code == 0
    assert complete("t3 show ", shell="zsh") == [
        "plain", "@last", "the most recently active thread", "plain", keep[:8], "keep me",
    ]  # fmt: skip


def test_archived_threads_are_offered_and_marked(complete, thread, cli):
    tid = thread("old")
    assert cli("archive", tid[:8]).code == 0
    assert complete("t3 show ", shell="zsh")[-2:] == [tid[:8], "old  (archived)"]


@pytest.mark.parametrize(
    "words",
    [
        "t3 show ", "t3 send ", "t3 queue add ", "t3 queue list ", "t3 queue cancel ",
        "t3 queue move ", "t3 rename ", "t3 archive ", "t3 rm ", "t3 retry ", "t3 interrupt ",
        "t3 stop ", "t3 run --thread ", "t3 run -t ", "t3 events --thread ",
    ],
)  # fmt: skip
def test_every_thread_parameter_completes(complete, thread, words):
    tid = thread("x")
    assert complete(words) == ["@last", tid[:8]]


def test_other_arguments_do_not_complete_threads(complete, thread):
    tid = thread("x")
    assert tid[:8] not in complete(f"t3 send {tid[:8]} ")  # MESSAGE
    assert tid[:8] not in complete(f"t3 queue cancel {tid[:8]} ")  # ITEM


def test_at_most_fifty_candidates(complete, thread):
    for n in range(55):
        thread(f"t{n}")
    offered = complete("t3 show ")
    assert offered[0] == "@last"
    assert len(offered) == 51


def test_no_database_offers_nothing_and_creates_nothing(complete, t3_home):
    assert complete("t3 show ") == []
    assert complete("t3 queue add ") == []
    assert not (t3_home / "t3.db").exists()


def test_empty_database_offers_nothing(complete, thread, cli):
    tid = thread("only")
    assert cli("rm", tid[:8]).code == 0
    assert complete("t3 show ") == []


@pytest.mark.parametrize("content", [b"this is not a database" * 100, b""])
def test_unusable_database_offers_nothing_quietly(complete, t3_home, content):
    t3_home.mkdir(parents=True)
    (t3_home / "t3.db").write_bytes(content)
    assert complete("t3 show ") == []
    assert (t3_home / "t3.db").read_bytes() == content  # neither migrated nor repaired


def test_t3_home_that_is_a_file_offers_nothing_quietly(complete, tmp_path, t3):
    home = tmp_path / "file"
    home.write_text("x")
    out = t3(env={"_T3_COMPLETE": "bash_complete", "COMP_WORDS": "t3 show ", "COMP_CWORD": "2",
                  "T3_HOME": str(home)})  # fmt: skip
    assert (out.returncode, out.stdout, out.stderr) == (0, "", "")


def test_locked_database_offers_nothing_without_hanging(complete, thread, t3_home):
    thread("x")
    holder = sqlite3.connect(t3_home / "t3.db", isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("CREATE TABLE lock_probe (x)")
        started = time.monotonic()
        assert complete("t3 show ") == []
        assert time.monotonic() - started < 10
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_completion_does_not_write_the_database(complete, thread, t3_home):
    thread("x")
    before = (t3_home / "t3.db").read_bytes()
    assert len(complete("t3 show ")) == 2
    assert (t3_home / "t3.db").read_bytes() == before
    wal = t3_home / "t3.db-wal"  # a WAL reader may leave an empty log behind, never content
    assert not wal.exists() or wal.stat().st_size == 0


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completes_thread_ids(thread, t3_home):
    older, newer = thread("older"), thread("newer")
    env = dict(os.environ, T3_HOME=str(t3_home))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    script = REPO / "completions" / "t3.bash"

    def tab(words_text: str, cword: int) -> list[str]:
        done = subprocess.run(
            ["bash", "--norc", "-c",
             f'source "{script}"; COMP_WORDS=({words_text}); COMP_CWORD={cword};'
             ' _t3_complete t3; printf "%s\\n" "${COMPREPLY[@]}"'],
            capture_output=True, text=True, env=env, timeout=30, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
        return done.stdout.splitlines()

    # Several candidates: listed with their titles; one: the bare id, ready to be inserted.
    assert tab("t3 show ''", 2) == [
        "@last     -- the most recently active thread",
        f"{newer[:8]}  -- newer",
        f"{older[:8]}  -- older",
    ]
    assert tab(f"t3 show {older[:6]}", 2) == [older[:8]]
    assert tab("t3 show new", 2) == [newer[:8]]


def test_queue_offers_its_subcommands_and_threads(complete, thread):
    """`t3 queue <TAB>`: the first word is a subcommand or a THREAD (the implicit `add`)."""
    tid = thread("queue target")
    offered = complete("t3 queue ")
    assert {"list", "cancel", "move"} <= set(offered)
    assert tid[:8] in offered
    # A hex id may begin with "add" (1 in 4096): then the subcommand is offered too.
    expected = {tid[:8]} | ({"add"} if tid.startswith("add") else set())
    assert set(complete(f"t3 queue {tid[:3]}")) == expected

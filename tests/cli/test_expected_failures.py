"""Expected failures are documented errors, never "unexpected error" (issue #12, point 6).

Every case runs the real `t3` console script in a subprocess (real files, real descriptors):

- random bytes inside the database: `events`, `replay --check`, `show` exit 1 "corrupt" with the
  `t3 doctor` hint, and once a command has found the damage no write is acknowledged until
  `t3 doctor` sees the file whole again;
- an argument that is not UTF-8 (message, title, `--command-id`): exit 2;
- integers too large for SQLite (`--limit`, `--before`, `--since`): exit 2;
- `T3_HOME` below a regular file: exit 2;
- stdout on a full device (`/dev/full`): exit 1 with a message;
- a closed stdout pipe (`t3 threads | head -1`): exit 0 and nothing on stderr;
- a full disk (a real, tiny tmpfs, where the system allows mounting one) and a read-only
  database say which it is and what to do.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from t3cli.errors import ExitCode
from tests.conftest import t3_executable
from tests.reliability.support import log_state, run_t3, t3_env, without_root_powers


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def t3(home: Path, *args: str | bytes, **popen) -> subprocess.CompletedProcess[bytes]:
    """The real `t3`, with bytes arguments allowed (argv is bytes on POSIX)."""
    return subprocess.run(
        [*t3_executable(), *args], env=t3_env(home), stdin=subprocess.DEVNULL,
        cwd=home.parent if home.parent.is_dir() else None,
        capture_output="stdout" not in popen, timeout=120, check=False, **popen,
    )  # fmt: skip


def ok(home: Path, *args: str) -> str:
    done = t3(home, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout.decode()


def assert_error(done: subprocess.CompletedProcess[bytes], code: int, *words: str) -> str:
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == code, (done.returncode, err)
    assert err.startswith("error: ") and "\nhint: " in err, err
    assert "Traceback" not in err and "unexpected error" not in err and "Exception" not in err
    for word in words:
        assert word in err, (word, err)
    return err


@pytest.fixture
def thread(home: Path) -> str:
    tid = ok(home, "new", "--title", "alpha", "hello").strip()
    ok(home, "queue", tid, "second message")
    ok(home, "threads")  # the summaries are projected too
    return tid


# --- a corrupt database -------------------------------------------------------------------------


def corrupt_table(db: Path, table: str, seed: int = 7) -> None:
    """Overwrite the root page of `table` with random bytes (the WAL checkpointed first)."""
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    rng = random.Random(seed)
    with db.open("r+b") as fh:
        fh.seek((root - 1) * page_size)
        fh.write(bytes(rng.randrange(256) for _ in range(page_size)))


@pytest.mark.parametrize(
    ("table", "args"),
    [
        ("events", ("events",)),
        ("events", ("events", "--json")),
        ("events", ("replay", "--check")),
        ("messages", ("show", "{tid}")),
    ],
    ids=["events", "events --json", "replay --check", "show"],
)
def test_a_corrupt_database_is_a_documented_error(home, thread, table, args):
    corrupt_table(home / "t3.db", table)
    done = t3(home, *[a.format(tid=thread) for a in args])
    assert_error(done, ExitCode.ERROR, "corrupt", "t3 doctor")


def test_no_write_is_acknowledged_on_a_database_known_to_be_corrupt(home, thread):
    db = home / "t3.db"
    backup = home.parent / "backup.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    shutil.copyfile(db, backup)
    corrupt_table(db, "thread_summaries")  # a table `t3 queue` never touches
    found = t3(home, "threads")
    assert_error(found, ExitCode.ERROR, "corrupt")
    before = log_state(db)
    refused = t3(home, "queue", thread, "must not be acknowledged")
    assert_error(refused, ExitCode.ERROR, "found corrupt by an earlier command", "t3 doctor")
    assert log_state(db) == before
    # The doctor confirms the damage and keeps refusing writes ...
    doctor = t3(home, "doctor")
    assert doctor.returncode == ExitCode.ERROR
    assert b"FAIL database" in doctor.stdout
    assert_error(t3(home, "rename", thread, "nope"), ExitCode.ERROR, "found corrupt")
    # ... until the file is whole again (a restored backup): then writes work again.
    shutil.copyfile(backup, db)
    healed = t3(home, "doctor")
    assert b"corruption mark" in healed.stdout and healed.returncode == 0, healed.stdout
    assert t3(home, "queue", thread, "after the restore").returncode == 0


# --- arguments ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("queue", "{tid}", b"caf\xe9"),
        ("new", "--title", b"\xff\xfe title", "hi"),
        ("queue", "{tid}", "ok", "--command-id", b"id-\xe9"),
    ],
    ids=["message", "title", "command id"],
)
def test_an_argument_that_is_not_utf8_exits_2_and_records_nothing(home, thread, args):
    before = log_state(home / "t3.db")
    done = t3(home, *[a.format(tid=thread) if isinstance(a, str) else a for a in args])
    err = assert_error(done, ExitCode.USAGE, "not valid UTF-8")
    assert "\\x" in err  # the bad bytes are shown escaped
    assert log_state(home / "t3.db") == before


@pytest.mark.parametrize(
    "args",
    [
        ("threads", "--limit", "99999999999999999999"),
        ("threads", "--before", "99999999999999999999"),
        ("events", "--since", "99999999999999999999"),
        ("events", "--since", "-5"),
    ],
    ids=["--limit", "--before", "--since", "--since negative"],
)
def test_integers_sqlite_cannot_hold_exit_2(home, thread, args):
    assert_error(t3(home, *args), ExitCode.USAGE, args[1])


def test_t3_home_below_a_regular_file_exits_2(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    done = t3(blocker / "t3home", "threads")
    assert_error(done, ExitCode.USAGE, "T3_HOME", "is a file")
    done = t3(blocker / "deeper" / "t3home", "new", "hello")
    assert_error(done, ExitCode.USAGE, "T3_HOME")


# --- stdout -------------------------------------------------------------------------------------


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
@pytest.mark.parametrize("args", [("threads",), ("events", "--json"), ("show", "{tid}")])
def test_stdout_on_a_full_device_exits_1_with_a_message(home, thread, args):
    with open("/dev/full", "wb") as full:
        done = t3(home, *[a.format(tid=thread) for a in args], stdout=full, stderr=subprocess.PIPE)
    err = assert_error(done, ExitCode.ERROR, "cannot write the output", "no space left")
    assert "Exception ignored" not in err


@pytest.mark.parametrize("args", [("threads",), ("events", "--json"), ("show", "{tid}")])
def test_a_closed_stdout_pipe_is_a_quiet_exit_0(home, thread, args):
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before t3 writes a byte: EPIPE on the first flush
    try:
        done = t3(home, *[a.format(tid=thread) for a in args], stdout=write_end,
                  stderr=subprocess.PIPE)  # fmt: skip
    finally:
        os.close(write_end)
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""


def test_head_closing_the_pipe_early_is_quiet(home, thread):
    # Enough output that `t3 events --json` is still writing when `head` has gone.
    for _ in range(4):
        ok(home, "queue", thread, "x" * 100_000)
    t3_cmd = " ".join(t3_executable())
    done = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {t3_cmd} events --json | head -1; echo \"rc=$?\" >&2"],
        env=t3_env(home), capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.stdout.startswith(b'{"sequence": 1'), done.stdout[:200]
    assert done.stderr == b"rc=0\n", done.stderr


# --- full disk, read-only database --------------------------------------------------------------


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 4 MB tmpfs (root, with the right to mount), unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
        capture_output=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_says_so_and_loses_nothing(tiny_disk):
    home = tiny_disk / "home"
    tid = ok(home, "new", "--title", "alpha").strip()
    before = log_state(home / "t3.db")
    filler = tiny_disk / "filler"
    with filler.open("wb") as fh:  # fill the disk up to the last few blocks
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass
    before = log_state(home / "t3.db")
    done = t3(home, "queue", tid, "y" * 100_000)
    err = assert_error(done, ExitCode.ERROR, "full", "nothing was written", "free some space")
    assert str(home / "t3.db") in err
    assert log_state(home / "t3.db") == before
    filler.unlink()
    assert t3(home, "queue", tid, "after freeing space").returncode == 0


@pytest.mark.parametrize("what", ["file", "directory"])
def test_a_read_only_database_says_which_part_and_what_to_do(home, thread, what):
    db = home / "t3.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    target = db if what == "file" else home
    target.chmod(0o400 if what == "file" else 0o500)
    try:
        done = run_t3(home, "queue", thread, "hi", prefix=without_root_powers(), cwd=home.parent)
    finally:
        target.chmod(0o600 if what == "file" else 0o700)
    assert done.code == ExitCode.ERROR, done
    assert done.stderr.startswith("error: ") and "hint: chmod" not in done.stderr
    assert "read-only" in done.stderr and "nothing was written" in done.stderr
    assert f"chmod u+w {target}" in done.stderr, done.stderr

"""`t3 send` and the signals a user (or a supervisor) sends it: a real process, real signals.

README "Signals and exit codes": SIGINT (Ctrl-C) and SIGTERM interrupt the turn and wait until
its end is recorded; a second signal kills the agent at once, and its end is still recorded.
`t3 send` then exits 130 after SIGINT and 143 after SIGTERM — a service manager that stops a
script with SIGTERM must be able to tell that from a user's Ctrl-C.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from t3cli.engine import Engine
from tests.conftest import create_thread
from tests.reactor.conftest import CONFIG, count, popen_t3, turn_statuses, wait_until

# An agent that shrugs SIGINT off (saying so on stdout): the first signal's interrupt cannot end
# it, only the escalation (SIGKILL after `interrupt_grace_s`) or a second signal can.
STUBBORN = (
    "import signal, sys, time\n"
    "def said(*_):\n"
    "    sys.stdout.write('ignored SIGINT\\n'); sys.stdout.flush()\n"
    "signal.signal(signal.SIGINT, said)\n"
    "sys.stdout.write('agent started\\n'); sys.stdout.flush()\n"
    "while True: time.sleep(1)\n"
)
STUBBORN_CONFIG = f"""
[providers.stubborn]
kind = "command"
argv = [{sys.executable!r}, "-c", {STUBBORN!r}]
input = "arg"
interrupt_grace_s = 120
"""


@pytest.fixture
def home(t3_home: Path) -> Path:
    t3_home.mkdir(parents=True, exist_ok=True)
    (t3_home / "config.toml").write_text(CONFIG + STUBBORN_CONFIG)
    return t3_home


def _start_send(
    engine: Engine, home: Path, provider: str, text: str
) -> tuple[str, subprocess.Popen[str]]:
    project = home.parent / "project"  # the agent runs there: it must exist
    project.mkdir(exist_ok=True)
    thread_id = create_thread(engine, path=str(project), provider=provider)
    proc = popen_t3(home, "send", thread_id, text)
    wait_until(lambda: turn_statuses(engine, thread_id) == ["running"], what="the turn to run")
    return thread_id, proc


def _finish(proc: subprocess.Popen[str]) -> tuple[str, str]:
    try:
        return proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)


def _assert_recorded(engine: Engine, thread_id: str, err: str) -> None:
    assert turn_statuses(engine, thread_id) == ["interrupted"], err
    assert count(engine.conn, "SELECT count(*) FROM thread_leases") == 0
    assert "Traceback" not in err


def test_sigterm_exits_143_with_the_turn_recorded(engine: Engine, home: Path) -> None:
    thread_id, proc = _start_send(engine, home, "echo", "HANG until terminated")
    proc.send_signal(signal.SIGTERM)
    _, err = _finish(proc)
    assert proc.returncode == 143, err
    _assert_recorded(engine, thread_id, err)


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"]
)
def test_two_quick_signals_kill_the_agent_and_record_the_turn(
    engine: Engine, home: Path, signum: int, code: int
) -> None:
    thread_id, proc = _start_send(engine, home, "stubborn", "ignore the interrupt")
    assert proc.stdout is not None
    assert proc.stdout.readline() == "agent started\n"  # the agent runs (and ignores SIGINT)
    proc.send_signal(signum)
    # A second signal sent before the first was handled would merge with it (the kernel keeps
    # one pending signal of a kind): wait until the interrupt reached the agent, as a person
    # pressing Ctrl-C twice does.
    assert proc.stdout.readline() == "ignored SIGINT\n"
    proc.send_signal(signum)
    _, err = _finish(proc)  # without the second signal this would wait 120 s for the escalation
    assert proc.returncode == code, err
    _assert_recorded(engine, thread_id, err)

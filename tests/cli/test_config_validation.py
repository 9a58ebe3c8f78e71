"""Configuration is validated before anything is recorded (issue #12, point 4).

- A bad `[providers.NAME]` table (empty argv, empty executable, negative or non-numeric timeouts,
  an unknown `input`, unknown keys) is refused with exit 2 naming the key: when `t3 new` binds a
  thread to it, and before `t3 send` or `t3 run` record anything — never a first turn that fails
  (exit 5) and blocks the queue.
- Unknown keys of the file warn, naming the closest known key.
- `T3_*` variables obey the same rules as the file (`T3_POLL_INTERVAL_MS=0` is refused like
  `poll_interval_ms = 0`).
- `t3 doctor` reports every configuration problem as a failure with the right fix.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from t3cli.errors import ExitCode
from tests.cli.conftest import event_types

GOOD = '[providers.x]\nkind = "command"\nargv = ["cat"]\n'

BAD_TABLES = {
    "empty argv": ('argv = []', "providers.x.argv"),
    "empty executable": ('argv = [""]', "providers.x.argv"),
    "negative timeout": ('argv = ["cat"]\nstart_timeout_s = -1', "providers.x.start_timeout_s"),
    "non-numeric timeout": ('argv = ["cat"]\nturn_timeout_s = "soon"',
                            "providers.x.turn_timeout_s"),
    "unknown input": ('argv = ["cat"]\ninput = "bogus"', "providers.x.input"),
    "unknown key": ('argv = ["cat"]\ncolour = "red"', "providers.x.colour"),
}  # fmt: skip


def write_config(home: Path, text: str) -> None:
    home.mkdir(exist_ok=True)
    (home / "config.toml").write_text(text)


def bad_table(body: str) -> str:
    return f'[providers.x]\nkind = "command"\n{body}\n'


def _refused(out, key: str) -> None:
    assert out.code == ExitCode.USAGE, out
    assert out.stderr.startswith("error: ") and "hint: " in out.stderr
    assert key in out.stderr, out.stderr


@pytest.mark.parametrize("case", list(BAD_TABLES), ids=list(BAD_TABLES))
def test_t3_new_refuses_to_bind_a_thread_to_a_bad_table(cli, conn, t3_home, case):
    body, key = BAD_TABLES[case]
    write_config(t3_home, bad_table(body))
    before = event_types(conn)
    out = cli("new", "--provider", "x", "--title", "never", "hi")
    _refused(out, key)
    assert event_types(conn) == before
    assert cli("threads", "--json").json() == []


@pytest.mark.parametrize("case", list(BAD_TABLES), ids=list(BAD_TABLES))
def test_t3_send_and_t3_run_refuse_before_recording_anything(cli, conn, t3_home, case):
    write_config(t3_home, GOOD)
    tid = cli("new", "--provider", "x", "--title", "bound").stdout.strip()
    queued = cli("queue", tid, "waiting")
    assert queued.code == 0
    body, key = BAD_TABLES[case]
    write_config(t3_home, bad_table(body))  # the table goes bad after the thread was bound
    before = event_types(conn)
    _refused(cli("send", tid, "now", "--no-wait", "--queue-if-busy"), key)
    _refused(cli("run", "--until-idle"), key)
    assert event_types(conn) == before
    items = cli("queue", "list", tid, "--json").json()
    assert [(i["status"], i["attempts"]) for i in items] == [("pending", 0)]  # nothing failed


def test_a_good_table_runs(cli, t3_home):
    write_config(t3_home, GOOD)
    tid = cli("new", "--provider", "x", "--title", "ok").stdout.strip()
    out = cli("send", tid, "echoed by cat")
    assert out.code == 0, out
    assert out.stdout.strip() == "echoed by cat"


@pytest.mark.parametrize(
    ("text", "typo", "known"),
    [
        ('default_providr = "codex"\n', "default_providr", "default_provider"),
        ("[reactor]\nmax_concurent = 2\n", "reactor.max_concurent", "reactor.max_concurrent"),
    ],
)
def test_an_unknown_key_warns_naming_the_closest_known_key(cli, thread, t3_home, text, typo, known):
    tid = thread("t")
    write_config(t3_home, text)
    out = cli("queue", tid, "hi")
    assert out.code == 0, out
    assert f"warning: unknown config key '{typo}'" in out.stderr
    assert f"did you mean '{known}'?" in out.stderr
    assert out.stderr.count("warning:") == 1


@pytest.mark.parametrize(
    ("variable", "value", "key"),
    [
        ("T3_POLL_INTERVAL_MS", "0", "poll_interval_ms = 0"),
        ("T3_MAX_CONCURRENT", "-2", "max_concurrent = -2"),
        ("T3_MAX_MESSAGE_CHARS", "0", None),
        ("T3_POLL_INTERVAL_MS", "fast", None),
        ("T3_BUSY_TIMEOUT_MS", "5s", None),
    ],
)
def test_environment_variables_follow_the_rules_of_the_file(
    cli, t3_home, monkeypatch, variable, value, key
):
    monkeypatch.setenv(variable, value)
    # The busy timeout is read when the database opens (`t3 threads`), the others with the config.
    out = cli("threads") if variable == "T3_BUSY_TIMEOUT_MS" else cli("config", "show")
    _refused(out, variable)
    if key is not None:  # the same value in the file is refused too
        monkeypatch.delenv(variable)
        write_config(t3_home, f"[reactor]\n{key}\n" if "max_message" not in key else key)
        _refused(cli("config", "show"), key.split(" =")[0])


def test_an_empty_variable_counts_as_unset(cli, monkeypatch):
    monkeypatch.setenv("T3_POLL_INTERVAL_MS", "")
    assert cli("config", "show", "--json").json()["reactor"]["poll_interval_ms"] == 20
    monkeypatch.setenv("T3_POLL_INTERVAL_MS", "5")
    assert cli("config", "show", "--json").json()["reactor"]["poll_interval_ms"] == 5


def test_doctor_reports_every_config_problem_as_a_failure_with_its_fix(cli, t3_home):
    write_config(
        t3_home,
        'default_providr = "x"\nmax_message_chars = 0\n'
        '[providers.x]\nkind = "command"\nargv = []\ninput = "bogus"\n'
        '[providers.y]\nkind = "codex"\nstart_timeout_s = -5\n',
    )
    out = cli("doctor", "--json")
    assert out.code == ExitCode.ERROR
    config = [f for f in out.json()["findings"] if f["area"] == "config"]
    failures = {(f["check"], f["message"]) for f in config if f["status"] == "fail"}
    assert any("max_message_chars" in m for _, m in failures)
    # The provider tables are not checked while the file itself is invalid: fix it first.
    write_config(
        t3_home,
        'default_providr = "x"\n'
        '[providers.x]\nkind = "command"\nargv = []\ninput = "bogus"\n'
        '[providers.y]\nkind = "codex"\nstart_timeout_s = -5\n',
    )
    out = cli("doctor", "--json")
    assert out.code == ExitCode.ERROR
    findings = out.json()["findings"]
    by_check = {}
    for finding in findings:
        by_check.setdefault((finding["area"], finding["check"]), []).append(finding)
    x = by_check[("config", "providers.x")]
    assert {f["status"] for f in x} == {"fail"}
    assert any("providers.x.argv" in f["message"] for f in x)
    assert any("providers.x.input" in f["message"] for f in x)
    assert all("fix [providers.x]" in f["fix"] for f in x)
    (y,) = by_check[("config", "providers.y")]
    assert y["status"] == "fail" and "providers.y.start_timeout_s" in y["message"]
    (typo,) = by_check[("config", "config keys")]
    assert typo["status"] == "warn" and "default_provider" in typo["message"]
    # Never the wrong advice of a missing executable for a table that is wrong.
    assert ("providers", "x") not in by_check and ("providers", "y") not in by_check
    plain = cli("doctor")
    assert "FAIL config/providers.x" in plain.stdout

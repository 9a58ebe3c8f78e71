"""Provider names, config validation with precise keys, timeouts, and the cheap import path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from t3cli.config import Config
from t3cli.errors import ConfigError, NotFound
from t3cli.providers import registry
from t3cli.providers.registry import check_all, get_provider, provider_names


def config(**providers: dict[str, Any]) -> Config:
    return Config(path=Path("/etc/t3/config.toml"), providers=providers)


def test_builtins_need_no_config_and_configured_names_follow() -> None:
    cfg = config(smol={"kind": "command", "argv": ["llm"]}, codex={"model": "x"})
    assert provider_names(cfg) == ["echo", "codex", "claude", "smol"]
    assert get_provider(Config(), "claude").kind == "claude"


def test_unknown_name_is_not_found_with_the_configured_names_as_hint() -> None:
    with pytest.raises(NotFound) as caught:
        get_provider(config(smol={"kind": "command", "argv": ["llm"]}), "gpt")
    assert caught.value.message == "unknown provider 'gpt'"
    assert "echo, codex, claude, smol" in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("name", "table", "key"),
    [
        ("codex", {"binary": 5}, "providers.codex.binary"),
        ("codex", {"skip_git_repo_check": "yes"}, "providers.codex.skip_git_repo_check"),
        ("echo", {"bogus": 1}, "providers.echo.bogus"),
        ("echo", {"chunk_chars": 0}, "providers.echo.chunk_chars"),
        ("echo", {"fail_pattern": "(unclosed"}, "providers.echo.fail_pattern"),
        ("claude", {"max_turns": True}, "providers.claude.max_turns"),
        ("claude", {"allowed_tools": "Bash"}, "providers.claude.allowed_tools"),
        ("x", {"kind": "ollama"}, "providers.x.kind"),
        ("x", {"argv": ["llm"]}, "providers.x.kind"),
        ("x", {"kind": "command"}, "providers.x.argv"),
        ("x", {"kind": "command", "argv": ["llm"], "input": "file"}, "providers.x.input"),
        (
            "x",
            {"kind": "command", "argv": ["llm"], "resume_args": ["-c"]},
            "providers.x.resume_args",
        ),
        ("codex", {"start_timeout_s": -1}, "providers.codex.start_timeout_s"),
        ("codex", {"env": {"A": 1}}, "providers.codex.env.A"),
    ],
)
def test_bad_tables_name_the_key(name: str, table: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        get_provider(config(**{name: table}), name)
    assert f"'{key}'" in caught.value.message
    assert "/etc/t3/config.toml" in caught.value.message


def test_jsonl_without_text_path_says_what_is_missing() -> None:
    with pytest.raises(ConfigError, match="text_path is required"):
        get_provider(config(x={"kind": "command", "argv": ["llm"], "output": "jsonl"}), "x")


def test_env_values_are_never_echoed_in_errors() -> None:
    secret = 918273645546372819
    with pytest.raises(ConfigError) as caught:
        get_provider(config(codex={"env": {"TOKEN": secret}}), "codex")
    assert str(secret) not in caught.value.message
    assert str(secret) not in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("name", "table", "expected"),
    [
        ("echo", {}, (None, None)),
        ("codex", {}, (60.0, 3600.0)),
        ("claude", {"start_timeout_s": 5, "turn_timeout_s": 0}, (5.0, None)),
        ("x", {"kind": "command", "argv": ["llm"], "timeout_s": 600}, (60.0, 600.0)),
        ("echo", {"turn_timeout_s": 2.5}, (None, 2.5)),
    ],
)
def test_timeouts_resolve_to_defaults_overrides_and_zero_off(
    name: str, table: dict[str, Any], expected: tuple[float | None, float | None]
) -> None:
    provider = get_provider(config(**{name: table}), name)
    assert (provider.start_timeout_s, provider.turn_timeout_s) == expected


def test_timeout_s_and_turn_timeout_s_together_are_rejected() -> None:
    with pytest.raises(ConfigError, match="not both"):
        get_provider(config(codex={"timeout_s": 1, "turn_timeout_s": 2}), "codex")


def test_registry_import_stays_off_pydantic_and_asyncio() -> None:
    code = (
        "import sys\n"
        "from t3cli.config import Config\n"
        "from t3cli.providers.registry import provider_names\n"
        "import t3cli.providers.base\n"
        "provider_names(Config(providers={'smol': {'kind': 'command'}}))\n"
        "banned = ('pydantic', 'asyncio', 't3cli.providers.codex')\n"
        "heavy = [m for m in banned if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_check_all_reports_config_errors_instead_of_raising() -> None:
    checks = check_all(config(codex={"binary": 5}, smol={"kind": "command", "argv": ["/nope"]}))
    by_name = {c.name: c for c in checks}
    assert list(by_name) == ["echo", "codex", "claude", "smol"]
    assert by_name["echo"].found
    assert not by_name["codex"].found
    assert "providers.codex.binary" in (by_name["codex"].problem or "")
    assert not by_name["smol"].found


def test_check_does_not_hang_on_a_version_that_never_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from t3cli.providers import _check

    monkeypatch.setattr(_check, "VERSION_TIMEOUT_S", 0.3)
    script = tmp_path / "stuck"
    script.write_text("#!/bin/sh\nsleep 30 &\nexec sleep 30\n")
    script.chmod(0o755)
    table = {"kind": "command", "argv": [str(script)], "version_args": ["--version"]}
    check = get_provider(config(stuck=table), "stuck").check()
    assert check.found
    assert check.version is None
    assert f"'{script} --version' did not answer within 0.3 s" == check.problem


def test_builtin_table_is_what_the_docs_say() -> None:
    assert registry.BUILTIN_PROVIDERS == {"echo": "echo", "codex": "codex", "claude": "claude"}

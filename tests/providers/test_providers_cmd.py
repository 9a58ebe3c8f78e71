"""`t3 providers [--json]` on a tiny Typer app, with a real config file in a temporary T3_HOME."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from t3cli.cli.providers_cmd import register

from .conftest import FAKES


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        f"""
[providers.codex]
binary = "{FAKES / "codex"}"

[providers.claude]
binary = "{tmp_path / "missing" / "claude"}"

[providers.smol]
kind = "command"
argv = ["{FAKES / "llm"}", "-m", "SmolLM2"]
version_args = ["--version"]

[providers.quiet]
kind = "command"
argv = ["{FAKES / "llm"}", "-m", "SmolLM2"]

[providers.broken]
kind = "command"
"""
    )
    monkeypatch.setenv("T3_HOME", str(home))
    for key in ("T3_CONFIG", "T3_DATABASE"):
        monkeypatch.delenv(key, raising=False)
    app = typer.Typer()
    register(app)

    @app.command("other")
    def other() -> None:  # a second command keeps Typer from collapsing to a single command
        pass

    return app


def test_json_lists_every_provider_with_what_to_fix(app: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["providers", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert list(rows) == ["echo", "codex", "claude", "smol", "quiet", "broken"]
    assert set(rows["codex"]) == {"name", "kind", "executable", "found", "version", "problem"}
    assert rows["echo"]["found"] is True
    assert rows["codex"] == {
        "name": "codex",
        "kind": "codex",
        "executable": str(FAKES / "codex"),
        "found": True,
        "version": "codex-cli 0.0.0-fake",
        "problem": None,
    }
    assert rows["claude"]["found"] is False
    assert "providers.claude.binary" in rows["claude"]["problem"]
    assert rows["smol"]["version"] == "llm, version 0.0-fake"
    # Without version_args a command provider's executable is found but never run.
    assert rows["quiet"]["found"] is True and rows["quiet"]["version"] is None
    assert rows["broken"]["found"] is False
    assert "providers.broken.argv" in rows["broken"]["problem"]


def test_table_is_a_report_that_exits_zero(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["providers"], env={"NO_COLOR": "1", "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for name in ("echo", "codex", "claude", "smol", "broken"):
        assert name in result.stdout
    assert "codex-cli 0.0.0-fake" in result.stdout
    assert "\x1b[" not in result.stdout

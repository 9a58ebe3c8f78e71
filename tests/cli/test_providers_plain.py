"""`t3 providers | cat` prints plain tab-separated lines, not a box table (issue #13)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.conftest import FAKES


def test_providers_off_a_terminal_are_plain_lines(
    t3: Callable[..., subprocess.CompletedProcess[str]], t3_home: Path
) -> None:
    t3_home.mkdir(parents=True, exist_ok=True)
    (t3_home / "config.toml").write_text(
        f'[providers.codex]\nbinary = "{FAKES / "codex"}"\n'
        f'[providers.claude]\nbinary = "{t3_home / "missing" / "claude"}"\n'
    )
    done = t3("providers")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    rows = {line.split("\t")[0]: line.split("\t") for line in lines}
    assert list(rows) == ["echo", "codex", "claude"]
    assert all(len(fields) == 5 for fields in rows.values()), lines
    assert rows["codex"] == ["codex", "codex", "yes", "codex-cli 0.0.0-fake", str(FAKES / "codex")]
    assert rows["claude"][2] == "no"
    assert "providers.claude.binary" in rows["claude"][4]
    for box in "│┃─━┏┡╇":
        assert box not in done.stdout
    assert "\x1b" not in done.stdout

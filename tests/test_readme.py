"""The README's two commands are the contract with a newcomer: keep them working.

The main command is run here minus its install prefix (the test suite already runs from the
installed package), with the `t3` of this environment and a fresh `T3_HOME`. The test command is
what `.ci/run` executes, so CI checks it by running it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()


def block_after(marker: str) -> str:
    match = re.search(rf"<!-- {marker} -->\s*```sh\n(.*?)\n```", README, re.S)
    assert match, f"README.md has no ```sh block after <!-- {marker} -->"
    return match.group(1).strip()


def test_ci_runs_the_readme_test_command() -> None:
    command = block_after("test-command")
    assert "pytest" in command and "pip install" in command
    ci = (REPO / ".ci" / "run").read_text()
    assert "test-command" in ci and 'bash -c "$test_command"' in ci


def test_main_command_runs_end_to_end(tmp_path: Path) -> None:
    command = block_after("main-command")
    steps = command.split(" && ")
    assert steps[0].startswith("python3 -m venv") and "pip install" in steps[1]
    assert steps[2].startswith("export T3_HOME=")
    t3_steps = steps[3:]
    assert any(step.startswith("t3 run") for step in t3_steps)
    env = dict(os.environ)
    env["T3_HOME"] = str(tmp_path / "home")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env.pop("T3_CONFIG", None)
    result = subprocess.run(
        ["bash", "-c", " && ".join(t3_steps)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    # `t3 show demo` prints the transcript: every queued instruction, each echoed back.
    for text in ("first instruction", "second instruction", "third instruction"):
        assert result.stdout.count(text) >= 2, result.stdout

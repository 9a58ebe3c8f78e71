"""The README's picture of the live view is made by a script from a real run: the script still
works, and the picture it made is the one the README shows."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

SCRIPT = REPO / "docs" / "live_view_picture.py"


def test_the_script_pictures_a_real_run(tmp_path: Path) -> None:
    out = tmp_path / "live-view.svg"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    svg = out.read_text()
    assert svg.startswith("<svg")
    text = re.sub(r"<[^>]+>", "", svg).replace("&#160;", " ")
    for seen in ("t3 run", "fix the failing tests", "deploy to staging", "running", "blocked"):
        assert seen in text, seen
    assert "q quit" in text


def test_the_readme_shows_the_checked_in_picture() -> None:
    assert "](docs/live-view.svg)" in (REPO / "README.md").read_text()
    assert (REPO / "docs" / "live-view.svg").read_text().startswith("<svg")

"""Where the numbers were measured: CPU count and model, Python, SQLite, date, load."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def code_version() -> dict[str, Any]:
    """The commit measured, and whether `t3cli/` had uncommitted changes (a shared checkout)."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    return {
        "commit": git("rev-parse", "--short", "HEAD") or "unknown",
        "t3cli_uncommitted": bool(git("status", "--porcelain", "--", "t3cli")),
    }


def machine() -> dict[str, Any]:
    """nproc, CPU model, Python and SQLite versions, the date (UTC), the load average at the
    start (other work on the machine makes every number noisier) and the code measured."""
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_average_at_start": load_average(),
        **code_version(),
    }

"""Make docs/live-view.svg, the picture of `t3 run` in the README, from a real run.

    python docs/live_view_picture.py [--out docs/live-view.svg] [--width 100] [--height 30]

What it does, all in a throwaway `T3_HOME`: creates six threads with the real `t3` CLI (fixed
`--command-id`s, so the thread ids — derived from them — are the same on every run), queues
a follow-up, then runs the real reactor (`t3cli.reactor.Reactor`, every thread at once) with
the real live view (`t3cli.reactor.live.LiveView`) drawing into a recording rich console. Once
the run looks like a working day — replies streaming, a short one finished, a deploy failed and
blocking its thread — it draws one frame at the given size and saves it as SVG with rich.

The agent is this very script run as a `command` provider (`--agent`): it reads the message on
stdin and streams a canned answer word by word; a message about deploying fails the way a real
agent does (some text, an error on stderr, a non-zero exit). The clock in the picture is real,
so elapsed times differ a little between runs.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORD_DELAY_S = 0.09
ANSWERS = {
    "tests": (
        "Three tests in tests/cli/test_refs.py failed: the id prefix was compared case-sensitively,"
        " so 7F3A did not match 7f3a. I lower-case the reference before matching and added a"
        " regression test for upper-case prefixes. The whole suite passes again: 212 passed."
    ),
    "build": (
        "The build is plain setuptools: pyproject.toml declares the t3cli package and the `t3`"
        " console script, and `pip install -e .[test]` adds pytest, ruff and mypy. CI runs the"
        " README's test command verbatim: lint, then type checks, then the tests."
    ),
    "readme": (
        "I added a section on queueing follow-ups with an example, moved the exit codes into one"
        " table, and documented the crontab line for draining queues every ten minutes."
    ),
    "review": "The PR looks good: two nits on naming, approved.",
    "profile": (
        "Most of the start-up goes to importing typer and click; the engine import is lazy"
        " already. Caching the command tree would save about 7 ms per run."
    ),
}
THREADS = [  # (command id, title, messages)
    ("picture-tests", "fix the failing tests", ["fix the failing tests", "add a regression test"]),
    ("picture-build", "explain the build system", ["explain the build system"]),
    ("picture-readme", "update the README", ["update the readme for the queue"]),
    ("picture-deploy", "deploy to staging", ["deploy the branch to staging"]),
    ("picture-review", "review the open PR", ["review the open PR"]),
    ("picture-profile", "profile t3 queue start-up", ["profile t3 queue start-up"]),
]
CONFIG = f"""
default_provider = "agent"

[reactor]
poll_interval_ms = 20

[providers.agent]
kind = "command"
argv = [{str(sys.executable)!r}, {str(Path(__file__).resolve())!r}, "--agent"]
"""


def agent() -> int:
    """The scripted agent: the message on stdin, the answer on stdout, word by word."""
    message = sys.stdin.read().lower()
    if "deploy" in message:
        sys.stdout.write("Building the image... pushing to the registry... ")
        sys.stdout.flush()
        time.sleep(0.3)
        sys.stderr.write("error: permission denied for registry.staging (are you on the VPN?)\n")
        return 2
    answer = next((text for key, text in ANSWERS.items() if key in message), "Done.")
    if "regression" in message:
        answer = "Added test_prefix_is_case_insensitive; it fails before the fix and passes after."
    for index, word in enumerate(answer.split(" ")):
        sys.stdout.write(("" if index == 0 else " ") + word)
        sys.stdout.flush()
        time.sleep(WORD_DELAY_S if "review" not in message else 0.01)
    sys.stdout.write("\n")
    return 0


def t3(home: Path, *args: str) -> None:
    env = {**os.environ, "T3_HOME": str(home)}
    env.pop("NO_COLOR", None)
    subprocess.run([sys.executable, "-m", "t3cli", *args], env=env, check=True,
                   capture_output=True, cwd=REPO)  # fmt: skip


async def picture(home: Path, out: Path, width: int, height: int) -> None:
    from rich.console import Console

    from t3cli.config import load_config
    from t3cli.reactor import Reactor, ReactorOptions
    from t3cli.reactor.live import LiveView

    console = Console(
        file=io.StringIO(), width=width, height=height, record=True, force_terminal=True,
        color_system="truecolor",
    )  # fmt: skip
    view = LiveView(console, keys=True)
    config = load_config(home / "config.toml")
    reactor = Reactor(home / "t3.db", config, ReactorOptions(max_concurrent=len(THREADS)), view)

    def ready() -> bool:
        counts = view.state.counts()
        focused = view.state.row(view.state.focus) if view.state.focus else None
        return (
            counts["running"] >= 2 and counts["blocked"] == 1 and counts["idle"] >= 1
            and focused is not None and focused.status == "running" and len(focused.reply) > 120
        )  # fmt: skip

    await reactor.start()
    try:
        deadline = time.monotonic() + 120
        while not ready():
            if time.monotonic() > deadline:
                raise SystemExit("error: the run never reached the moment to picture")
            await asyncio.sleep(0.02)
        console.print(view.render(width, height))
        console.save_svg(str(out), title="t3 run")
    finally:
        await reactor.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agent", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "live-view.svg")
    parser.add_argument("--width", type=int, default=100)
    parser.add_argument("--height", type=int, default=26)
    args = parser.parse_args()
    if args.agent:
        return agent()
    sys.path.insert(0, str(REPO))
    with tempfile.TemporaryDirectory(prefix="t3-picture-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        (home / "config.toml").write_text(CONFIG)
        project = Path(tmp) / "app"
        project.mkdir()
        for command_id, title, messages in THREADS:
            t3(home, "new", "--project", str(project), "--title", title,
               "--command-id", command_id, messages[0])  # fmt: skip
            for n, message in enumerate(messages[1:], start=1):
                t3(home, "queue", title, message, "--command-id", f"{command_id}-{n}")
        asyncio.run(picture(home, args.out, args.width, args.height))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

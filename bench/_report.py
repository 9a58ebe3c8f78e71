"""Goals, the results table, and this benchmark's section of `bench/README.md`.

Every metric of `bench/run.py` is listed in `METRICS` with its goal (if it has one). `table`
renders metric | value | goal | met? as Markdown. `write_readme` replaces only the generated
block of one mode (full or quick) inside the section `## bench/run.py — all metrics`, between
HTML comment markers; the rest of the section (the analysis, written by hand) and every other
section of the file are left as they are. A missing section is appended at the end.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parent / "README.md"
SECTION = "## bench/run.py — all metrics"

Results = dict[str, float]


@dataclass(frozen=True, slots=True)
class Goal:
    text: str
    met: Callable[[Results], bool]


def _at_most(metric: str, limit: float) -> Goal:
    return Goal(f"≤ {limit:g}", lambda r: r[metric] <= limit)


def _at_least(metric: str, limit: float) -> Goal:
    return Goal(f"≥ {limit:,g}", lambda r: r[metric] >= limit)


# (metric, unit, goal); the order is the table's.
METRICS: tuple[tuple[str, str, Goal | None], ...] = (
    ("cli_queue_ms", "ms", None),
    ("python_pass_ms", "ms", None),
    ("complete_ms", "ms", None),
    ("cli_queue_vs_python", "x", _at_most("cli_queue_vs_python", 10)),
    ("complete_vs_python", "x", _at_most("complete_vs_python", 8)),
    ("bootstrap_ms_small", "ms", None),
    ("bootstrap_ms_large", "ms", None),
    ("bootstrap_growth", "x", _at_most("bootstrap_growth", 1.5)),
    ("bootstrap_vs_full_replay", "x", _at_most("bootstrap_vs_full_replay", 0.05)),
    ("replay_events_per_s", "/s", _at_least("replay_events_per_s", 100_000)),
    ("append_single_per_s", "/s", None),
    ("append_vs_raw_commit", "x", _at_most("append_vs_raw_commit", 2)),
    ("hol_p99_ms", "ms", _at_most("hol_p99_ms", 100)),
    ("drain_turns_per_s", "/s", _at_least("drain_turns_per_s", 200)),
    ("reactor_rss_growth", "x", _at_most("reactor_rss_growth", 1.2)),
    (
        "threads_list_ms",
        "ms",
        Goal("≤ 2x cli_queue_ms", lambda r: r["threads_list_ms"] <= 2 * r["cli_queue_ms"]),
    ),
    ("threads_list_vs_queue", "x", _at_most("threads_list_vs_queue", 2)),
    (
        "stream_events_per_10k_deltas",
        "events",
        Goal("bounded (see notes)", lambda r: r.get("stream_within_bound", 0.0) == 1.0),
    ),
    ("stream_cpu_ms", "ms", None),
    ("append_ms_sync_summary", "ms", None),
    ("append_ms_async_summary", "ms", None),
    ("append_sync_vs_async_summary", "x", None),
    ("reply_s_per_mb", "s/MB", None),
    ("reply_time_linearity", "x", _at_most("reply_time_linearity", 1.2)),
    ("reply_db_growth", "x", _at_most("reply_db_growth", 1.3)),
    ("reply_rss_mb", "MB", None),
    ("reply_rss_growth", "x", _at_most("reply_rss_growth", 1.5)),
    ("takeover_after_kill_s", "s", None),
    ("takeover_after_expiry_ms", "ms", _at_most("takeover_after_expiry_ms", 250)),
)
METRIC_NAMES = tuple(name for name, _, _ in METRICS)


def fmt(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if value < 1 else f"{value:.2f}"


def verdict(name: str, goal: Goal | None, results: Results) -> str:
    if goal is None:
        return "—"
    try:
        return "yes" if goal.met(results) else "**no**"
    except KeyError:
        return "?"


def table(results: Results, notes: dict[str, str]) -> str:
    lines = ["| metric | value | goal | met? | notes |", "|---|---:|---|---|---|"]
    for name, unit, goal in METRICS:
        if name not in results:
            continue
        value = f"{fmt(results[name])} {unit}"
        lines.append(
            f"| `{name}` | {value} | {goal.text if goal else '—'} | "
            f"{verdict(name, goal, results)} | {notes.get(name, '')} |"
        )
    return "\n".join(lines)


def missed(results: Results) -> list[str]:
    return [
        name
        for name, _, goal in METRICS
        if goal is not None and name in results and verdict(name, goal, results) == "**no**"
    ]


def block(mode: str, command: str, results: Results, notes: dict[str, str], meta: Any) -> str:
    machine = meta["machine"]
    load = ", ".join(str(x) for x in machine.get("load_average_at_start", []))
    head = (
        f"Run {machine['date']} on {machine['nproc']} x {machine['cpu']}, Python "
        f"{machine['python']}, SQLite {machine['sqlite']} (load average at start: {load}), "
        f"commit {machine['commit']}"
        f"{' with uncommitted changes in t3cli/' if machine['t3cli_uncommitted'] else ''}, "
        f"{machine.get('seconds', '?')} s.\n\n"
        f"    {command}\n"
    )
    return f"{head}\n{table(results, notes)}\n"


def _markers(mode: str) -> tuple[str, str]:
    return f"<!-- bench/run.py {mode}: begin -->", f"<!-- bench/run.py {mode}: end -->"


def write_readme(mode: str, content: str, path: Path = README) -> None:
    """Put `content` between the `mode` markers inside our section (creating what is missing);
    nothing outside that block changes."""
    begin, end = _markers(mode)
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    generated = f"{begin}\n{content}{end}"
    if begin in text and end in text:
        pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
        text = pattern.sub(lambda _: generated, text, count=1)
    elif SECTION in text:
        start = text.index(SECTION) + len(SECTION)
        following = text.find("\n## ", start)
        cut = len(text) if following == -1 else following
        text = text[:cut].rstrip("\n") + f"\n\n### Latest {mode} run\n\n{generated}\n" + text[cut:]
    else:
        text = text.rstrip("\n") + f"\n\n{SECTION}\n\n### Latest {mode} run\n\n{generated}\n"
    path.write_text(text)

"""Smoke test of `bench/run.py`: every benchmark group runs at toy sizes and reports exactly the
metric names, each a positive number — so the benchmark code cannot rot. Nothing here is a timing
assertion (benchmarks are not tests): only keys, signs and the README block's placement.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bench import _report, run  # noqa: E402
from bench._logcache import LogSpec, build_log  # noqa: E402
from bench._sizes import QUICK  # noqa: E402

TOY = dataclasses.replace(
    QUICK,
    cli_runs=1,
    bootstrap_threads=5,
    bootstrap_small_events=100,
    bootstrap_large_events=400,
    append_commits=5,
    summary_thread_messages=20,
    summary_appends=2,
    hol_threads=3,
    hol_turns=4,
    hol_rate_per_s=20.0,
    drain_threads=3,
    drain_turns_per_thread=1,
    rss_threads_small=2,
    rss_threads_large=4,
    rss_batch=2,
    list_threads=60,
    list_events=300,
    list_runs=1,
    stream_deltas=300,
    reply_sizes_mb=(0.25, 0.5),
    reply_repeats=1,
    takeover_ttl_s=1.0,
    takeover_trials=1,
)


@pytest.fixture
def bench_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    out = tmp_path / "bench-out"
    monkeypatch.setenv("T3_BENCH_OUT", str(out))
    return out


def test_every_group_reports_exactly_the_metrics(bench_out: Path) -> None:
    state = run.Run(TOY)
    for group in run.GROUPS.values():
        group(state)
    assert set(state.results) == set(_report.METRIC_NAMES)
    assert all(value > 0 for value in state.results.values()), state.results
    assert state.logs and all(log["events"] for log in state.logs.values())
    table = _report.table({**state.results, **state.checks}, state.notes)
    assert all(f"`{name}`" in table for name in _report.METRIC_NAMES)


def test_built_log_is_cached_with_its_projections(bench_out: Path) -> None:
    spec = LogSpec(threads=4, events=150)
    first = build_log(spec)
    again = build_log(spec)
    assert first.build_s > 0 and again.build_s == 0.0
    assert again.head == first.head >= 150
    assert len(first.thread_ids) == 4
    conn = sqlite3.connect(first.db)
    try:
        summaries = conn.execute("SELECT count(*) FROM thread_summaries").fetchone()[0]
    finally:
        conn.close()
    assert summaries == 4


def test_readme_block_replaces_only_its_own_lines(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Benchmarks\n\n## core\n\nkeep me\n")
    _report.write_readme("quick", "first\n", readme)
    _report.write_readme("full", "one\n", readme)
    _report.write_readme("quick", "second\n", readme)
    text = readme.read_text()
    assert "keep me" in text and "second" in text and "one" in text
    assert "first" not in text and text.count(_report.SECTION) == 1

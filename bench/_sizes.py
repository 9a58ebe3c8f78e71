"""The sizes each benchmark uses, for a full run and for `--quick`.

Full sizes are those the goals are stated at (issue 7): 1,000 threads over 10,000 vs 1,000,000
events for bootstrap, 10,000 threads and 1,000,000 events for `t3 threads`, 10,000 threads for the
RSS growth. `--quick` shrinks what must shrink to finish in under a minute on 2 cores; every
reduced size is reported in the JSON's `sizes`, so a quick number is never mistaken for a full one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Sizes:
    quick: bool
    cli_runs: int  # samples per command for the start-up medians
    bootstrap_threads: int
    bootstrap_small_events: int
    bootstrap_large_events: int
    append_commits: int  # dispatches (and raw commits) timed
    summary_thread_messages: int  # messages in the thread of the issue-6 benchmark
    summary_appends: int  # appends timed per variant
    hol_threads: int
    hol_turns: int  # turns queued on the healthy threads
    hol_rate_per_s: float  # aggregate rate at which they are queued
    drain_threads: int
    drain_turns_per_thread: int
    rss_threads_small: int
    rss_threads_large: int
    rss_batch: int  # threads queued (and drained) at a time
    list_threads: int
    list_events: int
    list_runs: int
    stream_deltas: int
    reply_sizes_mb: tuple[float, ...]  # long replies printed by a command agent
    reply_repeats: int  # runs per size (the median is reported)
    takeover_ttl_s: float
    takeover_trials: int

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


FULL = Sizes(
    quick=False,
    cli_runs=20,
    bootstrap_threads=1000,
    bootstrap_small_events=10_000,
    bootstrap_large_events=1_000_000,
    append_commits=1000,
    summary_thread_messages=10_000,
    summary_appends=200,
    hol_threads=100,
    hol_turns=1500,
    hol_rate_per_s=50.0,
    drain_threads=100,
    drain_turns_per_thread=10,
    rss_threads_small=100,
    rss_threads_large=10_000,
    rss_batch=100,
    list_threads=10_000,
    list_events=1_000_000,
    list_runs=10,
    stream_deltas=10_000,
    reply_sizes_mb=(1, 5, 10, 20, 50),
    reply_repeats=3,
    takeover_ttl_s=2.0,
    takeover_trials=5,
)

QUICK = Sizes(
    quick=True,
    cli_runs=5,
    bootstrap_threads=1000,
    bootstrap_small_events=10_000,
    bootstrap_large_events=200_000,
    append_commits=200,
    summary_thread_messages=10_000,
    summary_appends=50,
    hol_threads=100,
    hol_turns=250,
    hol_rate_per_s=50.0,
    drain_threads=100,
    drain_turns_per_thread=3,
    rss_threads_small=100,
    rss_threads_large=2000,
    rss_batch=100,
    list_threads=10_000,
    list_events=100_000,
    list_runs=5,
    stream_deltas=10_000,
    reply_sizes_mb=(1, 5, 10),
    reply_repeats=1,
    takeover_ttl_s=2.0,
    takeover_trials=2,
)

"""Every performance goal of t3cli, measured side by side in one run on one machine.

    python bench/run.py [--quick] [--json] [--write-readme] [--only GROUP,...]

Runs the benchmark groups below in this order and prints a table (metric, value, goal, met?), or
with `--json` one JSON object whose keys are exactly the metric names plus `sizes` (the sizes
used, including every size `--quick` reduced) and `machine`. Progress goes to stderr.
`--write-readme` also writes the table into this benchmark's section of `bench/README.md`.
`--only` runs some groups (for development; the output then lacks the other metrics).

Groups, in order (metric names; module that measures them):

- cli: cli_queue_ms, python_pass_ms, complete_ms, cli_queue_vs_python, complete_vs_python
  (`cli_startup.py`, run as a subprocess);
- bootstrap: bootstrap_ms_small, bootstrap_ms_large, bootstrap_growth, bootstrap_vs_full_replay,
  replay_events_per_s (`_core`: `core_bench.measure_bootstrap`, a timed `replay.rebuild`, on a
  log cached by `_logcache`);
- append: append_single_per_s, append_vs_raw_commit (`_core`: `core_bench.measure_append_single`);
- summary: append_ms_sync_summary, append_ms_async_summary, append_sync_vs_async_summary
  (`_summary_metrics`, issue 6, on a `_logcache` log);
- drain: drain_turns_per_s (`_reactor_metrics.drain`, in process);
- stream: stream_events_per_10k_deltas, stream_cpu_ms (`_reactor_metrics.stream`, in process);
- hol: hol_p99_ms (`_hol`: a `t3 run` subprocess, measured from event timestamps);
- rss: reactor_rss_growth (`_rss`: the reactor in the `_rss_driver.py` subprocess);
- list: threads_list_ms, threads_list_vs_queue (`_cli_metrics`, on a `_logcache` log);
- reply: reply_s_per_mb, reply_time_linearity, reply_db_growth, reply_rss_mb, reply_rss_growth
  (`_long_reply`: real `t3 send` processes, a command agent printing 1 to 50 MB);
- takeover: takeover_after_kill_s, takeover_after_expiry_ms (`_takeover`: two real `t3 run` as
  two hosts, one SIGKILLed).

Large logs are built once and cached under `bench/out/` (git-ignored), keyed by their sizes.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import (
    _cli_metrics,
    _core,
    _hol,
    _long_reply,
    _reactor_metrics,
    _report,
    _rss,
    _summary_metrics,
    _takeover,
)
from bench._logcache import BuiltLog, LogSpec, build_log, cached
from bench._machine import machine
from bench._sizes import FULL, QUICK, Sizes

Results = dict[str, float]
Notes = dict[str, str]


class Run:
    """The state of one benchmark run: sizes, results, notes for the table, logs used."""

    def __init__(self, sizes: Sizes) -> None:
        self.sizes = sizes
        self.results: Results = {}
        self.checks: Results = {}  # extra values some goals need (not metrics)
        self.notes: Notes = {}
        self.logs: dict[str, dict[str, object]] = {}

    def log(self, name: str, spec: LogSpec) -> BuiltLog:
        progress(f"log {spec.key}: " + ("cached" if cached(spec) else "building"))
        built = build_log(spec)
        self.logs[name] = built.describe()
        return built


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_cli(run: Run) -> None:
    data = _cli_metrics.startup(run.sizes.cli_runs)
    run.results.update(data)
    run.notes["cli_queue_vs_python"] = f"median of {run.sizes.cli_runs} runs each"


def run_bootstrap(run: Run) -> None:
    s = run.sizes
    large = run.log("bootstrap_large", LogSpec(s.bootstrap_threads, s.bootstrap_large_events))
    events, seconds = _core.replay_s(large)
    boot = _core.bootstrap(large, s.bootstrap_small_events, seconds * 1000)
    r = run.results
    for key in ("bootstrap_ms_small", "bootstrap_ms_large", "bootstrap_growth"):
        r[key] = float(boot[key])
    r["bootstrap_vs_full_replay"] = float(boot["bootstrap_vs_full_replay"])
    r["replay_events_per_s"] = events / seconds
    run.notes["bootstrap_growth"] = (
        f"{boot['bootstrap_threads']:,} threads; {boot['bootstrap_events_small']:,} vs "
        f"{boot['bootstrap_events_large']:,} events"
    )
    run.notes["bootstrap_vs_full_replay"] = f"full replay of {events:,} events: {seconds:.1f} s"
    run.notes["replay_events_per_s"] = "`replay.rebuild`, every projection, one transaction"


def run_append(run: Run) -> None:
    data = _core.append(run.sizes.append_commits)
    run.results["append_single_per_s"] = float(data["append_single_per_s"])
    run.results["append_vs_raw_commit"] = float(data["append_vs_raw_commit"])
    run.notes["append_vs_raw_commit"] = (
        f"{data['append_commands']:,} dispatches vs raw commits at "
        f"{data['raw_commit_per_s']:,.0f}/s (synchronous=FULL)"
    )


def run_summary(run: Run) -> None:
    s = run.sizes
    run.log("summary_thread", _summary_metrics.thread_spec(s.summary_thread_messages))
    result = _summary_metrics.measure(s.summary_thread_messages, s.summary_appends)
    run.results["append_ms_sync_summary"] = result.sync_ms
    run.results["append_ms_async_summary"] = result.async_ms
    run.results["append_sync_vs_async_summary"] = result.ratio
    run.notes["append_sync_vs_async_summary"] = (
        f"thread with {result.messages:,} messages; synchronous=NORMAL (no fsync jitter)"
    )


def run_drain(run: Run) -> None:
    s = run.sizes
    result = _reactor_metrics.drain(s.drain_threads, s.drain_turns_per_thread)
    run.results["drain_turns_per_s"] = result.per_s
    run.notes["drain_turns_per_s"] = (
        f"{result.turns:,} turns on {s.drain_threads} threads in {result.seconds:.1f} s,"
        " max_concurrent 8"
    )


def run_stream(run: Run) -> None:
    result = _reactor_metrics.stream(run.sizes.stream_deltas)
    scale = 10_000 / result.deltas
    run.results["stream_events_per_10k_deltas"] = result.events * scale
    run.results["stream_cpu_ms"] = result.cpu_ms
    text_bytes = result.deltas  # one ASCII character per delta
    bound = math.ceil(text_bytes / 4096) + math.floor(result.wall_ms / 250) + 1
    run.checks["stream_within_bound"] = float(result.message_events <= bound)
    run.notes["stream_events_per_10k_deltas"] = (
        f"{result.message_events} text chunks (bound ⌈B/4096⌉+⌊T/250ms⌋+1 = {bound}) + "
        f"{result.events - result.message_events} turn bookkeeping events"
    )
    run.notes["stream_cpu_ms"] = f"process CPU, wall {result.wall_ms:.0f} ms"


def run_hol(run: Run) -> None:
    s = run.sizes
    result = _hol.measure(s.hol_threads, s.hol_turns, s.hol_rate_per_s)
    run.results["hol_p99_ms"] = result.p99_ms
    run.notes["hol_p99_ms"] = (
        f"event timestamps; {result.samples} turns at {s.hol_rate_per_s:g}/s on "
        f"{s.hol_threads - 1} threads, 1 hung; p50 {result.p50_ms:.0f}, max {result.max_ms:.0f} ms"
    )


def run_rss(run: Run) -> None:
    s = run.sizes
    result = _rss.measure(s.rss_threads_small, s.rss_threads_large, s.rss_batch)
    run.results["reactor_rss_growth"] = result.growth
    run.notes["reactor_rss_growth"] = (
        f"{result.rss_large_kb / 1024:.1f} MB after {result.large_threads:,} threads vs "
        f"{result.rss_small_kb / 1024:.1f} MB after {result.small_threads}"
    )


def run_list(run: Run) -> None:
    s = run.sizes
    built = run.log("threads_list", LogSpec(s.list_threads, s.list_events))
    ms = _cli_metrics.threads_list_ms(built.home, s.list_runs)
    run.results["threads_list_ms"] = ms
    if "cli_queue_ms" in run.results:
        run.results["threads_list_vs_queue"] = ms / run.results["cli_queue_ms"]
    run.notes["threads_list_ms"] = f"{s.list_threads:,} threads, {built.head:,} events"


def run_reply(run: Run) -> None:
    result = _long_reply.measure(list(run.sizes.reply_sizes_mb), run.sizes.reply_repeats)
    runs = result.runs
    largest, smallest = runs[-1], runs[0]
    # Seconds per MB of the whole run: fixed costs make it fall with size when the cost per MB
    # is flat; a cost that grows with the reply makes it rise (it was 10x from 5 to 50 MB).
    reference = next((r for r in runs[:-1] if r.mb >= 5), smallest)
    r = run.results
    r["reply_s_per_mb"] = largest.seconds / largest.mb
    r["reply_time_linearity"] = r["reply_s_per_mb"] / (reference.seconds / reference.mb)
    r["reply_db_growth"] = max(x.db_growth for x in runs)
    r["reply_rss_mb"] = largest.rss_kb / 1024
    r["reply_rss_growth"] = largest.rss_kb / smallest.rss_kb
    sizes = ", ".join(f"{x.mb:g} MB {x.seconds:.2f} s" for x in runs)
    run.notes["reply_s_per_mb"] = (
        f"`t3 send` wall time: {sizes} (empty reply {result.baseline_s:.2f} s)"
    )
    run.notes["reply_time_linearity"] = (
        f"s/MB at {largest.mb:g} MB over s/MB at {reference.mb:g} MB"
    )
    run.notes["reply_db_growth"] = ", ".join(f"{x.mb:g} MB {x.db_growth:.2f}x" for x in runs)
    run.notes["reply_rss_growth"] = (
        f"peak RSS of `t3 send` at {largest.mb:g} MB over {smallest.mb:g} MB "
        f"({largest.rss_kb / 1024:.0f} vs {smallest.rss_kb / 1024:.0f} MB)"
    )


def run_takeover(run: Run) -> None:
    s = run.sizes
    result = _takeover.measure(s.takeover_ttl_s, s.takeover_trials)
    run.results["takeover_after_kill_s"] = sum(result.after_kill_s) / len(result.after_kill_s)
    run.results["takeover_after_expiry_ms"] = max(result.after_expiry_ms)
    run.notes["takeover_after_kill_s"] = (
        f"lease_ttl_s {result.ttl_s:g}, mean of {len(result.after_kill_s)} kills: "
        + ", ".join(f"{x:.2f}" for x in result.after_kill_s)
    )
    run.notes["takeover_after_expiry_ms"] = "worst trial: " + ", ".join(
        f"{x:.0f}" for x in result.after_expiry_ms
    )


GROUPS: dict[str, Callable[[Run], None]] = {
    "cli": run_cli,
    "bootstrap": run_bootstrap,
    "append": run_append,
    "summary": run_summary,
    "drain": run_drain,
    "stream": run_stream,
    "hol": run_hol,
    "rss": run_rss,
    "list": run_list,
    "reply": run_reply,
    "takeover": run_takeover,
}


def command_line(args: argparse.Namespace) -> str:
    parts = ["python bench/run.py"]
    if args.quick:
        parts.append("--quick")
    if args.only:
        parts.append(f"--only {args.only}")
    return " ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, under a minute")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--write-readme", action="store_true", help="update bench/README.md")
    parser.add_argument("--only", default="", help=f"comma-separated groups: {', '.join(GROUPS)}")
    args = parser.parse_args()
    groups = [g for g in args.only.split(",") if g] or list(GROUPS)
    unknown = set(groups) - set(GROUPS)
    if unknown:
        parser.error(f"unknown group(s) {', '.join(sorted(unknown))}; known: {', '.join(GROUPS)}")
    run = Run(QUICK if args.quick else FULL)
    meta: dict[str, Any] = {"machine": machine()}
    began = time.perf_counter()
    for name in groups:
        progress(f"{name} ...")
        started = time.perf_counter()
        GROUPS[name](run)
        progress(f"{name} done in {time.perf_counter() - started:.1f} s")
    meta["machine"]["seconds"] = round(time.perf_counter() - began, 1)
    results = {k: round(v, 4) for k, v in run.results.items()}
    sizes = {**run.sizes.as_json(), "logs": run.logs}
    if args.json:
        ordered = {k: results[k] for k in _report.METRIC_NAMES if k in results}
        print(json.dumps({**ordered, "sizes": sizes, "machine": meta["machine"]}))
    else:
        print(_report.table({**results, **run.checks}, run.notes))
        missed = _report.missed({**results, **run.checks})
        print(f"\ngoals missed: {', '.join(missed) if missed else 'none'}")
        print(f"({meta['machine']['seconds']} s; sizes: {json.dumps(sizes)})")
    if args.write_readme:
        mode = "quick" if args.quick else "full"
        content = _report.block(
            mode, command_line(args), {**results, **run.checks}, run.notes, meta
        )
        _report.write_readme(mode, content)
        progress(f"wrote the {mode} results to {_report.README}")


if __name__ == "__main__":
    main()

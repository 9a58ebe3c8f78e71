"""The reactor embedded in `t3 send`: drive one thread until one turn ends, streaming its reply.

`send_and_wait` is called by `t3 send` right after it recorded the turn start (`turn_id`) or,
the thread being busy, queued the message (`queue_item_id`). It:

1. claims the thread's lease and runs the same `Reactor` as `t3 run`, restricted to that thread —
   earlier queued items run first (FIFO); once the target turn has ended the reactor starts nothing
   more, so later queued items stay queued for `t3 run`;
2. if another reactor holds the lease, runs nothing and follows the log instead (`follow`); if
   that reactor goes away mid-turn, it takes over;
3. streams the target turn's text to stdout as it arrives (nothing with `json_mode`, which prints
   one JSON object at the end: thread_id, turn_id, queue_item_id, status, reply, error,
   input_tokens, output_tokens, cost_usd, duration_ms).

Exit codes: 0 completed, 5 failed or timed out, 130 interrupted (Ctrl-C interrupts the turn and
waits until its end is recorded), 3 when a queued message is stuck behind a failed item,
1 when it was cancelled.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, TextIO

from t3cli.cli.safe_text import printable
from t3cli.errors import ExitCode
from t3cli.reactor.follow import ORPHANED, Target, follow
from t3cli.reactor.loop import Reactor, ReactorOptions
from t3cli.reactor.observer import NullObserver, TurnResult
from t3cli.reactor.service import Signals
from t3cli.store import reactor_queries as rq

if TYPE_CHECKING:
    from t3cli.cli.env import Env
    from t3cli.contracts.events import EventRecord


class _Stream(NullObserver):
    """Prints the target turn's text as it streams; resolves `done` when the target ends."""

    def __init__(self, target: Target, out: TextIO, err: TextIO, quiet: bool) -> None:
        self._target = target
        self._out = out
        self._err = err
        self._quiet = quiet
        self.turn_id: str | None = target.turn_id
        self.done: asyncio.Future[TurnResult] = asyncio.get_running_loop().create_future()
        self.reactor: Reactor | None = None

    def emit(self, text: str) -> None:
        if self._quiet or not text:
            return
        # The reply is the agent's: never let it drive the terminal (`--json` keeps it exact).
        self._out.write(printable(text))
        self._out.flush()

    def on_notice(self, message: str) -> None:
        self._err.write(f"note: {message}\n")  # stdout carries the reply

    def on_event(self, record: EventRecord) -> None:
        # The target turn's warnings (an agent retrying a failed API call, ...) as they happen.
        p = record.payload
        if (
            record.type == "thread.activity-appended"
            and p.get("kind") == "warning"
            and p.get("turn_id") == self.turn_id
            and not self._quiet
        ):
            from t3cli.cli.safe_text import printable

            self._err.write(f"warning: {printable(str(p.get('summary')), single_line=True)}\n")
            self._err.flush()

    def on_turn_launched(self, thread_id: str, turn_id: str, queue_item_id: str | None) -> None:
        if self._target.matches(turn_id, queue_item_id):
            self.turn_id = turn_id

    def on_text(self, thread_id: str, turn_id: str, text: str) -> None:
        if turn_id == self.turn_id:
            self.emit(text)

    def on_turn_finished(self, result: TurnResult) -> None:
        if self._target.matches(result.turn_id, result.queue_item_id) and not self.done.done():
            if self.reactor is not None:
                self.reactor.closing = True  # start nothing after the target (later items wait)
            self.done.set_result(result)


def send_and_wait(
    env: Env,
    thread_id: str,
    *,
    turn_id: str | None,
    queue_item_id: str | None,
    json_mode: bool,
) -> int:
    """Run (or follow) `thread_id` until the target turn ends; return the exit code."""
    target = Target(thread_id, turn_id, queue_item_id)
    result, code = asyncio.run(_send_and_wait(env, target, json_mode))
    if json_mode:
        env.print_json(_as_json(target, result))
    else:
        _finish_text(env, result, thread_id)
    return code


async def _send_and_wait(env: Env, target: Target, json_mode: bool) -> tuple[TurnResult, int]:
    config = env.config
    settings = config.reactor
    signals = Signals()
    signals.install()
    stream = _Stream(target, env.stdout, env.stderr, json_mode)
    try:
        while True:
            reactor = Reactor(
                env.paths.database,
                config,
                ReactorOptions(
                    thread_ids=frozenset({target.thread_id}),
                    max_concurrent=1,
                    poll_interval_s=settings.poll_interval_ms / 1000,
                    lease_ttl_s=settings.lease_ttl_s,
                    adopt=False,
                ),
                stream,
            )
            stream.reactor = reactor
            outcome = await _drive(reactor, stream, target, signals)
            if outcome is not None:
                return outcome
            followed = await follow(
                env.paths.database, target, stream.emit, signals.first,
                poll_s=settings.poll_interval_ms / 1000, lease_check_s=settings.lease_ttl_s / 3,
            )  # fmt: skip
            if followed != ORPHANED:
                assert isinstance(followed, TurnResult)
                return followed, _code(followed, signals)
    finally:
        signals.uninstall()


async def _drive(
    reactor: Reactor, stream: _Stream, target: Target, signals: Signals
) -> tuple[TurnResult, int] | None:
    """Drive the thread if its lease can be had. None: follow the log instead."""
    await reactor.start()
    try:
        if not await reactor.claim(target.thread_id):
            return None
        quiet = asyncio.ensure_future(reactor.drain())
        stop = asyncio.ensure_future(signals.first.wait())
        try:
            waiting: list[asyncio.Future[Any]] = [stream.done, quiet, stop]
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:
            quiet.cancel()
            stop.cancel()
        if stream.done.done():
            result = stream.done.result()
            return result, _code(result, signals)
        if signals.first.is_set():
            await reactor.close(on_exit="interrupt", kill=signals.kill)
            if stream.done.done():
                return stream.done.result(), int(ExitCode.INTERRUPTED)
            return _left(
                target, "interrupted", "left in the queue; `t3 queue cancel` drops it"
            ), int(ExitCode.INTERRUPTED)
        # Nothing more will happen here and the target did not run: it ended before we claimed
        # the thread (the log has it), or it is a queued message stuck behind a failed item.
        stuck = await reactor.reader.call(lambda conn: _stuck(conn, target))
        if stuck is not None:
            return _left(target, "blocked", stuck), int(ExitCode.REJECTED)
        return None
    finally:
        await reactor.close(on_exit="interrupt", kill=signals.kill)


def _stuck(conn: Any, target: Target) -> str | None:
    if target.queue_item_id is None:
        return None
    snapshot = rq.thread_snapshot(conn, target.thread_id)
    if snapshot is None or snapshot.head is None:
        return None
    if any(i.queue_item_id == target.queue_item_id for i in snapshot.queue):
        head = snapshot.head
        if head.status == "failed":
            return (
                f"queued behind failed item {head.queue_item_id[:8]} ({head.failure_reason}); "
                f"`t3 retry {target.thread_id[:8]}` or `t3 queue cancel` it"
            )
    return None


def _left(target: Target, status: str, error: str) -> TurnResult:
    return TurnResult(
        target.thread_id, target.turn_id or "", target.queue_item_id, status, error, "",
        launched=False,
    )  # fmt: skip


def _code(result: TurnResult, signals: Signals) -> int:
    if result.status == "completed":
        return int(ExitCode.OK)
    if result.status == "interrupted" or signals.first.is_set():
        return int(ExitCode.INTERRUPTED)
    if result.status == "cancelled":
        return int(ExitCode.ERROR)
    return int(ExitCode.PROVIDER_FAILURE)


def _finish_text(env: Env, result: TurnResult, thread_id: str) -> None:
    if result.reply and not result.reply.endswith("\n"):
        env.stdout.write("\n")
        env.stdout.flush()
    if result.status == "completed":
        return
    # "turn interrupted", not "turn interrupted: interrupted": the error adds only what differs.
    said = result.error if result.error and result.error != result.status else None
    detail = printable(f"turn {result.status}" + (f": {said}" if said else ""))
    if result.status == "interrupted":
        env.stderr.write(detail + "\n")
        return
    # A failed or timed-out turn is an expected failure: same `error:`/`hint:` shape as any other.
    env.stderr.write(f"error: {detail}\n")
    short = thread_id[:8]
    retry = f"`t3 retry {short}`" if result.queue_item_id else "send it again"
    env.stderr.write(f"hint: `t3 show {short}` has the transcript; {retry} when it is fixed\n")


def _as_json(target: Target, result: TurnResult) -> dict[str, Any]:
    return {
        "thread_id": target.thread_id,
        "turn_id": result.turn_id or target.turn_id,
        "queue_item_id": result.queue_item_id or target.queue_item_id,
        "status": result.status,
        "reply": result.reply,
        "error": result.error,
        "input_tokens": result.input_tokens,
        "output_tokens": result.output_tokens,
        "cost_usd": result.cost_usd,
        "duration_ms": result.duration_ms,
    }

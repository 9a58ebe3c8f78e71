"""Running a reactor in the foreground: signals, `--until-idle`, and the exit code.

Signals (SIGINT, SIGTERM): the first one stops the reactor from starting turns and closes it —
running turns are interrupted (`on_exit="interrupt"`, the default) or allowed to finish
(`"wait"`), their ends recorded, sessions recorded `stopped`, leases released. A second signal
stops running turns at once (the agents are killed; their ends are still recorded). The exit code
is then 130 (SIGINT) or 143 (SIGTERM).

Without a signal: `--until-idle` exits when no thread in scope has eligible work, with 0 if every
turn this reactor ran completed and 5 if any failed, timed out or was interrupted.
"""

from __future__ import annotations

import asyncio
import signal

from t3cli.errors import ExitCode
from t3cli.reactor.loop import OnExit, Reactor


class Signals:
    """SIGINT/SIGTERM as events: `first` on the first signal, `kill` on the second."""

    def __init__(self) -> None:
        self.first = asyncio.Event()
        self.kill = asyncio.Event()
        self.signum: int | None = None

    def install(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._received, sig)

    def uninstall(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)

    def _received(self, sig: int) -> None:
        if self.signum is None:
            self.signum = sig
            self.first.set()
        else:
            self.kill.set()

    @property
    def exit_code(self) -> int | None:
        if self.signum is None:
            return None
        return int(ExitCode.INTERRUPTED if self.signum == signal.SIGINT else ExitCode.TERMINATED)


def outcome_code(reactor: Reactor) -> int:
    """0 if every turn this reactor ran completed, else 5."""
    failed = sum(n for status, n in reactor.outcomes.items() if status != "completed")
    return int(ExitCode.PROVIDER_FAILURE if failed else ExitCode.OK)


async def run_foreground(
    reactor: Reactor, *, until_idle: bool, on_exit: OnExit, signals: Signals
) -> int:
    """Start `reactor`, run it until idle (or until a signal), close it; return the exit code."""
    try:
        await reactor.start()
        stop = asyncio.ensure_future(signals.first.wait())
        work = asyncio.ensure_future(reactor.until_idle() if until_idle else reactor.wait_failed())
        try:
            await asyncio.wait({stop, work}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            if not work.done():
                work.cancel()
            await asyncio.gather(stop, return_exceptions=True)
        if work.done() and not work.cancelled() and work.exception() is not None:
            raise work.exception()  # type: ignore[misc]
    finally:
        await reactor.close(on_exit=on_exit, kill=signals.kill)
    code = signals.exit_code
    return code if code is not None else outcome_code(reactor)

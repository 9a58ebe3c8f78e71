"""The live view of `t3 run` on a terminal: the reactor's observer, drawn full screen with rich.

`LiveView` turns the reactor's observer calls into a `LiveState` (rows in a stable order, the
sticky focus, notices) and `LiveView.run` draws it (`live_frame.frame`) on the terminal's
alternate screen, as a full-screen program does:

- Each frame is drawn for the terminal's current size and fills it exactly, from the top-left
  corner: after a resize nothing of an older frame stays behind and nothing is printed twice.
  SIGWINCH redraws at once; otherwise every `REFRESH_S`, or sooner when a key asks for it.
- The view is redrawn from the event loop (rich's own refresh thread is off), so observer
  callbacks and drawing never race; observer calls only update the state.
- Ctrl-Z leaves the alternate screen and restores the terminal (and its key mode) before the
  process stops; `fg` brings both back.
- When the view closes, the alternate screen is left and a summary of every thread is printed
  on the normal screen, so the terminal keeps a record of where each thread was left.
- While the reactor stops, the last line says what it waits for and what a second Ctrl-C does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator

from rich.console import Console, RenderableType
from rich.live import Live
from rich.text import Text

from t3cli.contracts.events import EventRecord
from t3cli.reactor.live_frame import LEGEND_KEYS, LEGEND_PLAIN, frame, summary
from t3cli.reactor.live_state import LiveState
from t3cli.reactor.observer import NullObserver, TurnResult
from t3cli.store.reactor_queries import ThreadSnapshot

REFRESH_S = 0.25


class LiveView(NullObserver):
    def __init__(
        self,
        console: Console,
        *,
        focus: str | None = None,
        keys: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._console = console
        self._clock = clock
        self.state = LiveState(focus=focus, clock=clock)
        self._legend = LEGEND_KEYS if keys else LEGEND_PLAIN
        self._stopping: tuple[str, bool] | None = None  # (on_exit, second signal)
        self._wake: asyncio.Event | None = None
        self.on_suspend: Callable[[], None] = lambda: None  # Ctrl-Z: the keys let go of the tty
        self.on_resume: Callable[[], None] = lambda: None

    # --- Observer ------------------------------------------------------------------------------

    def on_event(self, record: EventRecord) -> None:
        self.state.event(record)

    def on_snapshot(self, snapshot: ThreadSnapshot) -> None:
        self.state.snapshot(snapshot)

    def on_turn_launched(self, thread_id: str, turn_id: str, queue_item_id: str | None) -> None:
        self.state.launched(thread_id, turn_id)

    def on_text(self, thread_id: str, turn_id: str, text: str) -> None:
        self.state.text(thread_id, turn_id, text)

    def on_turn_finished(self, result: TurnResult) -> None:
        self.state.finished(result)

    def on_notice(self, message: str) -> None:
        self.state.note(message)

    # --- stopping ------------------------------------------------------------------------------

    def stopping(self, on_exit: str, *, now: bool = False) -> None:
        """The reactor is stopping (first Ctrl-C / SIGTERM; `now`: the second one). From then
        on the last line says what it waits for, and what another Ctrl-C does."""
        self._stopping = (on_exit, now)
        if any(row.status in ("starting", "queued") for row in self.state.rows()):
            self.state.note("queued turns stay queued: the next `t3 run` sends them")
        self.redraw()

    def _banner(self) -> str | None:
        if self._stopping is None:
            return None
        on_exit, now = self._stopping
        running = sum(1 for row in self.state.rows() if row.status == "running")
        turns = f"{running} running turn{'s' if running != 1 else ''}"
        them = "them" if running != 1 else "it"
        if not running:
            return "stopping: no turn is running"
        if now:
            return f"stopping now: ending {turns}"
        if on_exit == "wait":
            return f"stopping: waiting for {turns} to finish · Ctrl-C again interrupts {them}"
        return f"stopping: interrupting {turns} · Ctrl-C again stops {them} at once"

    # --- drawing -------------------------------------------------------------------------------

    def redraw(self) -> None:
        """Draw the next frame now rather than at the next tick."""
        if self._wake is not None:
            self._wake.set()

    def render(self, width: int | None = None, height: int | None = None) -> RenderableType:
        size = self._console.size
        return frame(
            self.state, self._console, width or size.width, height or size.height,
            now=self._clock(), legend=self._legend, banner=self._banner(),
        )  # fmt: skip

    async def run(self, stop: asyncio.Event) -> None:
        """Draw until `stop` is set, then leave the alternate screen and print the summary."""
        self._wake = asyncio.Event()
        live = Live(
            console=self._console, screen=True, auto_refresh=False, redirect_stdout=False,
            redirect_stderr=False,
        )  # fmt: skip
        with live, self._signals(live):
            while not stop.is_set():
                live.update(self.render(), refresh=True)
                self._wake.clear()
                waits = {
                    asyncio.ensure_future(stop.wait()),
                    asyncio.ensure_future(self._wake.wait()),
                }
                try:
                    await asyncio.wait(
                        waits, timeout=REFRESH_S, return_when=asyncio.FIRST_COMPLETED
                    )
                finally:
                    for waiter in waits:
                        waiter.cancel()
            # A blank alternate screen to leave: a terminal multiplexer resized meanwhile (tmux)
            # copies lines of it onto the normal screen.
            live.update(Text(""), refresh=True)
        self._console.print(summary(self.state, self._console.size.width, now=self._clock()))

    @contextlib.contextmanager
    def _signals(self, live: Live) -> Iterator[None]:
        """SIGWINCH redraws at once; SIGTSTP (Ctrl-Z) puts the terminal back before stopping."""
        loop = asyncio.get_running_loop()

        def suspend() -> None:
            self.on_suspend()
            live.stop()
            os.kill(os.getpid(), signal.SIGSTOP)
            # Continued (`fg`): take the terminal back.
            live.start(refresh=False)
            self.on_resume()
            self.redraw()

        handlers = {signal.SIGWINCH: self.redraw, signal.SIGTSTP: suspend}
        installed = []
        try:
            for sig, handler in handlers.items():
                loop.add_signal_handler(sig, handler)
                installed.append(sig)
            yield
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)

"""What the keys of the live view do. `r`, `c` and `i` act on the focused thread through the very
commands of `t3 retry`, `t3 queue cancel` and `t3 interrupt`: dispatched by the engine as the
user (a fresh command id each press, so they are logged, receipted and decided like the CLI's),
on their own connection with full durability (a confirmed action survives a power cut), on their
own thread (a lock wait never blocks the event loop or the reactor's writes).

- `r`: retry the thread's failed head (`t3 retry THREAD`).
- `c`: cancel the thread's failed head (`t3 queue cancel THREAD ITEM` of that item); pending
  items are cancelled with `t3 queue cancel`.
- `i`: interrupt the thread's running turn (`t3 interrupt THREAD`).
- `↑`/`↓`, `k`/`j`: move the focus; `q`: quit exactly as Ctrl-C does (a SIGINT to ourselves,
  so a second `q` is a second Ctrl-C).

Each action ends with a one-line notice in the view: what was done, or why not (the decider's
rejection, or a database error), never an exception.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from pathlib import Path

from t3cli.contracts import commands as c
from t3cli.contracts.ids import new_id
from t3cli.domain.decider import Limits
from t3cli.domain.rejections import CommandRejected
from t3cli.errors import T3Error
from t3cli.reactor.dbworker import DbWorker, Outcome
from t3cli.reactor.live_state import LiveState
from t3cli.store import reactor_queries as rq
from t3cli.store.db import connect

_MOVES = {"up": -1, "k": -1, "down": 1, "j": 1}
ACTION_KEYS = frozenset({"r", "c", "i"})


def _quit() -> None:
    os.kill(os.getpid(), signal.SIGINT)


class KeyActions:
    """Key presses → focus moves and commands. `await start()` before, `await close()` after."""

    def __init__(
        self,
        database: Path,
        state: LiveState,
        *,
        limits: Limits | None = None,
        changed: Callable[[], None] = lambda: None,
        quit: Callable[[], None] = _quit,
    ) -> None:
        self._state = state
        self._changed = changed  # redraw now
        self._quit = quit
        self._worker = DbWorker(
            "t3-view-keys", lambda: connect(database, durability="full"), limits=limits
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self._started = False

    async def start(self) -> None:
        await self._worker.start()
        self._started = True

    async def close(self) -> None:
        """Wait for actions under way (each is one short transaction), then close."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._started:
            await self._worker.close()

    def key(self, name: str) -> None:
        """Handle one key (called on the event loop; never blocks)."""
        if name in _MOVES:
            self._state.move_focus(_MOVES[name])
        elif name == "q":
            self._quit()
        elif name in ACTION_KEYS:
            thread_id = self._state.focus
            if thread_id is None:
                self._state.note(f"{name}: no thread in focus (↑/↓ or j/k chooses one)")
            else:
                task = asyncio.create_task(self._act(name, thread_id), name=f"view-key-{name}")
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        else:
            return
        self._changed()

    async def _act(self, key: str, thread_id: str) -> None:
        short = thread_id[:8]
        try:
            message = await self._dispatch(key, thread_id, short)
        except T3Error as exc:
            message = f"{key}: {short}: {exc.message}"
        self._state.note(message)
        self._changed()

    async def _dispatch(self, key: str, thread_id: str, short: str) -> str:
        command: c.Command
        if key == "r":
            command = c.QueuedTurnRetry(command_id=new_id(), thread_id=thread_id)
        elif key == "i":
            command = c.TurnInterrupt(command_id=new_id(), thread_id=thread_id)
        else:
            snapshot = await self._worker.call(lambda conn: rq.thread_snapshot(conn, thread_id))
            failed = [i for i in snapshot.queue if i.status == "failed"] if snapshot else []
            if not failed:
                return (
                    f"c: {short} has no failed queued turn to cancel"
                    f" (`t3 queue cancel {short} N` cancels a pending one)"
                )
            command = c.QueuedTurnCancel(
                command_id=new_id(), thread_id=thread_id, queue_item_id=failed[0].queue_item_id
            )
        outcome: Outcome = await self._worker.dispatch_one(command)
        if isinstance(outcome, CommandRejected):
            return f"{key}: {outcome.reason}"
        item = next((str(e.payload.get("queue_item_id")) for e in outcome.events), "")
        if key == "r":
            return f"r: {short}: queued turn {item[:8]} retried (queued again)"
        if key == "c":
            return f"c: {short}: queued turn {item[:8]} cancelled"
        turn = next((str(e.payload.get("turn_id")) for e in outcome.events), "")
        return f"i: {short}: interrupt requested for turn {turn[:8]}"

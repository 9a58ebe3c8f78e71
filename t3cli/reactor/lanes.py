"""Lanes: one asyncio task per thread that has work, torn down as soon as it has none.

Guarantees:
- Per-thread order: a lane handles its thread's items one at a time, in the order they were
  posted (the log's order for events). Different threads never wait for each other.
- A turn runs in its own task (`spawn_turn`), so its lane can still deliver an interrupt or a stop
  while it runs; when the turn task ends, a `TURN_ENDED` marker is posted to the lane.
- Teardown: a lane exits when its queue is empty and no turn of it runs; its entry is removed from
  the table in the same step (no await in between), so nothing is left per finished thread and a
  later post simply creates a new lane.
- Exact accounting: `WorkCounter` counts every posted item until its handling (and the check that
  may follow it) is over, and every turn task until it ended and its marker was posted — so
  `wait_idle()` cannot return while anything is still to happen.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

from t3cli.contracts.events import EventRecord
from t3cli.reactor.turns import TurnHandle


class Marker(enum.Enum):
    CLAIMED = "claimed"  # the lease was just acquired: recover, then look at the thread
    CHECK = "check"  # look at the thread (startup, a new claim, a lease tick)
    TURN_ENDED = "turn-ended"


LaneItem = EventRecord | Marker


class WorkCounter:
    """Outstanding work; `wait_idle()` returns when it is zero."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def count(self) -> int:
        return self._count

    def add(self, n: int = 1) -> None:
        self._count += n
        self._idle.clear()

    def done(self, n: int = 1) -> None:
        self._count -= n
        assert self._count >= 0, "work counter went negative"
        if self._count == 0:
            self._idle.set()

    async def wait_idle(self) -> None:
        await self._idle.wait()


class Lane:
    """The state of one thread's lane; only its own task mutates it."""

    def __init__(self, thread_id: str, held: bool) -> None:
        self.thread_id = thread_id
        self.queue: asyncio.Queue[LaneItem] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None
        self.held = held  # this reactor holds the thread's lease
        self.refused = False  # the lease is someone else's: drop what comes, start nothing
        self.recovered = False
        self.needs_check = False
        self.turn: TurnHandle | None = None
        self.finished_turns: set[str] = set()
        self.written = 0  # sequence of the last event this lane's thread had committed by us


class LaneHandler(Protocol):
    async def handle(self, lane: Lane, item: LaneItem) -> None: ...

    async def settle(self, lane: Lane) -> None: ...

    def lane_closed(self, lane: Lane) -> None: ...

    def lane_failed(self, lane: Lane, error: BaseException) -> None: ...


class LaneTable:
    """Every live lane, by thread id."""

    def __init__(
        self,
        handler: LaneHandler,
        counter: WorkCounter,
        watched: Callable[[], int],
        caught_up: Callable[[int], Awaitable[None]],
    ) -> None:
        self._handler = handler
        self._counter = counter
        self._watched = watched  # the log watcher's cursor
        self._caught_up = caught_up  # wait until the watcher delivered up to a sequence
        self.lanes: dict[str, Lane] = {}

    def __len__(self) -> int:
        return len(self.lanes)

    def get(self, thread_id: str) -> Lane | None:
        return self.lanes.get(thread_id)

    def post(self, thread_id: str, item: LaneItem, *, held: bool) -> Lane:
        """Queue `item` for the thread's lane, creating the lane if there is none."""
        lane = self.lanes.get(thread_id)
        if lane is None:
            lane = Lane(thread_id, held)
            self.lanes[thread_id] = lane
            lane.task = asyncio.create_task(self._run(lane), name=f"lane-{thread_id[:8]}")
        self._counter.add()
        lane.queue.put_nowait(item)
        return lane

    def spawn_turn(
        self,
        lane: Lane,
        handle: TurnHandle,
        make: Callable[[TurnHandle], Coroutine[Any, Any, Any]],
    ) -> None:
        """Run `make(handle)` as the lane's turn task."""
        lane.turn = handle
        self._counter.add()
        handle.task = asyncio.create_task(make(handle), name=f"turn-{handle.turn_id[:8]}")

        def ended(task: asyncio.Task[Any]) -> None:
            if not task.cancelled() and task.exception() is not None:
                self._handler.lane_failed(lane, task.exception())  # type: ignore[arg-type]
            # Post before counting the task done, so the counter never touches zero between.
            self._counter.add()
            lane.queue.put_nowait(Marker.TURN_ENDED)
            self._counter.done()

        handle.task.add_done_callback(ended)

    async def _run(self, lane: Lane) -> None:
        try:
            while True:
                if lane.queue.empty():
                    if lane.turn is None:
                        if lane.written <= self._watched():
                            return
                        # Stay until the watcher has read our own writes back: they are this
                        # thread's events too, and must reach this lane (and its observers)
                        # rather than find no lane and look like work for a new claim.
                        self._counter.add()  # still outstanding: drain() waits for it
                        try:
                            await self._caught_up(lane.written)
                        finally:
                            self._counter.done()
                        continue
                    item = await lane.queue.get()
                else:
                    item = lane.queue.get_nowait()
                try:
                    await self._handler.handle(lane, item)
                    if lane.needs_check and lane.queue.empty():
                        lane.needs_check = False
                        await self._handler.settle(lane)
                except Exception as exc:  # one thread's failure must not end its lane silently
                    self._handler.lane_failed(lane, exc)
                finally:
                    self._counter.done()
        finally:
            if self.lanes.get(lane.thread_id) is lane:
                del self.lanes[lane.thread_id]
            # Items never handled (cancelled at shutdown) are no longer outstanding.
            while not lane.queue.empty():
                lane.queue.get_nowait()
                self._counter.done()
            self._handler.lane_closed(lane)

    async def cancel_all(self) -> None:
        """Cancel every lane task (shutdown, after turns have ended)."""
        tasks = [lane.task for lane in self.lanes.values() if lane.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

"""Runtime events of one turn → reactor commands, with assistant text coalesced.

`TurnIngestor` is pure apart from its injected clock: it turns the provider's runtime events into
the commands to commit, and decides when buffered text must be persisted.

Guarantees:
- Deterministic command ids, derived from the turn id and what caused the command (the session
  start, the n-th runtime event, the n-th chunk of an item's text), so a replayed ingestion
  deduplicates.
- Text deltas are *not* one event each. An item's text is persisted as `MessageAppend` chunks:
  when the item completes (`TextCompleted`), or when the buffer holds `FLUSH_BYTES` (4 KB) of
  UTF-8, or when its oldest unpersisted text is `FLUSH_INTERVAL_S` (250 ms) old — whichever comes
  first. Hence, for a turn streaming B bytes of text over T seconds in one item:

      chunks <= floor(B / 4096) + floor(T / 0.25) + 1

- The persisted chunks of an item concatenate to exactly its text (the deltas; or the completed
  text when the provider sent no deltas, or its tail beyond the deltas).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from t3cli.contracts import commands as c
from t3cli.contracts.ids import derived_id
from t3cli.contracts.runtime import (
    Activity,
    RuntimeEvent,
    SessionStarted,
    TextCompleted,
    TextDelta,
    TurnCompleted,
    Usage,
)

FLUSH_BYTES = 4096
FLUSH_INTERVAL_S = 0.25


@dataclass(slots=True)
class _TextItem:
    message_id: str
    seen: list[str] = field(default_factory=list)  # every delta, for the exact final text
    seen_chars: int = 0
    buffer: list[str] = field(default_factory=list)  # not yet persisted
    buffer_bytes: int = 0
    buffer_since: float | None = None
    chunks: int = 0
    complete: bool = False


@dataclass(slots=True)
class UsageTotals:
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_input_tokens: int | None = None
    cost_usd: float | None = None
    reported: dict[str, int] | None = None  # the provider's own figures (the last report)
    session_total: dict[str, int] | None = None  # cumulative providers: the session's total

    def add(self, usage: Usage) -> None:
        if usage.reported is not None:
            self.reported = dict(usage.reported)
        if usage.session_total is not None:
            self.session_total = dict(usage.session_total)


        def plus(a: float | None, b: float | None) -> float | None:
            return b if a is None else a if b is None else a + b

        self.input_tokens = plus(self.input_tokens, usage.input_tokens)  # type: ignore[assignment]
        self.output_tokens = plus(self.output_tokens, usage.output_tokens)  # type: ignore[assignment]
        self.cached_input_tokens = plus(  # type: ignore[assignment]
            self.cached_input_tokens, usage.cached_input_tokens
        )
        self.cost_usd = plus(self.cost_usd, usage.cost_usd)


class TurnIngestor:
    """Ingestion state of one running turn (see module docstring)."""

    def __init__(
        self,
        thread_id: str,
        turn_id: str,
        provider: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        recorded_session_id: str | None = None,
        session_usage: dict[str, int] | None = None,
    ) -> None:
        self.thread_id = thread_id
        self.turn_id = turn_id
        self.provider = provider
        self._clock = clock
        self._items: dict[str, _TextItem] = {}
        self._order: list[str] = []
        self._ordinal = 0
        self.usage = UsageTotals()
        self.provider_session_id: str | None = None
        # The provider session id the thread's session already records (the reactor records the
        # session `running` before launch): a `SessionStarted` with this id changes nothing.
        self._recorded_session_id = recorded_session_id
        # For cumulative-usage providers: the session's total before this turn. Carried into the
        # turn's end when the turn reports none, so the next turn still finds it in the log.
        self._session_usage = session_usage
        self._usage_session_id = recorded_session_id  # the session `session_usage` belongs to

    # --- text -------------------------------------------------------------------------------

    def _item(self, item_id: str) -> _TextItem:
        item = self._items.get(item_id)
        if item is None:
            item = _TextItem(message_id=derived_id("assistant-message", self.turn_id, item_id))
            self._items[item_id] = item
            self._order.append(item_id)
        return item

    def _chunk(self, item_id: str, item: _TextItem, text: str, complete: bool) -> c.MessageAppend:
        command = c.MessageAppend(
            command_id=derived_id("message.append", self.turn_id, item_id, str(item.chunks)),
            actor="reactor",
            thread_id=self.thread_id,
            turn_id=self.turn_id,
            message_id=item.message_id,
            text=text,
            complete=complete,
            chunk=item.chunks,
        )
        item.chunks += 1
        return command

    def _flush(
        self, item_id: str, item: _TextItem, *, complete: bool, tail: str = ""
    ) -> list[c.Command]:
        text = "".join(item.buffer) + tail
        item.buffer.clear()
        item.buffer_bytes = 0
        item.buffer_since = None
        if complete:
            item.complete = True
        if not text and not (complete and item.chunks > 0):
            return []
        return [self._chunk(item_id, item, text, complete)]

    @property
    def reply(self) -> str:
        """The assistant text seen so far (persisted or not), items in order of first appearance."""
        return "".join("".join(self._items[item_id].seen) for item_id in self._order)

    def next_deadline(self) -> float | None:
        """The clock time by which buffered text must be persisted, or None if nothing waits."""
        times = [i.buffer_since for i in self._items.values() if i.buffer_since is not None]
        return min(times) + FLUSH_INTERVAL_S if times else None

    def due(self) -> list[c.Command]:
        """Chunks for every item whose oldest buffered text has waited `FLUSH_INTERVAL_S`."""
        now = self._clock()
        out: list[c.Command] = []
        for item_id in self._order:
            item = self._items[item_id]
            if item.buffer_since is not None and now - item.buffer_since >= FLUSH_INTERVAL_S:
                out += self._flush(item_id, item, complete=False)
        return out

    # --- events -----------------------------------------------------------------------------

    def feed(self, event: RuntimeEvent) -> tuple[list[c.Command], str]:
        """Ingest one runtime event (not `TurnCompleted`: see `finish`). Returns the commands to
        commit now and the assistant text this event added (for the live view)."""
        self._ordinal += 1
        if isinstance(event, TextDelta):
            item = self._item(event.item_id)
            if item.complete or not event.text:
                return [], ""
            item.seen.append(event.text)
            item.seen_chars += len(event.text)
            item.buffer.append(event.text)
            item.buffer_bytes += len(event.text.encode())
            if item.buffer_since is None:
                item.buffer_since = self._clock()
            if item.buffer_bytes >= FLUSH_BYTES:
                return self._flush(event.item_id, item, complete=False), event.text
            return self.due(), event.text
        if isinstance(event, TextCompleted):
            item = self._item(event.item_id)
            if item.complete:
                return [], ""
            seen = "".join(item.seen)
            tail = ""
            if len(event.text) > len(seen) and event.text.startswith(seen):
                tail = event.text[len(seen) :]
            item.seen.append(tail)
            return self._flush(event.item_id, item, complete=True, tail=tail), tail
        if isinstance(event, SessionStarted):
            self.provider_session_id = event.provider_session_id
            if event.provider_session_id == self._recorded_session_id:
                return [], ""  # already recorded, and the session is already `running`
            self._recorded_session_id = event.provider_session_id
            return [
                c.SessionSet(
                    command_id=derived_id("session.started", self.turn_id),
                    actor="reactor",
                    thread_id=self.thread_id,
                    status="running",
                    provider=self.provider,
                    provider_session_id=event.provider_session_id,
                )
            ], ""
        if isinstance(event, Activity):
            key = event.item_id or f"#{self._ordinal}"
            return [
                c.ActivityAppend(
                    command_id=derived_id("activity.append", self.turn_id, str(self._ordinal)),
                    actor="reactor",
                    thread_id=self.thread_id,
                    turn_id=self.turn_id,
                    activity_id=derived_id("activity", self.turn_id, key),
                    kind=event.kind,
                    summary=event.summary,
                    status=event.status,
                    detail=dict(event.detail),
                )
            ], ""
        if isinstance(event, Usage):
            self.usage.add(event)
        return [], ""  # TurnStarted carries nothing the log does not already have

    def _session_total(self) -> dict[str, int] | None:
        """The provider session's running usage total after this turn: reported by the turn, or
        carried over from before it when the turn reported none in that same session."""
        if self.usage.session_total is not None:
            return self.usage.session_total
        if self.provider_session_id in (None, self._usage_session_id):
            return self._session_usage
        return None

    def finish(
        self,
        completed: TurnCompleted,
        *,
        duration_ms: int,
        session_status: c.SessionStatus,
    ) -> list[c.Command]:
        """The closing commands, in order: the rest of every item's text, the turn's completion
        (which resolves or fails its queued item in the same transaction), and the session's new
        status. An item the provider never completed is marked complete only when the turn
        completed: the partial text of an interrupted, failed or timed-out turn stays
        `complete: false`."""
        out: list[c.Command] = []
        ended_well = completed.status == "completed"
        for item_id in self._order:
            item = self._items[item_id]
            if not item.complete:
                out += self._flush(item_id, item, complete=ended_well)
        out.append(
            c.TurnCompletedCmd(
                command_id=derived_id("turn.completed", self.turn_id),
                actor="reactor",
                thread_id=self.thread_id,
                turn_id=self.turn_id,
                status=completed.status,
                error=completed.error,
                input_tokens=self.usage.input_tokens,
                output_tokens=self.usage.output_tokens,
                cached_input_tokens=self.usage.cached_input_tokens,
                cost_usd=self.usage.cost_usd,
                duration_ms=duration_ms,
                reported_usage=self.usage.reported,
                session_usage=self._session_total(),
                provider_session_id=self.provider_session_id or self._recorded_session_id,
            )
        )
        out.append(
            c.SessionSet(
                command_id=derived_id("session.after-turn", self.turn_id),
                actor="reactor",
                thread_id=self.thread_id,
                status=session_status,
                provider=self.provider,
            )
        )
        return out

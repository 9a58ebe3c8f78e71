"""Bulk writes (`t3 retry --all`, `t3 queue clear`): one ordinary command per item, one transaction.

Each item — a blocked thread to retry, a queued turn to cancel — gets an ordinary command
(`thread.queued-turn.retry`, `thread.queued-turn.cancel`), decided, logged and receipted like the
one `t3 retry THREAD` or `t3 queue cancel` would send. Its command id derives from the bulk
command id and the item's place in the batch (`item_command_id`).

Guarantees:
- Atomic: every item's command is decided and committed in one write transaction — all of them
  or, on a database error, none.
- An item that changed between listing and deciding (retried by someone else, started sending)
  is *skipped*: the decider's rejection is recorded in its receipt and reported, it is not a
  failure of the bulk action.
- Idempotent by `--command-id ID`: a rerun finds the first run by the receipt of its first item
  command, and replays every recorded outcome (same items, same sequences) through the engine,
  appending nothing. A first run that found nothing to do recorded nothing, so a rerun looks again.
  An ID some other write command was recorded under is refused (exit 2), as every write refuses
  an ID of a different kind of command.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import count
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # a cheap dataclass at run time; see t3cli.contracts._record
    from t3cli.contracts._record import record as dataclass

from t3cli.cli.env import Env
from t3cli.contracts.ids import derived_id

if TYPE_CHECKING:
    from t3cli.contracts.commands import Command

Target = TypeVar("Target")


@dataclass(frozen=True)
class ItemOutcome:
    """What one item's command did: `sequence` of its last event when accepted, `skipped` (the
    rejection's reason) when not. `queue_item_id` is null for a skipped item: a replay reads it
    from the receipt, which records the reason but not the item."""

    thread_id: str
    queue_item_id: str | None
    command_id: str
    sequence: int | None
    skipped: str | None
    hint: str | None = None


@dataclass(frozen=True)
class BulkResult:
    command_id: str
    items: tuple[ItemOutcome, ...]

    @property
    def sequence(self) -> int | None:
        """The sequence of the batch's last event (None when nothing was appended)."""
        done = [item.sequence for item in self.items if item.sequence is not None]
        return max(done) if done else None


@dataclass(frozen=True)
class BulkAction(Generic[Target]):
    """One bulk action: its `kind` (part of every item command id), how to build an item's
    command for a target, and how to rebuild it for a replay from the thread its receipt names
    (the engine answers a replay from the receipt, so the rebuilt command's other fields are
    never decided on)."""

    kind: str
    make: Callable[[str, Target], Command]
    thread_of: Callable[[Target], str]
    remake: Callable[[str, str], Command]


def item_command_id(kind: str, bulk_command_id: str, index: int) -> str:
    """The command id of the `index`-th (1-based) item command of a bulk action."""
    return derived_id(kind, bulk_command_id, str(index))


def run(
    env: Env,
    action: BulkAction[Target],
    given_id: str | None,
    targets: Callable[[], Sequence[Target]],
) -> BulkResult:
    """Replay `given_id`'s recorded batch, or dispatch one command per target in one
    transaction. `targets` is listed only when there is nothing to replay."""
    from t3cli.cli.writes import command_id, item_of
    from t3cli.domain.rejections import CommandRejected
    from t3cli.errors import UsageError
    from t3cli.store import queries

    cid = command_id(given_id)
    conn = env.connect()
    recorded_type = queries.recorded_command_type(conn, cid) if given_id else None
    if recorded_type is not None:  # a bulk action records nothing under its own id
        raise UsageError(
            f"command id {cid!r} was already used for a {recorded_type} command",
            hint="give each distinct command its own --command-id",
        )
    recorded: list[tuple[str, str]] = []  # (item command id, thread id) of a first run
    if given_id:
        for index in count(1):
            item_cid = item_command_id(action.kind, cid, index)
            thread = queries.command_thread(conn, item_cid)
            if thread is None:
                break
            recorded.append((item_cid, thread.thread_id))
    if recorded:
        commands = [action.remake(item_cid, thread_id) for item_cid, thread_id in recorded]
        threads = [thread_id for _, thread_id in recorded]
    else:
        listed = targets()
        commands = [
            action.make(item_command_id(action.kind, cid, index), target)
            for index, target in enumerate(listed, start=1)
        ]
        threads = [action.thread_of(target) for target in listed]
    outcomes = env.engine().dispatch_many(commands) if commands else []
    result = []
    for command, thread_id, outcome in zip(commands, threads, outcomes, strict=True):
        if isinstance(outcome, CommandRejected):
            result.append(
                ItemOutcome(
                    thread_id, None, command.command_id, None, outcome.reason, outcome.hint
                )
            )
        else:
            result.append(
                ItemOutcome(thread_id, item_of(outcome), command.command_id, outcome.sequence, None)
            )
    if recorded:
        env.stderr.write(f"note: command {cid} was already recorded; replayed\n")
    return BulkResult(cid, tuple(result))


def report(env: Env, json: bool, result: BulkResult, *, verb: str, thread_id: str | None) -> None:
    """Print a bulk result: with `--json` one object (README, "JSON output"); else, like every
    write, the full id of each item done on stdout and its confirmation on stderr (`VERB item
    1a2b3c4d of thread 7f3a1b2c`), and a `note:` per skipped item (with the hint its refusal
    gave) on stderr."""
    if json:
        env.print_json(_json(result, verb, thread_id))
        return
    for item in result.items:
        if item.skipped is None:
            env.stdout.write(f"{item.queue_item_id}\n")
            short = str(item.queue_item_id)[:8]
            env.stderr.write(f"{verb} item {short} of thread {item.thread_id[:8]}\n")
        else:
            env.stderr.write(f"note: skipped: {item.skipped}\n")
            if item.hint:
                env.stderr.write(f"hint: {item.hint}\n")


def _json(result: BulkResult, verb: str, thread_id: str | None) -> dict[str, Any]:
    return {
        "thread_id": thread_id,
        "items": [
            {
                "thread_id": item.thread_id,
                "queue_item_id": item.queue_item_id,
                "status": verb if item.skipped is None else "skipped",
                "reason": item.skipped,
                "command_id": item.command_id,
                "sequence": item.sequence,
            }
            for item in result.items
        ],
        "command_id": result.command_id,
        "sequence": result.sequence,
    }

"""The write path every `t3` write command takes: command ids, derived ids, dispatch.

Guarantees of the write path:
- Every write accepts `--command-id ID`. The same id always replays the original outcome: an
  accepted command prints the same ids and sequence again and exits 0, a rejected one fails the
  same way; nothing new is appended. Without it a fresh random id is used.
- Ids a command creates (thread, turn, queued item, message) derive from the command id, so a retry
  with the same `--command-id` names the same objects.
- A `--command-id` is bound to its command: reused for a different one (another kind, or the same
  kind with other arguments — another message, another thread), it is refused (exit 2) instead of
  replaying an outcome that is not this command's. An empty or blank id is refused too (it would
  silently switch idempotency off).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from t3cli.cli.env import Env
from t3cli.contracts.ids import derived_id, new_id
from t3cli.errors import UsageError

if TYPE_CHECKING:
    from t3cli.contracts.commands import Command
    from t3cli.engine import DispatchResult
    from t3cli.store.queries import ThreadRef


def command_id(given: str | None) -> str:
    """The command id to use: the user's, or a fresh one. Raises `UsageError` (exit 2) for an
    empty or blank `--command-id`."""
    if given is None:
        return new_id()
    if not given.strip():
        raise UsageError(
            "--command-id is empty",
            hint="give a non-blank id (e.g. a UUID your script keeps for its retries),"
            " or leave the option out",
        )
    return given


def fingerprint(command_type: str, **arguments: object) -> str:
    """The digest a `--command-id` is bound to: the command's kind and the arguments that make
    it this command (the thread it acts on, the message, the item as given, flags), never the
    output format. Equal arguments give equal fingerprints, in any process and version."""
    import hashlib
    import json

    text = json.dumps([command_type, arguments], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def child_id(kind: str, command_id: str) -> str:
    """The id of a `kind` object ("thread", "turn", "queue-item", "message") created by the
    command `command_id`: deterministic, so a retried command names the same object."""
    return derived_id(kind, command_id)


def check_command_id(env: Env, command_id: str, command_type: str) -> None:
    """Refuse (exit 2) a `--command-id` already used by a different kind of command: replaying
    that command's outcome would print ids that mean something else."""
    from t3cli.store.queries import recorded_command_type

    recorded = recorded_command_type(env.connect(), command_id)
    if recorded is not None and recorded != command_type:
        raise UsageError(
            f"command id {command_id!r} was already used for a {recorded} command",
            hint="give each distinct command its own --command-id",
        )


def dispatch(env: Env, command: Command, *, bound_to: str | None = None) -> DispatchResult:
    """Dispatch `command`, its id bound to the fingerprint `bound_to`; on a replayed command id,
    say so on stderr (stdout stays identical to the first run, so scripts comparing outputs see
    the same thing)."""
    check_command_id(env, command.command_id, command.TYPE)
    result = env.engine().dispatch(command, fingerprint=bound_to)
    if result.duplicate:
        note_replayed(env, command.command_id)
    return result


def note_replayed(env: Env, cid: str) -> None:
    env.stderr.write(f"note: command {cid} was already recorded; replayed\n")


def dispatch_on_thread(
    env: Env,
    thread: str,
    given_id: str | None,
    make: Callable[[str, ThreadRef], Command],
    **arguments: object,
) -> tuple[ThreadRef, str, DispatchResult]:
    """The write on one thread: resolve THREAD (a recorded `given_id` names the thread it acted
    on then, unless THREAD now names another one), dispatch `make(command id, thread)`, and
    return the thread, the command id and the result. `arguments` are what else makes this
    command this one (the message, the item, flags): with the thread, they bind `given_id`."""
    from t3cli.cli.refs import resolve_target

    cid = command_id(given_id)
    ref = resolve_target(env.connect(), thread, given_id)
    command = make(cid, ref)
    bound_to = None
    if given_id is not None:
        bound_to = fingerprint(command.TYPE, thread_id=ref.thread_id, **arguments)
    return ref, cid, dispatch(env, command, bound_to=bound_to)


def report(
    env: Env,
    json: bool,
    thread_id: str,
    cid: str,
    sequence: int,
    *,
    data: str,
    done: str | None = None,
    **ids: Any,
) -> None:
    """What a write prints. With `--json`: its write result (README, "JSON output"). Otherwise
    the full id of what it created or acted on (`data`) on stdout — data, for scripts — and, for
    writes whose id alone does not say what happened, the confirmation `done` on stderr (with
    8-character ids, like every message meant for people)."""
    if json:
        from t3cli.cli.output import write_json

        env.print_json(write_json(thread_id, cid, sequence, **ids))
        return
    env.stdout.write(data + "\n")
    if done is not None:
        from t3cli.cli.safe_text import printable

        env.stderr.write(printable(done) + "\n")


def item_of(result: DispatchResult) -> str:
    """The queued item a queue command (retry, cancel, move) acted on, from its first event —
    so a replayed command reports the same item even if it has left the queue since."""
    return str(result.events[0].payload.get("queue_item_id", "")) if result.events else ""


def check_provider(env: Env, name: str) -> str:
    """Return `name` if it is a usable provider: raise `NotFound` (exit 4) listing the names for
    an unknown one, or `ConfigError` (exit 2) naming the key when its `[providers.NAME]` table is
    wrong — so a thread is never bound to a provider whose first turn could only fail. Loads no
    adapter (it does import pydantic, which validates the table)."""
    from t3cli.providers.registry import provider_options

    provider_options(env.config, name)
    return name

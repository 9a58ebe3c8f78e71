"""A separate process that dispatches commands against one database file, for the multi-process
tests. Run as `python dispatch_worker.py MODE SPEC_JSON`; writes its outcomes as JSON to the spec's
`out` path. Any unexpected exception is recorded (and the exit code is 1) so the test can show it.

Modes:
- `mixed`: a reactor-and-user mix on the worker's own threads and on one shared thread.
- `same`: dispatch the same deterministic list of commands as the other `same` workers, to race
  on identical command ids.
"""

from __future__ import annotations

import json
import random
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from t3cli.contracts import commands as c
from t3cli.contracts.ids import derived_id, new_id
from t3cli.domain.rejections import CommandRejected
from t3cli.engine import DispatchResult, Engine
from t3cli.store.db import connect

PROJECT_ID = derived_id("project", "/tmp/t3-core-project")


class Recorder:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.outcomes: list[dict[str, Any]] = []

    def _note(self, cmd: c.Command, outcome: DispatchResult | CommandRejected) -> None:
        if isinstance(outcome, CommandRejected):
            self.outcomes.append(
                {"command_id": cmd.command_id, "actor": cmd.actor, "type": cmd.TYPE,
                 "status": "rejected", "kind": outcome.kind, "reason": outcome.reason}
            )  # fmt: skip
        else:
            self.outcomes.append(
                {"command_id": cmd.command_id, "actor": cmd.actor, "type": cmd.TYPE,
                 "status": "accepted", "duplicate": outcome.duplicate,
                 "sequence": outcome.sequence, "events": [ev.event_id for ev in outcome.events]}
            )  # fmt: skip

    def one(self, cmd: c.Command) -> DispatchResult | CommandRejected:
        try:
            outcome: DispatchResult | CommandRejected = self.engine.dispatch(cmd)
        except CommandRejected as rejection:
            outcome = rejection
        self._note(cmd, outcome)
        return outcome

    def many(self, cmds: list[c.Command]) -> None:
        for cmd, outcome in zip(cmds, self.engine.dispatch_many(cmds), strict=True):
            self._note(cmd, outcome)


def _queue(thread_id: str, text: str) -> c.TurnQueue:
    return c.TurnQueue(
        command_id=new_id(),
        thread_id=thread_id,
        queue_item_id=new_id(),
        message_id=new_id(),
        text=text,
    )


def _head(engine: Engine, thread_id: str) -> tuple[str, str] | None:
    row = engine.conn.execute(
        "SELECT queue_item_id, status FROM queued_turns WHERE thread_id = ? AND position = 1",
        (thread_id,),
    ).fetchone()
    return (row[0], row[1]) if row else None


def _run_head(rec: Recorder, thread_id: str, rng: random.Random) -> None:
    """Send the thread's pending head and finish its turn, as a reactor would."""
    head = _head(rec.engine, thread_id)
    if head is None or head[1] != "pending":
        return
    turn = new_id()
    sent = rec.one(
        c.QueuedTurnSendStart(
            command_id=new_id(),
            actor="reactor",
            thread_id=thread_id,
            queue_item_id=head[0],
            turn_id=turn,
        )
    )
    if isinstance(sent, CommandRejected):
        return  # another process sent it first (shared thread): expected
    rec.one(
        c.TurnStartedCmd(command_id=new_id(), actor="reactor", thread_id=thread_id, turn_id=turn)
    )
    rec.one(
        c.MessageAppend(
            command_id=new_id(), actor="reactor", thread_id=thread_id, turn_id=turn,
            message_id=new_id(), text="done", complete=True,
        )
    )  # fmt: skip
    outcome = rng.choice(["completed", "completed", "failed"])
    rec.one(
        c.TurnCompletedCmd(
            command_id=new_id(), actor="reactor", thread_id=thread_id, turn_id=turn,
            status=outcome,  # type: ignore[arg-type]
        )
    )  # fmt: skip
    if outcome == "failed":
        rec.one(c.QueuedTurnCancel(command_id=new_id(), thread_id=thread_id, queue_item_id=head[0]))


def mixed(rec: Recorder, spec: dict[str, Any]) -> None:
    rng = random.Random(spec["index"])
    shared = spec["shared_thread"]
    own: list[str] = []
    while len(rec.outcomes) < spec["commands"]:
        step = len(rec.outcomes)
        if not own or rng.random() < 0.03:
            thread_id = new_id()
            rec.one(
                c.ThreadCreate(
                    command_id=new_id(), thread_id=thread_id, project_id=PROJECT_ID,
                    provider="echo", title=f"worker {spec['index']} #{len(own)}",
                )
            )  # fmt: skip
            own.append(thread_id)
        roll = rng.random()
        if roll < 0.25:
            rec.one(_queue(shared, f"shared {spec['index']}.{step}"))
        elif roll < 0.45:
            rec.one(_queue(rng.choice(own), f"own {spec['index']}.{step}"))
        elif roll < 0.55:
            rec.many([_queue(rng.choice([shared, *own]), f"batch {step}.{k}") for k in range(5)])
        elif roll < 0.70:
            _run_head(rec, shared, rng)
        else:
            _run_head(rec, rng.choice(own), rng)


def same(rec: Recorder, spec: dict[str, Any]) -> None:
    seed, shared = spec["seed"], spec["shared_thread"]
    for i in range(spec["commands"]):
        rec.one(
            c.TurnQueue(
                command_id=derived_id("same", seed, str(i)), thread_id=shared,
                queue_item_id=derived_id("same-item", seed, str(i)),
                message_id=derived_id("same-message", seed, str(i)), text=f"same {i}",
            )
        )  # fmt: skip


def main() -> int:
    mode, spec_text = sys.argv[1], sys.argv[2]
    spec = json.loads(spec_text)
    out = Path(spec["out"])
    conn = connect(Path(spec["db"]))
    rec = Recorder(Engine(conn))
    Path(spec["ready"]).touch()
    deadline = time.monotonic() + 60
    while not Path(spec["go"]).exists():
        if time.monotonic() > deadline:
            raise SystemExit("never told to go")
        time.sleep(0.001)
    error = None
    try:
        {"mixed": mixed, "same": same}[mode](rec, spec)
    except BaseException:  # reported to the test, which fails with it
        error = traceback.format_exc()
    finally:
        conn.close()
    out.write_text(json.dumps({"outcomes": rec.outcomes, "error": error}))
    return 1 if error else 0


if __name__ == "__main__":
    raise SystemExit(main())

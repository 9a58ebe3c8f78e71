"""Long streamed replies in the transcript projection: stored once, read back whole.

A message's text stays inline in `messages.text` up to `INLINE_CHARS`; later chunks are recorded
by reference (`message_chunks`: the sequence of the event holding their text), so appending a
chunk never rewrites what came before and the text is not stored a second time beside the log.
The incremental projection, the per-event rebuild and the fast (folded) rebuild agree; a
database whose schema-2 `messages` held the whole text upgrades (to schema 4) to the same rows.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from t3cli.contracts import commands as c
from t3cli.contracts.ids import new_id
from t3cli.engine import Engine
from t3cli.store import message_text, queries
from t3cli.store.db import connect, migration_set
from t3cli.store.projectors.transcript import INLINE_CHARS

from .support import assert_replay_check_ok, project_command, queue_command, thread_command
from .test_fast_rebuild import compare

PROJECTED = ("messages", "message_chunks")
COPIED = (
    "events", "command_receipts", "projection_state", "projects", "threads", "sessions",
    "turns", "queued_turns", "activities", "thread_summaries",
)  # fmt: skip


def rows_of(conn: sqlite3.Connection, table: str) -> list[tuple[object, ...]]:
    return conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()


def long_reply(engine: Engine, chunks: list[str]) -> tuple[str, str]:
    """A thread whose one turn streamed `chunks` as one assistant message; (thread, message)."""
    thread = thread_command()
    engine.dispatch_many([project_command(), thread])
    thread_id = thread.thread_id
    queued = queue_command(thread_id, "write a lot")
    turn_id, message_id = new_id(), new_id()
    reactor: list[c.Command] = [
        queued,
        c.QueuedTurnSendStart(command_id=new_id(), actor="reactor", thread_id=thread_id,
                              queue_item_id=queued.queue_item_id, turn_id=turn_id),
        c.TurnStartedCmd(command_id=new_id(), actor="reactor", thread_id=thread_id,
                         turn_id=turn_id),
    ]  # fmt: skip
    reactor += [
        c.MessageAppend(
            command_id=new_id(), actor="reactor", thread_id=thread_id, turn_id=turn_id,
            message_id=message_id, text=text, complete=n == len(chunks) - 1, chunk=n,
        )
        for n, text in enumerate(chunks)
    ]  # fmt: skip
    reactor.append(
        c.TurnCompletedCmd(command_id=new_id(), actor="reactor", thread_id=thread_id,
                           turn_id=turn_id, status="completed")
    )  # fmt: skip
    for command in reactor:
        engine.dispatch(command)
    return thread_id, message_id


def chunk_texts(n: int, size: int) -> list[str]:
    return [f"{i:06d}" + "é" * (size - 6) for i in range(n)]


def test_a_long_message_spills_by_reference_and_reads_back_whole(
    fresh_db: sqlite3.Connection,
) -> None:
    engine = Engine(fresh_db)
    chunks = chunk_texts(40, 4096)  # 160 KB of text: past INLINE_CHARS
    thread_id, message_id = long_reply(engine, chunks)
    text, spilled, complete = fresh_db.execute(
        "SELECT text, spilled, complete FROM messages WHERE message_id = ?", (message_id,)
    ).fetchone()
    inline = INLINE_CHARS // 4096
    assert text == "".join(chunks[:inline])  # inline up to the limit...
    assert spilled == len(chunks) - inline  # ...then by reference only
    assert complete == 1
    assert fresh_db.execute("SELECT count(*) FROM message_chunks").fetchone()[0] == spilled
    whole = "".join(chunks)
    assert message_text.whole(fresh_db, message_id) == whole
    assert "".join(message_text.pieces(fresh_db, message_id)) == whole
    shown = [m.text for m in queries.thread_messages(fresh_db, thread_id) if m.role == "assistant"]
    assert shown == [whole]
    assert_replay_check_ok(fresh_db)
    compare(fresh_db)  # the fold and the per-event handlers build the same rows


def test_one_huge_first_chunk_and_small_ones_after(fresh_db: sqlite3.Connection) -> None:
    engine = Engine(fresh_db)
    chunks = ["a" * (INLINE_CHARS + 5), "b", "c" * 10]
    _, message_id = long_reply(engine, chunks)
    # The first chunk creates the message (whatever its size); nothing more fits inline.
    assert fresh_db.execute(
        "SELECT length(text), spilled FROM messages WHERE message_id = ?", (message_id,)
    ).fetchone() == (INLINE_CHARS + 5, 2)
    assert message_text.whole(fresh_db, message_id) == "".join(chunks)
    compare(fresh_db)


def test_a_schema_2_database_rebuilds_its_messages_by_reference(tmp_path: Path) -> None:
    current = connect(tmp_path / "current.db")
    engine = Engine(current)
    chunks = chunk_texts(30, 4096)
    _, message_id = long_reply(engine, chunks)
    expected = {t: rows_of(current, t) for t in PROJECTED}

    # The same log as t3cli at schema 2 left it: the whole text concatenated in `messages.text`.
    old_path = tmp_path / "old.db"
    old = sqlite3.connect(old_path, isolation_level=None)
    old.execute("PRAGMA journal_mode=WAL")
    migration_set(2).apply(sqlite_utils.Database(old))
    old.execute("PRAGMA user_version=2")
    old.execute("ATTACH DATABASE ? AS src", (str(tmp_path / "current.db"),))
    for table in (*COPIED, "messages"):  # the columns schema 2 has (later ones added some)
        names = ", ".join(r[1] for r in old.execute(f"PRAGMA main.table_info({table})"))
        old.execute(f"INSERT INTO main.{table} SELECT {names} FROM src.{table}")
    old.execute("DETACH DATABASE src")
    old.execute("UPDATE messages SET text = ? WHERE message_id = ?", ("".join(chunks), message_id))
    old.execute("UPDATE projection_state SET version = 2 WHERE projector = 'messages'")
    old.close()

    upgraded = connect(old_path)
    thread_id = str(upgraded.execute("SELECT thread_id FROM threads").fetchone()[0])
    Engine(upgraded).dispatch(queue_command(thread_id, "more"))  # catches the projection up
    got = {t: rows_of(upgraded, t) for t in PROJECTED}
    new_rows = [row for row in got["messages"] if row not in expected["messages"]]
    assert len(new_rows) == 1 and new_rows[0][4] == "more"  # the message just queued
    assert [r for r in got["messages"] if r not in new_rows] == expected["messages"]
    assert got["message_chunks"] == expected["message_chunks"]
    assert message_text.whole(upgraded, message_id) == "".join(chunks)
    assert_replay_check_ok(upgraded)

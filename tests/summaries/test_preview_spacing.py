"""A reply streamed in chunks previews exactly as the whole reply would (issue #13 point 3: the
chunks' boundary spaces were lost, `explain the` + ` build` became `explain thebuild`), in the
incremental projector and in the fast rebuild alike."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from t3cli.contracts import commands as c
from t3cli.contracts.ids import new_id
from t3cli.engine import Engine
from t3cli.store import queries, replay
from t3cli.store.barrier import ensure_projected
from t3cli.store.projectors.summaries import _preview


def stream_reply(engine: Engine, thread_id: str, chunks: list[str]) -> None:
    """Send a turn on the thread and append its reply as these chunks (as the reactor does)."""
    turn_id = new_id()
    engine.dispatch(
        c.TurnStart(command_id=new_id(), thread_id=thread_id, turn_id=turn_id,
                    message_id=new_id(), text="go")
    )  # fmt: skip
    engine.dispatch(c.TurnStartedCmd(command_id=new_id(), actor="reactor", thread_id=thread_id,
                                     turn_id=turn_id))  # fmt: skip
    message_id = new_id()
    for index, text in enumerate(chunks):
        engine.dispatch(
            c.MessageAppend(command_id=new_id(), actor="reactor", thread_id=thread_id,
                            turn_id=turn_id, message_id=message_id, text=text,
                            complete=index == len(chunks) - 1, chunk=index)
        )  # fmt: skip
    engine.dispatch(c.TurnCompletedCmd(command_id=new_id(), actor="reactor", thread_id=thread_id,
                                       turn_id=turn_id, status="completed"))  # fmt: skip


def preview_of(conn: sqlite3.Connection, thread_id: str) -> str:
    ensure_projected(conn)
    row = queries.get_thread(conn, thread_id)
    assert row is not None
    return row.preview


def test_words_split_across_chunks_keep_their_space(
    engine: Engine, fresh_db: sqlite3.Connection, make_thread: Callable[..., str]
) -> None:
    cases = {
        "explain the build system": ["explain the", " build", " system"],
        "explain the build system ": ["explain the ", "build sys", "tem\n"],
        "a b": ["a", "\n\n", "b"],
        "ab": ["", "a", "b"],
    }
    for expected, chunks in cases.items():
        thread = make_thread(engine)
        stream_reply(engine, thread, chunks)
        assert preview_of(fresh_db, thread) == expected.strip(), chunks
    assert replay.check(fresh_db).difference_count == 0


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.text(alphabet="ab \n\t", max_size=400),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=8),
)
def test_chunked_preview_equals_the_whole_message_preview(
    engine: Engine, fresh_db: sqlite3.Connection, make_thread: Callable[..., str],
    text: str, cuts: list[int],
) -> None:  # fmt: skip
    bounds = sorted({0, len(text), *(min(cut, len(text)) for cut in cuts)})
    chunks = [text[a:b] for a, b in itertools.pairwise(bounds)] or [""]
    thread = make_thread(engine)
    stream_reply(engine, thread, chunks)
    assert preview_of(fresh_db, thread) == _preview(text).rstrip(" ")
    report = replay.check(fresh_db)
    assert report.difference_count == 0, report.differences

"""Line splitting and JSON paths: the pure pieces under every subprocess adapter."""

from __future__ import annotations

import pytest

from t3cli.providers import _stream
from t3cli.providers._stream import LineSplitter, parse_json_object
from t3cli.providers.command import lookup


def test_a_multibyte_character_split_across_chunks_survives() -> None:
    splitter = LineSplitter()
    data = "héllo\nwörld\n".encode()
    cut = data.index("ö".encode()) + 1  # in the middle of the two-byte character
    assert splitter.feed(data[:cut]) == ["héllo"]
    assert splitter.feed(data[cut:]) == ["wörld"]
    assert splitter.flush() == []


def test_last_line_without_newline_and_crlf() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"a\r\nb") == ["a"]
    assert splitter.flush() == ["b"]


def test_an_oversized_line_is_dropped_and_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_stream, "MAX_LINE_BYTES", 10)
    splitter = LineSplitter()
    assert splitter.feed(b"ok\n" + b"x" * 8) == ["ok"]
    assert splitter.feed(b"y" * 8 + b"\nnext\n") == ["next"]
    assert splitter.oversized == 1


@pytest.mark.parametrize("line", ["", "   ", "nope", "[1]", '"s"', '{"a": ', "null"])
def test_non_objects_are_not_events(line: str) -> None:
    assert parse_json_object(line) is None


def test_lookup_follows_dotted_paths_into_lists() -> None:
    obj = {"message": {"content": [{"text": "hi"}]}}
    assert lookup(obj, "message.content.0.text") == "hi"
    assert lookup(obj, "message.missing") is not None  # a sentinel, never a KeyError
    assert lookup(obj, "message.content.5.text") != "hi"


BACKTRACE = "".join(f"  {n:2d}: <unknown>\n" for n in range(12))


@pytest.mark.parametrize(
    ("stderr", "reason"),
    [
        # codex: the Error: line, not the warning before it nor the backtrace after it.
        (
            "WARNING: proceeding, even though we could not create PATH aliases\n"
            "2026-11-26T10:21:16Z ERROR codex_core::session: thread-store conflict\n"
            "Error: thread/resume: thread/resume failed: no rollout found (code -32600)\n\n"
            f"Stack backtrace:\n{BACKTRACE}",
            "Error: thread/resume: thread/resume failed: no rollout found (code -32600)",
        ),
        # No Error: line: the last line that is neither a warning nor a progress note.
        (
            "WARNING: x\nReading additional input from stdin...\n"
            "Not inside a trusted directory and --skip-git-repo-check was not specified.\n",
            "Not inside a trusted directory and --skip-git-repo-check was not specified.",
        ),
        ("WARNING: only a warning\n", ""),
        ("", ""),
    ],
)
def test_the_reason_is_the_error_line_not_warnings_or_backtraces(stderr: str, reason: str) -> None:
    assert _stream.reason_line(stderr) == reason


def test_a_claude_result_without_text_takes_its_reason_from_stderr() -> None:
    from t3cli.providers.claude import ClaudeStream

    parser = ClaudeStream()
    parser.feed_chunk(b'{"type":"result","subtype":"error_during_execution","is_error":true}\n')
    exit = _stream.ProcessExit(1, "WARNING: odd\nError: the model is gone\n", saw_stdout=True)
    assert parser.verdict(exit).error == "claude: error_during_execution: Error: the model is gone"

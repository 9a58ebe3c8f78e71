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

"""`printable`: untrusted text cannot drive the terminal, and nothing is silently dropped."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from t3cli.cli.safe_text import printable


def test_terminal_escapes_become_visible() -> None:
    hostile = "hi\x1b]0;pwned\x07 \x1b[2J\x1b]52;c;Zm9v\x07 \r\x9b31m"
    assert printable(hostile) == "hi\\x1b]0;pwned\\x07 \\x1b[2J\\x1b]52;c;Zm9v\\x07 \\r\\x9b31m"


def test_newlines_and_tabs_are_kept_unless_single_line() -> None:
    assert printable("a\n\tb") == "a\n\tb"
    assert printable("a\n\tb", single_line=True) == "a\\n\\tb"


def test_bidi_overrides_are_shown() -> None:
    assert printable("abc\u202edef\u2066") == "abc\\u202edef\\u2066"


def test_clean_text_is_returned_as_is() -> None:
    text = "plain text, ünïcödé and emoji 🎉"
    assert printable(text) is text


@given(st.text())
def test_no_control_character_survives(text: str) -> None:
    out = printable(text)
    for char in out:
        code = ord(char)
        assert char in "\n\t" or not (code < 0x20 or 0x7F <= code <= 0x9F)
        assert not (0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069)
    # Only ever grows: every unsafe character is replaced, never dropped.
    assert len(out) >= len(text)

"""Untrusted text made safe to print on a terminal.

Agent replies, titles, errors and anything else that came from outside are untrusted: an
`ESC ]0;...` would retitle the user's terminal, `ESC [2J` clear it, `ESC ]52;...` write to the
clipboard, a carriage return overwrite the line before it, and a bidirectional override make
text read differently from what it is.

Guarantees of `printable`:
- The result contains no C0 control character other than newline and tab, no DEL, no C1 control
  (U+0080..U+009F), and no bidirectional embedding, override or isolate (U+202A..U+202E,
  U+2066..U+2069).
- Each such character is replaced by a visible escape (`\\x1b`, `\\r`, `\\u202e`), so nothing the
  agent wrote is silently dropped and the user can see that it was there.
- Text without such characters is returned unchanged (the same object), at the cost of one scan.

Human-readable output uses it; `--json` and `t3 events` keep the exact text.
"""

from __future__ import annotations

import re
from typing import Final

_NAMED: Final = {"\r": "\\r", "\x1b": "\\x1b", "\b": "\\b", "\f": "\\f", "\v": "\\v", "\0": "\\0"}

# C0 controls except \t (0x09) and \n (0x0a), DEL, C1 controls, and the bidi embeddings,
# overrides and isolates.
_UNSAFE: Final = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_OR_NEWLINE: Final = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str, *, single_line: bool = False) -> str:
    """`text` with every control character shown as a visible escape (see the module docstring).

    `single_line=True` also escapes newlines and tabs (`\\n`, `\\t`), for a field that must stay
    on one line; callers that flatten whitespace themselves keep the default.
    """
    pattern = _UNSAFE_OR_NEWLINE if single_line else _UNSAFE
    if pattern.search(text) is None:
        return text
    if single_line:
        return pattern.sub(lambda m: {"\n": "\\n", "\t": "\\t"}.get(m.group()) or _escape(m), text)
    return pattern.sub(_escape, text)

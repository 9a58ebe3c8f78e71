"""Reading an agent's stdout: line splitting, lenient JSON, and the parser protocol.

A `StreamParser` turns stdout into runtime events for one protocol (codex, claude, command). It is
pure: it never does I/O, so it is tested with plain strings, and the subprocess plumbing
(`_subprocess_turn`) is shared by every adapter.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final, Protocol

from t3cli.contracts.runtime import RuntimeEvent, TurnCompleted

# A single JSON line can be megabytes (a large diff, a file read by a tool). Beyond this one line
# is dropped (and counted as skipped) rather than held in memory.
MAX_LINE_BYTES: Final = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ProcessExit:
    """How the agent process ended, for a parser's verdict."""

    returncode: int  # negative N: killed by signal N
    stderr_tail: str
    saw_stdout: bool  # any byte at all on stdout


class StreamParser(Protocol):
    """Protocol-specific mapping of stdout to runtime events."""

    skipped: int  # lines that were not JSON, or of an unknown type; reported once at the end

    def feed_chunk(self, chunk: bytes) -> list[RuntimeEvent]:
        """Events for a raw stdout chunk (most parsers split lines with `LineSplitter`)."""
        ...

    def finish(self, exit: ProcessExit) -> list[RuntimeEvent]:
        """Events owed at end of output (a pending last line, text, usage); no TurnCompleted."""
        ...

    def verdict(self, exit: ProcessExit) -> TurnCompleted:
        """The turn's outcome from the terminal event seen (if any) and the exit status."""
        ...

    def succeeded(self) -> bool:
        """Whether the stream itself reported success (terminal success event seen)."""
        ...


class LineSplitter:
    """Splits a byte stream into lines (without the newline), decoded with errors replaced.

    Splitting happens on bytes, so a multi-byte UTF-8 character cut across two chunks is rejoined
    before decoding. An over-long line is dropped and counted in `oversized`.
    """

    def __init__(self) -> None:
        self._pending = bytearray()
        self._dropping = False
        self.oversized = 0

    def feed(self, chunk: bytes) -> list[str]:
        lines: list[str] = []
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                break
            self._take(chunk[start:end], lines, complete=True)
            start = end + 1
        self._take(chunk[start:], lines, complete=False)
        return lines

    def flush(self) -> list[str]:
        """The last line when output did not end with a newline."""
        lines: list[str] = []
        if self._pending and not self._dropping:
            lines.append(_decode(bytes(self._pending)))
        self._pending.clear()
        self._dropping = False
        return lines

    def _take(self, piece: bytes, lines: list[str], *, complete: bool) -> None:
        if not self._dropping:
            self._pending += piece
            if len(self._pending) > MAX_LINE_BYTES:
                self._pending.clear()
                self._dropping = True
                self.oversized += 1
        if complete:
            if not self._dropping:
                lines.append(_decode(bytes(self._pending)))
            self._pending.clear()
            self._dropping = False


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace").rstrip("\r")


def parse_json_object(line: str) -> dict[str, Any] | None:
    """The line as a JSON object, or None for blank lines, garbage, or non-object JSON."""
    text = line.strip()
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def generic_failure(exit: ProcessExit, agent: str) -> TurnCompleted:
    """The outcome when the stream gave no verdict of its own: from the exit status and stderr."""
    tail = reason_line(exit.stderr_tail)
    if exit.returncode < 0:
        error = f"{agent} exited with signal {-exit.returncode}"
    elif exit.returncode != 0:
        error = f"{agent} exited with code {exit.returncode}"
    elif exit.saw_stdout:
        error = f"{agent} exited before finishing the turn"
    else:
        error = f"{agent} exited without any output"
    return TurnCompleted("failed", error=f"{error}: {tail}" if tail else error)


def last_line(text: str, limit: int = 500) -> str:
    """The last non-empty line of `text`, shortened to `limit` characters (for one-line errors)."""
    for raw in reversed(text.splitlines()):
        line = raw.strip()
        if line:
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""


# Lines of an agent's stderr that never say why it failed: warnings it prints on every run (codex
# under a temporary CODEX_HOME: "WARNING: proceeding, even though ..."), a Rust backtrace
# ("Stack backtrace:", "  11: <unknown>", "at src/main.rs:4"), and its log lines below ERROR.
_NOISE = re.compile(
    r"^(WARNING:|warning:|Stack backtrace:|\d+: |at \S|Reading (additional input|prompt) from"
    r" stdin|\d{4}-\d\d-\d\dT\S+\s+(WARN|INFO|DEBUG|TRACE)\b)"
)
_ERROR_LINE = re.compile(r"^(Error|error)(\[\w+\])?: ")


def reason_line(stderr: str, limit: int = 500) -> str:
    """The line of an agent's stderr that says why it failed, shortened to `limit` characters.

    The last `Error: ...` line when there is one (what a Rust CLI prints on failure); else the last
    line that is not noise (warnings, backtrace frames, progress notes); else "".
    """
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    meaningful = [line for line in lines if not _NOISE.match(line)]
    errors = [line for line in meaningful if _ERROR_LINE.match(line)]
    chosen = errors[-1] if errors else meaningful[-1] if meaningful else ""
    return chosen if len(chosen) <= limit else chosen[: limit - 1] + "…"


def shorten(text: str, limit: int = 200) -> str:
    """One line of at most `limit` characters, for activity summaries."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def tail(text: str, limit: int = 2000) -> str:
    """The end of `text` (command output can be huge; the end says what happened)."""
    return text if len(text) <= limit else "…" + text[-(limit - 1) :]

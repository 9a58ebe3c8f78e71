"""Keys pressed in the live view: the terminal in cbreak mode, read without blocking the loop.

Guarantees of `TerminalKeys`:
- Only for a terminal: the caller checks `isatty` first; the class refuses anything else.
- cbreak mode (no line buffering, no echo; Ctrl-C still sends SIGINT) lasts exactly as long as
  the `with` block: the saved terminal attributes are restored when it exits, by an exception
  or a signal handled by the event loop (SIGINT, SIGTERM) included. `suspend()`/`resume()`
  restore and re-apply them around a Ctrl-Z.
- Reading never blocks the event loop: bytes are read from the loop's reader callback only
  when the terminal has some, and decoded by `KeyDecoder` into key names for `on_key`.
"""

from __future__ import annotations

import asyncio
import os
import termios
import tty
from collections.abc import Callable
from types import TracebackType
from typing import Any

# Escape sequences of the arrow keys (normal and application cursor mode).
_SEQUENCES = {
    b"\x1b[A": "up", b"\x1b[B": "down", b"\x1bOA": "up", b"\x1bOB": "down",
    b"\x1b[C": "right", b"\x1b[D": "left", b"\x1bOC": "right", b"\x1bOD": "left",
}  # fmt: skip
_LONGEST = max(len(s) for s in _SEQUENCES)


def in_foreground(fd: int) -> bool:
    """True when `fd` is a terminal whose foreground process group is ours: only then may we
    change its mode and read it (a background job, `t3 run &`, would be stopped by SIGTTOU or
    SIGTTIN for trying)."""
    try:
        return os.isatty(fd) and os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False


class KeyDecoder:
    """Bytes from the terminal → key names: `up`, `down`, `left`, `right`, or the character
    itself (lower-cased letters). Unknown escape sequences are skipped whole; a sequence split
    between two reads is completed by the next one."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, data: bytes) -> list[str]:
        buffer = self._pending + data
        self._pending = b""
        keys: list[str] = []
        index = 0
        while index < len(buffer):
            if buffer[index] == 0x1B:
                chunk = buffer[index : index + _LONGEST]
                name = _SEQUENCES.get(chunk)
                if name is not None:
                    keys.append(name)
                    index += _LONGEST
                    continue
                if len(chunk) < _LONGEST and any(s.startswith(chunk) for s in _SEQUENCES):
                    self._pending = chunk  # the rest of the sequence comes with the next read
                    break
                index += self._skip_escape(buffer, index)
                continue
            char = chr(buffer[index])
            if char.isprintable():
                keys.append(char.lower())
            index += 1
        return keys

    @staticmethod
    def _skip_escape(buffer: bytes, index: int) -> int:
        """Length of the escape sequence at `index` (ESC [ params final, or ESC + one byte)."""
        if index + 1 < len(buffer) and buffer[index + 1] in (0x5B, 0x4F):  # '[' or 'O'
            end = index + 2
            while end < len(buffer) and not 0x40 <= buffer[end] <= 0x7E:
                end += 1
            return end - index + 1
        return 2 if index + 1 < len(buffer) else 1


class TerminalKeys:
    """`with TerminalKeys(fd, on_key):` — see the module docstring. Use inside a running loop."""

    def __init__(self, fd: int, on_key: Callable[[str], None]) -> None:
        if not os.isatty(fd):
            raise ValueError("TerminalKeys needs a terminal")
        self._fd = fd
        self._on_key = on_key
        self._decoder = KeyDecoder()
        self._saved: list[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __enter__(self) -> TerminalKeys:
        self._loop = asyncio.get_running_loop()
        self._saved = termios.tcgetattr(self._fd)
        self.resume()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.suspend()

    def resume(self) -> None:
        """cbreak mode on, keys delivered (again)."""
        assert self._loop is not None
        tty.setcbreak(self._fd, termios.TCSANOW)
        self._loop.add_reader(self._fd, self._readable)

    def suspend(self) -> None:
        """Keys no longer read; the terminal as it was before."""
        if self._loop is not None:
            self._loop.remove_reader(self._fd)
        if self._saved is not None:
            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)

    def _readable(self) -> None:
        try:
            data = os.read(self._fd, 1024)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # the terminal went away: stop reading it
            assert self._loop is not None
            self._loop.remove_reader(self._fd)
            return
        if not data:
            assert self._loop is not None
            self._loop.remove_reader(self._fd)
            return
        for key in self._decoder.feed(data):
            self._on_key(key)

"""A command agent that prints N bytes of plain text to stdout, for `bench/_long_reply.py`.

    python _long_reply_agent.py N

Lines of 79 ASCII characters and a newline (the last line may be shorter), written in 64 KB
blocks as fast as the pipe takes them; its own memory stays at one block. The message on stdin
is read and ignored.
"""

from __future__ import annotations

import sys

LINE = (b"the quick brown fox jumps over the lazy dog " * 2)[:79] + b"\n"
BLOCK = LINE * (65536 // len(LINE))


def main() -> None:
    total = int(sys.argv[1])
    sys.stdin.buffer.read()
    out = sys.stdout.buffer
    left = total
    while left > 0:
        piece = BLOCK[:left]
        out.write(piece)
        left -= len(piece)
    out.flush()


if __name__ == "__main__":
    main()

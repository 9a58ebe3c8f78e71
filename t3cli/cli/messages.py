"""Reading a MESSAGE argument: literal text, or `-` for standard input.

Guarantees: the returned text is valid Unicode, not blank, and within the configured size limit,
so a command that creates something before sending a message (`t3 new`) can check the message
first and never leave half its work behind. Failures are `UsageError` (exit code 2) saying what
was wrong with the input and what to do.
"""

from __future__ import annotations

from t3cli.cli.env import Env
from t3cli.errors import UsageError

TITLE_CHARS = 60


def _read_stdin(env: Env) -> str:
    if env.stdin_isatty:
        # A person typing: say how to finish, on stderr so stdout stays clean.
        env.stderr.write("reading the message from standard input; end it with Ctrl-D\n")
    buffer = getattr(env.stdin, "buffer", None)
    try:
        if buffer is not None:
            # Decode ourselves: the locale's encoding may not be UTF-8, and undecodable bytes
            # must be an error, never silently replaced characters sent to an agent.
            data: bytes = buffer.read()
            return data.decode("utf-8")
        return env.stdin.read()
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"standard input is not valid UTF-8 text (invalid byte at offset {exc.start})",
            hint="convert it first, e.g. `iconv -f LATIN1 -t UTF-8 file | t3 ...`",
        ) from None


def read_message(env: Env, message: str, *, max_chars: int | None = None) -> str:
    """The message text for `message` (`-` reads all of standard input).

    Trailing newlines from stdin are dropped (as shell command substitution does); everything
    else is kept verbatim. Raises `UsageError` for blank text, invalid UTF-8 on stdin, or text
    longer than `max_chars`."""
    text = _read_stdin(env).rstrip("\r\n") if message == "-" else message
    if not text.strip():
        source = "standard input was empty" if message == "-" else "the message is empty"
        raise UsageError(source, hint="give the message as an argument, or `-` to pipe it in")
    if max_chars is not None and len(text) > max_chars:
        raise UsageError(
            f"the message is {len(text):,} characters; the limit is {max_chars:,}",
            hint="shorten it, or raise max_message_chars in config.toml",
        )
    return text


def title_from_message(text: str, fallback: str) -> str:
    """A thread title: the message's first non-blank line, cut to 60 characters; else `fallback`."""
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if line:
            return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"
    return fallback

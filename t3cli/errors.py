"""Exit codes and the user-facing error type.

Every expected failure a user can hit is a `T3Error` carrying an `ExitCode`, a one-line message
saying what happened and, where there is one, a hint saying what to do. The CLI prints these
without a traceback; anything else is a bug and exits with `ExitCode.ERROR`.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The documented exit codes of `t3` (README, "Exit codes")."""

    OK = 0
    ERROR = 1  # an unusable database (not SQLite, corrupt, read-only, full, newer), or a bug
    USAGE = 2  # bad arguments, ambiguous reference, invalid input
    REJECTED = 3  # the command broke an invariant (thread busy, item not retryable, ...)
    NOT_FOUND = 4  # no such thread, project, queue item or provider
    PROVIDER_FAILURE = 5  # a turn failed or timed out, or the agent could not be run
    DB_BUSY = 6  # the database stayed locked past the busy timeout
    INTERRUPTED = 130  # SIGINT (Ctrl-C)
    TERMINATED = 143  # SIGTERM


class T3Error(Exception):
    """An expected failure: printed as `error: MESSAGE` plus `hint: HINT`, exits with `code`."""

    code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, *, hint: str | None = None, code: ExitCode | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code is not None:
            self.code = code


class UsageError(T3Error):
    code = ExitCode.USAGE


class NotFound(T3Error):
    code = ExitCode.NOT_FOUND


class Rejected(T3Error):
    code = ExitCode.REJECTED


class ProviderError(T3Error):
    code = ExitCode.PROVIDER_FAILURE


class DatabaseError(T3Error):
    """The database is unusable: not SQLite, corrupt, read-only, full, or of a newer schema."""

    code = ExitCode.ERROR


class DatabaseCorrupt(DatabaseError):
    """The database file is damaged (SQLite says "malformed"/"corrupt"); see `store.corruption`.
    `detail` is what was found (SQLite's own words), without the path."""

    def __init__(self, message: str, *, hint: str | None = None, detail: str | None = None):
        super().__init__(message, hint=hint)
        self.detail = detail or message


class DatabaseLocked(DatabaseError):
    """Another process held the write lock past the busy timeout."""

    code = ExitCode.DB_BUSY


class ConfigError(T3Error):
    code = ExitCode.USAGE

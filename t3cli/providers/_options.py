"""Validated provider options: one pydantic model per kind, built from a `[providers.NAME]` table.

`parse_options(name, kind, table)` is the only entry point. It guarantees:

- unknown keys and wrong types are a `ConfigError` naming the full key (`providers.NAME.KEY`);
- values of `env` are never echoed in an error (they are often secrets);
- timeouts are resolved: an absent key takes the kind's default (60 s start / 3600 s turn for agent
  processes, none for echo), `0` disables that timeout, and `timeout_s` is accepted as another name
  for `turn_timeout_s` (PROTOCOLS.md uses it).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from t3cli.errors import ConfigError

KINDS = ("echo", "codex", "claude", "command")
_AGENT_DEFAULT_START_S = 60.0
_AGENT_DEFAULT_TURN_S = 3600.0


class CommonOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    kind: str
    model: str | None = None
    start_timeout_s: float | None = Field(default=None, ge=0)
    turn_timeout_s: float | None = Field(default=None, ge=0)
    timeout_s: float | None = Field(default=None, ge=0)
    env: dict[str, str] = Field(default_factory=dict)
    extra_args: list[str] = Field(default_factory=list)
    interrupt_grace_s: float = Field(default=3.0, gt=0)

    @model_validator(mode="after")
    def _one_turn_timeout(self) -> CommonOptions:
        if self.timeout_s is not None and self.turn_timeout_s is not None:
            raise ValueError("set turn_timeout_s or timeout_s, not both")
        return self

    def resolved_timeouts(self) -> tuple[float | None, float | None]:
        """(start, turn) in seconds; None means no limit."""
        agent = self.kind != "echo"
        start = self.start_timeout_s
        turn = self.turn_timeout_s if self.turn_timeout_s is not None else self.timeout_s
        if start is None:
            start = _AGENT_DEFAULT_START_S if agent else None
        if turn is None:
            turn = _AGENT_DEFAULT_TURN_S if agent else None
        return (start or None, turn or None)


class EchoOptions(CommonOptions):
    kind: Literal["echo"] = "echo"
    delay_s: float = Field(default=0.0, ge=0)
    chunk_chars: int | None = Field(default=None, gt=0)
    fail_pattern: str | None = None
    hang_pattern: str | None = None
    hang_at: Literal["start", "turn"] = "turn"

    @field_validator("fail_pattern", "hang_pattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression ({exc})") from None
        return value


class CodexOptions(CommonOptions):
    kind: Literal["codex"] = "codex"
    binary: str = Field(default="codex", min_length=1)
    sandbox: str | None = Field(default=None, min_length=1)
    skip_git_repo_check: bool = False


class ClaudeOptions(CommonOptions):
    kind: Literal["claude"] = "claude"
    binary: str = Field(default="claude", min_length=1)
    permission_mode: str | None = Field(default=None, min_length=1)
    allowed_tools: list[str] = Field(default_factory=list)
    max_turns: int | None = Field(default=None, gt=0)


class CommandOptions(CommonOptions):
    kind: Literal["command"] = "command"
    argv: list[str] = Field(min_length=1)
    input: Literal["stdin", "arg"] = "stdin"
    output: Literal["text", "jsonl"] = "text"
    text_path: str | None = Field(default=None, min_length=1)
    text_match: dict[str, str | int | bool] = Field(default_factory=dict)
    session_id_path: str | None = Field(default=None, min_length=1)
    resume_args: list[str] = Field(default_factory=list)
    # How to ask the executable its version (`t3 providers`, `t3 doctor`), e.g. ["--version"];
    # absent: never run it just for that (a script's `--version` may run a whole agent turn).
    version_args: list[str] | None = None

    @field_validator("argv")
    @classmethod
    def _argv0(cls, value: list[str]) -> list[str]:
        if not value[0]:
            raise ValueError("the first element (the executable) must not be empty")
        return value

    @field_validator("resume_args")
    @classmethod
    def _resume_has_id(cls, value: list[str]) -> list[str]:
        if value and not any("{session_id}" in arg for arg in value):
            raise ValueError("must contain '{session_id}' in one of its elements")
        return value

    @model_validator(mode="after")
    def _jsonl_needs_text_path(self) -> CommandOptions:
        if self.output == "jsonl" and self.text_path is None:
            raise ValueError('text_path is required when output = "jsonl"')
        return self


AnyOptions = EchoOptions | CodexOptions | ClaudeOptions | CommandOptions
_MODELS: dict[str, type[AnyOptions]] = {
    "echo": EchoOptions,
    "codex": CodexOptions,
    "claude": ClaudeOptions,
    "command": CommandOptions,
}


def parse_options(
    name: str, kind: object, table: dict[str, Any], config_path: Path | None
) -> AnyOptions:
    """Validate `[providers.NAME]` for `kind`; raises `ConfigError` naming the offending key."""
    where = f" in {config_path}" if config_path else ""
    hint = "fix the value in the config file (`t3 config path` shows where it is)"
    if not isinstance(kind, str) or kind not in _MODELS:
        shown = repr(kind) if isinstance(kind, str) else f"of type {type(kind).__name__}"
        raise ConfigError(
            f"config key 'providers.{name}.kind'{where}: unknown provider kind {shown} "
            f"(expected one of: {', '.join(KINDS)})",
            hint=hint,
        )
    try:
        return _MODELS[kind].model_validate({**table, "kind": kind})
    except ValidationError as exc:
        raise ConfigError(_describe(name, exc, where), hint=hint) from None


def table_problems(
    name: str, kind: object, table: dict[str, Any], config_path: Path | None
) -> list[str]:
    """Every problem of `[providers.NAME]` (for `t3 doctor`), each naming its key; [] if valid."""
    if not isinstance(kind, str) or kind not in _MODELS:
        try:
            parse_options(name, kind, table, config_path)
        except ConfigError as exc:  # the unknown kind
            return [exc.message]
    where = f" in {config_path}" if config_path else ""
    try:
        _MODELS[str(kind)].model_validate({**table, "kind": kind})
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        return [_describe_one(name, error, where) for error in errors]
    return []


def _describe(name: str, exc: ValidationError, where: str) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return _describe_one(name, errors[0], where) + more


def _describe_one(name: str, error: Any, where: str) -> str:
    loc = [str(part) for part in error["loc"]]
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown option for this provider kind"
    elif error["type"] == "missing":
        message = "is required"
    if loc and loc[0] == "env":
        # env values can be secrets: name the variable, never the value.
        loc = loc[:2]
    key = ".".join(["providers", name, *loc])
    return f"config key {key!r}{where}: {message}"

"""The `command` provider: any command-line model (`llm -m MODEL`, `gemini -p`, `aider --message`).

argv for one turn: `argv` (with `{message}` and `{model}` substituted inside elements), then
`extra_args`, then `resume_args` (with `{session_id}`; only when resuming a session id that came
from the agent's own output), then the message as the last argument when `input = "arg"` and no
element holds `{message}`. Otherwise the message is written to stdin, which is then closed
(`input = "stdin"`, the default); when the message is in argv, stdin is /dev/null.

Output `text`: stdout is the reply, streamed as TextDelta and completed as one TextCompleted; the
session id is `local-` + thread id (deterministic, so such a provider cannot resume). Output
`jsonl`: each JSON line that has a string at `text_path` (and matches every `text_match`
path = value) adds a delta of the reply; `session_id_path` gives the session id. SessionStarted
is sent at the first line that carries a session id, or before the first text if none did (then
with the local id). Success is exit status 0; otherwise the turn fails with the exit status and
the stderr tail.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Any

from t3cli.contracts.runtime import (
    RuntimeEvent,
    SessionStarted,
    TextCompleted,
    TextDelta,
    TurnCompleted,
    TurnStarted,
)
from t3cli.providers._check import check_executable
from t3cli.providers._options import CommandOptions
from t3cli.providers._provider import ProviderBase
from t3cli.providers._stream import LineSplitter, ProcessExit, generic_failure, parse_json_object
from t3cli.providers._subprocess_turn import SubprocessTurn
from t3cli.providers.base import ProviderCheck, TurnRequest, TurnRun

_MISSING = object()


def local_session_id(thread_id: str) -> str:
    """The session id reported when the agent's output carries none (cannot be resumed)."""
    return f"local-{thread_id}"


def build_command_argv(
    options: CommandOptions, request: TurnRequest, model: str | None
) -> tuple[list[str], bytes | None]:
    """(argv, stdin bytes or None for /dev/null); ValueError for `{model}` without a model."""
    in_argv = any("{message}" in arg for arg in options.argv)
    argv: list[str] = []
    for template in options.argv:
        arg = template
        if "{model}" in arg:
            if not model:
                raise ValueError("argv uses {model} but no model is set")
            arg = arg.replace("{model}", model)
        argv.append(arg.replace("{message}", request.message))
    argv += options.extra_args
    resume = request.resume_session_id
    if resume and options.resume_args and resume != local_session_id(request.thread_id):
        argv += [arg.replace("{session_id}", resume) for arg in options.resume_args]
    if in_argv:
        return argv, None
    if options.input == "arg":
        return [*argv, request.message], None
    return argv, request.message.encode("utf-8")


class CommandProvider(ProviderBase):
    kind = "command"

    def __init__(self, name: str, options: CommandOptions) -> None:
        super().__init__(name, options)
        self._options = options

    def _open_turn(self, request: TurnRequest) -> TurnRun:
        options = self._options
        try:
            argv, stdin_data = build_command_argv(options, request, self._model_for(request))
        except ValueError as exc:
            from t3cli.providers._failed import FailedTurn

            return FailedTurn(f"{exc} (set providers.{self.name}.model in config.toml)")
        label = Path(options.argv[0]).name
        parser: TextStream | JsonlStream
        if options.output == "text":
            parser = TextStream(request, label)
        else:
            parser = JsonlStream(request, label, options)
        return SubprocessTurn(
            argv,
            cwd=request.cwd,
            env_extra=options.env,
            stdin_data=stdin_data,
            parser=parser,
            label=label,
            binary_key=f"providers.{self.name}.argv",
            interrupt_grace_s=options.interrupt_grace_s,
        )

    def check(self) -> ProviderCheck:
        return check_executable(
            name=self.name,
            kind=self.kind,
            binary=self._options.argv[0],
            binary_key=f"providers.{self.name}.argv",
            env_extra=self._options.env,
            version_args=self._options.version_args,
        )


class _ReplyStream:
    """What both output modes share: starting the session once, and collecting the reply."""

    def __init__(self, request: TurnRequest, label: str) -> None:
        self.skipped = 0
        self._label = label
        self._request = request
        self._started = False
        self._item_id = f"{request.turn_id}:reply"
        self._reply: list[str] = []

    def _start(self, session_id: str | None) -> list[RuntimeEvent]:
        if self._started:
            return []
        self._started = True
        session = session_id or local_session_id(self._request.thread_id)
        return [SessionStarted(session), TurnStarted()]

    def _delta(self, text: str) -> list[RuntimeEvent]:
        if not text:
            return []
        self._reply.append(text)
        return [*self._start(None), TextDelta(self._item_id, text)]

    def _completed_reply(self) -> list[RuntimeEvent]:
        return [*self._start(None), TextCompleted(self._item_id, "".join(self._reply))]

    def succeeded(self) -> bool:
        return False  # only the exit status says; see verdict()

    def verdict(self, exit: ProcessExit) -> TurnCompleted:
        if exit.returncode == 0:
            return TurnCompleted("completed")
        return generic_failure(exit, f"{self._label}: agent")


class TextStream(_ReplyStream):
    """stdout is the reply; decoded incrementally so multi-byte characters survive chunking."""

    def __init__(self, request: TurnRequest, label: str) -> None:
        super().__init__(request, label)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed_chunk(self, chunk: bytes) -> list[RuntimeEvent]:
        return self._delta(self._decoder.decode(chunk))

    def finish(self, exit: ProcessExit) -> list[RuntimeEvent]:
        events = self._delta(self._decoder.decode(b"", final=True))
        if exit.returncode != 0 and not self._reply:
            return events  # nothing was said: the verdict carries the failure
        return events + self._completed_reply()


class JsonlStream(_ReplyStream):
    """JSON lines mapped by `text_path`, `text_match` and `session_id_path`."""

    def __init__(self, request: TurnRequest, label: str, options: CommandOptions) -> None:
        super().__init__(request, label)
        assert options.text_path is not None
        self._text_path = options.text_path
        self._match = options.text_match
        self._session_path = options.session_id_path
        self._lines = LineSplitter()

    def feed_chunk(self, chunk: bytes) -> list[RuntimeEvent]:
        events: list[RuntimeEvent] = []
        for line in self._lines.feed(chunk):
            events += self._line(line)
        return events

    def finish(self, exit: ProcessExit) -> list[RuntimeEvent]:
        events: list[RuntimeEvent] = []
        for line in self._lines.flush():
            events += self._line(line)
        self.skipped += self._lines.oversized
        if exit.returncode != 0 and not self._reply:
            return events
        return events + self._completed_reply()

    def _line(self, line: str) -> list[RuntimeEvent]:
        if not line.strip():
            return []
        obj = parse_json_object(line)
        if obj is None:
            self.skipped += 1
            return []
        events: list[RuntimeEvent] = []
        if self._session_path and not self._started:
            session_id = lookup(obj, self._session_path)
            if (
                isinstance(session_id, str | int)
                and not isinstance(session_id, bool)
                and str(session_id)
            ):
                events += self._start(str(session_id))
        text = lookup(obj, self._text_path)
        if isinstance(text, str) and self._matches(obj):
            events += self._delta(text)
        return events

    def _matches(self, obj: dict[str, Any]) -> bool:
        return all(lookup(obj, path) == want for path, want in self._match.items())


def lookup(obj: object, path: str) -> object:
    """The value at a dotted path ("message.content", "choices.0.text"), else a sentinel."""
    value: object = obj
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value

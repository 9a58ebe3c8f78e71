"""The `claude` provider: one `claude -p --output-format stream-json --verbose` process per turn.

    claude -p --output-format stream-json --verbose [--model M] [--permission-mode MODE]
           [--allowedTools "A,B"] [--max-turns N] [--resume UUID] [extra_args] PROMPT

`--verbose` is mandatory with stream-json. stdin is /dev/null. The session id is read from the
`system/init` line (never `--continue`, never invented); `--resume` gets it from the second turn.

Mapping: `system/init` → SessionStarted + TurnStarted; each assistant message → one TextCompleted of
its text blocks (item id = message id), `thinking` → reasoning, `tool_use` → Activity tool_call
(in_progress); `tool_result` → that tool call completed, or failed when `is_error`; an assistant
line's top-level `error` → Activity error. A subagent's text (non-null `parent_tool_use_id`) is
reported as reasoning, not as the reply. The `result` line decides the outcome: subtype `success`
and not `is_error` → completed; otherwise failed with the subtype (and the result text, if any).
`total_cost_usd` and `usage` → Usage. Other `system` subtypes are informational and ignored.
"""

from __future__ import annotations

from typing import Any

from t3cli.contracts.runtime import (
    Activity,
    RuntimeEvent,
    SessionStarted,
    TextCompleted,
    TurnCompleted,
    TurnStarted,
    Usage,
)
from t3cli.providers._agent_cli import AgentCliProvider
from t3cli.providers._options import ClaudeOptions
from t3cli.providers._stream import (
    LineSplitter,
    ProcessExit,
    generic_failure,
    parse_json_object,
    shorten,
    tail,
)
from t3cli.providers.base import TurnRequest


def build_claude_argv(options: ClaudeOptions, request: TurnRequest, model: str | None) -> list[str]:
    """The argv for one turn; the prompt is last."""
    argv = [options.binary, "-p", "--output-format", "stream-json", "--verbose"]
    if model:
        argv += ["--model", model]
    if options.permission_mode:
        argv += ["--permission-mode", options.permission_mode]
    if options.allowed_tools:
        argv += ["--allowedTools", ",".join(options.allowed_tools)]
    if options.max_turns is not None:
        argv += ["--max-turns", str(options.max_turns)]
    if request.resume_session_id:
        argv += ["--resume", request.resume_session_id]
    argv += options.extra_args
    if request.message.startswith("-"):
        argv.append("--")  # a message like "-v please" must not be parsed as a flag
    argv.append(request.message)
    return argv


class ClaudeProvider(AgentCliProvider):
    kind = "claude"

    def __init__(self, name: str, options: ClaudeOptions) -> None:
        super().__init__(name, options)
        self._options = options

    def _argv(self, request: TurnRequest) -> list[str]:
        return build_claude_argv(self._options, request, self._model_for(request))

    def _parser(self) -> ClaudeStream:
        return ClaudeStream()


class ClaudeStream:
    """Parser for `claude -p --output-format stream-json` output (a `StreamParser`)."""

    def __init__(self) -> None:
        self.skipped = 0
        self._lines = LineSplitter()
        self._outcome: TurnCompleted | None = None
        self._session_started = False
        self._last_error: str | None = None

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
        return events

    def succeeded(self) -> bool:
        return self._outcome is not None and self._outcome.status == "completed"

    def verdict(self, exit: ProcessExit) -> TurnCompleted:
        if self._outcome is not None and self._outcome.status == "failed":
            return self._outcome
        if self._outcome is not None and exit.returncode == 0:
            return self._outcome
        failure = generic_failure(exit, "claude: agent")
        if self._last_error and exit.returncode != 0:
            return TurnCompleted("failed", error=f"{failure.error} ({self._last_error})")
        return failure

    def _line(self, line: str) -> list[RuntimeEvent]:
        if not line.strip():
            return []
        event = parse_json_object(line)
        kind = event.get("type") if event else None
        if event is None or not isinstance(kind, str):
            self.skipped += 1
            return []
        if kind == "system":
            return self._system(event)
        if kind == "assistant":
            return self._assistant(event)
        if kind == "user":
            return self._user(event)
        if kind == "result":
            return self._result(event)
        self.skipped += 1
        return []

    def _system(self, event: dict[str, Any]) -> list[RuntimeEvent]:
        session_id = event.get("session_id")
        if (
            event.get("subtype") != "init"
            or self._session_started
            or not isinstance(session_id, str)
        ):
            return []  # status, compact_boundary, hooks...: informational
        self._session_started = True
        return [SessionStarted(session_id), TurnStarted()]

    def _assistant(self, event: dict[str, Any]) -> list[RuntimeEvent]:
        message = event.get("message")
        if not isinstance(message, dict):
            self.skipped += 1
            return []
        events: list[RuntimeEvent] = []
        error = event.get("error")
        if isinstance(error, str) and error:
            self._last_error = error
            events.append(Activity("error", f"claude: {error}", detail={"error": error}))
        subagent = event.get("parent_tool_use_id")
        texts: list[str] = []
        for block in message.get("content") or []:
            if not isinstance(block, dict):
                continue
            block_type = block.get("type")
            if block_type == "text" and isinstance(block.get("text"), str):
                texts.append(block["text"])
            elif block_type == "thinking" and isinstance(block.get("thinking"), str):
                events.append(Activity("reasoning", shorten(block["thinking"])))
            elif block_type == "tool_use":
                name = str(block.get("name", "tool"))
                tool_input = block.get("input")
                events.append(
                    Activity(
                        "tool_call",
                        _tool_summary(name, tool_input),
                        item_id=block.get("id") if isinstance(block.get("id"), str) else None,
                        status="in_progress",
                        detail={"name": name, "input": tool_input, "parent_tool_use_id": subagent},
                    )
                )
        if texts:
            text = "".join(texts)
            if subagent is None:
                item_id = message.get("id") if isinstance(message.get("id"), str) else "message"
                events.append(TextCompleted(str(item_id), text))
            else:
                events.append(
                    Activity("reasoning", shorten(text), detail={"parent_tool_use_id": subagent})
                )
        return events

    def _user(self, event: dict[str, Any]) -> list[RuntimeEvent]:
        message = event.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        events: list[RuntimeEvent] = []
        for block in content if isinstance(content, list) else []:
            if not isinstance(block, dict) or block.get("type") != "tool_result":
                continue
            failed = bool(block.get("is_error"))
            output = _result_text(block.get("content"))
            tool_id = block.get("tool_use_id")
            events.append(
                Activity(
                    "tool_call",
                    f"tool failed: {shorten(output)}" if failed else "tool finished",
                    item_id=tool_id if isinstance(tool_id, str) else None,
                    status="failed" if failed else "completed",
                    detail={"output_tail": tail(output)},
                )
            )
        return events

    def _result(self, event: dict[str, Any]) -> list[RuntimeEvent]:
        subtype = str(event.get("subtype", "unknown"))
        if subtype == "success" and not event.get("is_error"):
            self._outcome = TurnCompleted("completed")
        else:
            text = event.get("result")
            detail = f": {shorten(text, 500)}" if isinstance(text, str) and text else ""
            self._outcome = TurnCompleted("failed", error=f"claude: {subtype}{detail}")
        usage = event.get("usage") if isinstance(event.get("usage"), dict) else {}
        assert isinstance(usage, dict)
        cost = event.get("total_cost_usd")
        return [
            Usage(
                input_tokens=_int(usage.get("input_tokens")),
                output_tokens=_int(usage.get("output_tokens")),
                cached_input_tokens=_int(usage.get("cache_read_input_tokens")),
                cost_usd=float(cost) if isinstance(cost, int | float) else None,
            )
        ]


def _tool_summary(name: str, tool_input: object) -> str:
    if isinstance(tool_input, dict):
        for key in ("command", "file_path", "path", "pattern", "url", "query"):
            if isinstance(tool_input.get(key), str):
                return shorten(f"{name}: {tool_input[key]}")
    return name


def _result_text(content: object) -> str:
    """tool_result content is a string or a list of blocks with text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(block.get("text", "")) for block in content if isinstance(block, dict))
    return ""


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None

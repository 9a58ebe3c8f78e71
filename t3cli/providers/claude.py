"""The `claude` provider: one `claude -p --output-format stream-json --verbose` process per turn.

    claude -p --output-format stream-json --verbose [--model M] [--permission-mode MODE]
           [--allowedTools "A,B"] [--max-turns N] [--resume UUID] [extra_args] -- PROMPT

`--verbose` is mandatory with stream-json. stdin is /dev/null. `--` always ends the options:
`--allowedTools` is variadic and would take the prompt as one more tool. The session id is read
from the `system/init` line (never `--continue`, never invented); `--resume` gets it from the
second turn.

Mapping (PROTOCOLS.md, "Observed with the real CLIs"):

- `system/init` → SessionStarted + TurnStarted; `system/api_retry` → a warning activity ("API
  retry 1/10 after HTTP 500 ..."); other `system` subtypes are informational.
- An assistant message's text blocks → a TextDelta at once, and its TextCompleted when the next
  line shows the message was not cut short: text claude flushes because the turn was interrupted
  (marked `aborted: true` by 2.1.332; followed by a "[Request interrupted by user]" user line by
  every version) stays incomplete. `thinking` → reasoning, `tool_use` → Activity tool_call
  (in_progress); `tool_result` → that tool call completed, or failed when `is_error`. A
  subagent's text (non-null `parent_tool_use_id`) is reported as reasoning, not as the reply.
- A synthetic assistant line (`message.model == "<synthetic>"`, a top-level `error`, or
  `is_api_error_message`) is claude's report of an API error, never a reply: it becomes an error
  activity and the turn's error.
- The `result` line decides the outcome: `success` without `is_error` → completed; an API error →
  failed "claude: API error 500: ..."; `error_during_execution` after an interruption →
  interrupted (claude then exits 0); anything else → failed with the subtype and the first reason
  found in the result text, `errors[0]`, or the last meaningful stderr line.
- `result.usage` → Usage, normalised (`_usage.claude_turn_usage`: input includes cache reads and
  writes), with `total_cost_usd`.
"""

from __future__ import annotations

import re
from typing import Any, Final

from t3cli.contracts.runtime import (
    Activity,
    RuntimeEvent,
    SessionStarted,
    TextCompleted,
    TextDelta,
    TurnCompleted,
    TurnStarted,
)
from t3cli.providers._agent_cli import AgentCliProvider
from t3cli.providers._options import ClaudeOptions
from t3cli.providers._stream import (
    LineSplitter,
    ProcessExit,
    generic_failure,
    parse_json_object,
    reason_line,
    shorten,
    tail,
)
from t3cli.providers._usage import claude_turn_usage, reported_counts
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
    # `--` always ends the options: `--allowedTools` is variadic and would swallow the prompt,
    # and a message like "-v please" must not be parsed as a flag.
    argv += ["--", request.message]
    return argv


class ClaudeProvider(AgentCliProvider):
    kind = "claude"

    def __init__(self, name: str, options: ClaudeOptions) -> None:
        super().__init__(name, options)
        self._options = options

    def _argv(self, request: TurnRequest) -> list[str]:
        return build_claude_argv(self._options, request, self._model_for(request))

    def _parser(self, request: TurnRequest) -> ClaudeStream:
        return ClaudeStream()


class ClaudeStream:
    """Parser for `claude -p --output-format stream-json` output (a `StreamParser`)."""

    def __init__(self) -> None:
        self.skipped = 0
        self._lines = LineSplitter()
        self._outcome: TurnCompleted | None = None
        self._failure: tuple[str, str | None] | None = None  # (subtype, reason) of a result
        self._session_started = False
        self._api_error: str | None = None  # the text of claude's synthetic API-error line
        self._api_error_kind: str | None = None
        self._api_error_status: int | None = None
        self._pending: tuple[str, str] | None = None  # streamed text not yet known complete
        self._interrupted = False

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
        if self._outcome is not None and self._outcome.status == "completed":
            events += self._confirm_pending()
        return events

    def succeeded(self) -> bool:
        return self._outcome is not None and self._outcome.status == "completed"

    def verdict(self, exit: ProcessExit) -> TurnCompleted:
        if self._outcome is not None and self._outcome.status != "completed":
            return self._outcome
        if self._failure is not None:
            subtype, reason = self._failure
            reason = reason or reason_line(exit.stderr_tail)
            return TurnCompleted("failed", error=f"claude: {subtype}" + _detail(reason))
        if self._outcome is not None and exit.returncode == 0:
            return self._outcome
        failure = generic_failure(exit, "claude: agent")
        if self._api_error is not None and exit.returncode != 0:
            return TurnCompleted("failed", error=self._api_error_text())
        return failure

    def _line(self, line: str) -> list[RuntimeEvent]:
        if not line.strip():
            return []
        event = parse_json_object(line)
        kind = event.get("type") if event else None
        if event is None or not isinstance(kind, str):
            self.skipped += 1
            return []
        events: list[RuntimeEvent] = []
        if self._pending is not None and not _is_interruption(event):
            events += self._confirm_pending()  # the line after a message: it was not cut short
        if kind == "system":
            events += self._system(event)
        elif kind == "assistant":
            events += self._assistant(event)
        elif kind == "user":
            events += self._user(event)
        elif kind == "result":
            events += self._result(event)
        else:
            self.skipped += 1
        return events

    def _confirm_pending(self) -> list[RuntimeEvent]:
        if self._pending is None:
            return []
        item_id, text = self._pending
        self._pending = None
        return [TextCompleted(item_id, text)]

    def _system(self, event: dict[str, Any]) -> list[RuntimeEvent]:
        subtype = event.get("subtype")
        if subtype == "api_retry":
            return [_retry_warning(event)]
        session_id = event.get("session_id")
        if subtype != "init" or self._session_started or not isinstance(session_id, str):
            return []  # status, compact_boundary, hooks...: informational
        self._session_started = True
        return [SessionStarted(session_id), TurnStarted()]

    def _assistant(self, event: dict[str, Any]) -> list[RuntimeEvent]:
        message = event.get("message")
        if not isinstance(message, dict):
            self.skipped += 1
            return []
        if _is_api_error(event, message):
            return self._api_error_line(event, message)
        events: list[RuntimeEvent] = []
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
        text = "".join(texts)
        if text and subagent is not None:
            events.append(
                Activity("reasoning", shorten(text), detail={"parent_tool_use_id": subagent})
            )
        elif text:
            item_id = str(message["id"]) if isinstance(message.get("id"), str) else "message"
            events.append(TextDelta(item_id, text))
            if event.get("aborted") is True:
                self._interrupted = True  # 2.1.332 marks text flushed by an interruption
            else:
                self._pending = (item_id, text)
        return events

    def _api_error_line(self, event: dict[str, Any], message: dict[str, Any]) -> list[RuntimeEvent]:
        texts = [
            str(block["text"])
            for block in message.get("content") or []
            if isinstance(block, dict) and isinstance(block.get("text"), str)
        ]
        kind = event.get("error")
        status = event.get("api_error_status")
        self._api_error = " ".join(texts).strip() or (kind if isinstance(kind, str) else "error")
        self._api_error_kind = kind if isinstance(kind, str) else None
        if isinstance(status, int) and not isinstance(status, bool):
            self._api_error_status = status
        error = self._api_error_text()
        return [Activity("error", shorten(error), detail={"error": kind, "status": status})]

    def _api_error_text(self) -> str:
        """ "claude: API error 500: Internal server error ..." from claude's own wording."""
        text = _API_ERROR_PREFIX.sub("", self._api_error or "")
        status = self._api_error_status
        if status is not None:
            text = text.removeprefix(f"{status} ").removeprefix(f"{status}: ")
            return f"claude: API error {status}: {shorten(text, 500)}"
        kind = f" ({self._api_error_kind})" if self._api_error_kind else ""
        return f"claude: API error{kind}: {shorten(text, 500)}"

    def _user(self, event: dict[str, Any]) -> list[RuntimeEvent]:
        if _is_interruption(event):
            self._interrupted = True
            self._pending = None  # the text before it was cut short: it stays incomplete
            return []
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
        status = event.get("api_error_status")
        if isinstance(status, int) and not isinstance(status, bool):
            self._api_error_status = status
        text = event.get("result") if isinstance(event.get("result"), str) else None
        if subtype == "success" and not event.get("is_error"):
            self._outcome = TurnCompleted("completed")
        elif self._api_error is not None or self._api_error_status is not None:
            if self._api_error is None:
                self._api_error = text or "error"
            self._outcome = TurnCompleted("failed", error=self._api_error_text())
        elif subtype == "error_during_execution" and (
            self._interrupted or str(event.get("terminal_reason", "")).startswith("aborted")
        ):
            self._outcome = TurnCompleted("interrupted", error="interrupted")
        else:
            # The reason may only be on stderr: `verdict` looks there when the line has none.
            self._failure = (subtype, text or _first_reason(event.get("errors")))
        usage = reported_counts(event.get("usage"))
        cost = event.get("total_cost_usd")
        return [claude_turn_usage(usage, cost)] if usage or cost is not None else []


_API_ERROR_PREFIX: Final = re.compile(r"^API Error:\s*", re.IGNORECASE)
_INTERRUPTED: Final = "[Request interrupted by user"


def _is_api_error(event: dict[str, Any], message: dict[str, Any]) -> bool:
    """claude's own report of a failed API call, printed as if the model had said it."""
    return (
        message.get("model") == "<synthetic>"
        or event.get("is_api_error_message") is True
        or (isinstance(event.get("error"), str) and bool(event["error"]))
    )


def _is_interruption(event: dict[str, Any]) -> bool:
    """The user line claude writes when a turn is interrupted ("[Request interrupted by user]")."""
    if event.get("type") != "user":
        return False
    message = event.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return content.startswith(_INTERRUPTED)
    return isinstance(content, list) and any(
        isinstance(block, dict)
        and block.get("type") == "text"
        and str(block.get("text", "")).startswith(_INTERRUPTED)
        for block in content
    )


def _retry_warning(event: dict[str, Any]) -> Activity:
    attempt, most = event.get("attempt"), event.get("max_retries")
    status, error = event.get("error_status"), event.get("error")
    delay = event.get("retry_delay_ms")
    why = " ".join(
        part
        for part in (
            f"HTTP {status}" if status is not None else "",
            f"({error})" if isinstance(error, str) and error else "",
        )
        if part
    )
    summary = f"claude: API retry {attempt}/{most}" + (f" after {why}" if why else "")
    if isinstance(delay, int | float) and not isinstance(delay, bool):
        summary += f", next try in {delay / 1000:.1f} s"
    detail = {k: event.get(k) for k in ("attempt", "max_retries", "error_status", "error")}
    return Activity("warning", summary, detail={**detail, "retry_delay_ms": delay})


def _first_reason(errors: object) -> str | None:
    """The first entry of `result.errors` that says something to a user (2.1.197 also lists
    internal "[ede_diagnostic] ..." notes there)."""
    if not isinstance(errors, list):
        return None
    for entry in errors:
        if isinstance(entry, str) and entry.strip() and not entry.startswith("[ede_diagnostic]"):
            return entry.strip()
    return None


def _detail(reason: str | None) -> str:
    return f": {shorten(reason, 500)}" if reason else ""


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

"""The `codex` provider: one `codex exec --json` process per turn (PROTOCOLS.md, "Codex CLI").

    codex exec --json --cd DIR [--model M] [--sandbox S] [--skip-git-repo-check] [extra_args]
               -- PROMPT
    codex exec --json --cd DIR [same global flags...] resume SESSION_ID -- PROMPT

Global flags always come before `resume` (older releases ignore them after it). stdin is /dev/null
(codex blocks forever on an open, non-TTY stdin). The session id is read from `thread.started`.

Mapping of the JSON lines: `thread.started` → SessionStarted; `turn.started` → TurnStarted;
items (`item.started|updated|completed`): agent_message → TextCompleted, reasoning → Activity
reasoning, command_execution → command (command, exit code, output tail), file_change, mcp_tool_call
→ tool_call, web_search, todo_list → plan, error item → warning; `turn.completed` → Usage and
success; `turn.failed` → failure with its message. A top-level `error` line is only a warning (it
can precede a successful turn, and codex prints one per retry: "Reconnecting... 1/5"); its message
is used if the process then fails without `turn.failed`. Unknown event and item types are counted
and skipped.

`turn.completed.usage` is the running total of the codex session across resumed processes; the
turn's own usage is the difference from the previous turn's total (`_usage.codex_turn_usage`).
Failures codex reports only on stderr are read from its `Error:` line, not from warnings or a
backtrace (`_stream.reason_line`); a session held by another codex process and a project outside
a git repository get errors that say what to do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from t3cli.contracts.runtime import (
    Activity,
    ActivityKind,
    RuntimeEvent,
    SessionStarted,
    TextCompleted,
    TurnCompleted,
    TurnStarted,
)
from t3cli.providers._agent_cli import AgentCliProvider
from t3cli.providers._options import CodexOptions
from t3cli.providers._stream import (
    LineSplitter,
    ProcessExit,
    generic_failure,
    parse_json_object,
    shorten,
    tail,
)
from t3cli.providers._usage import codex_turn_usage, reported_counts
from t3cli.providers.base import TurnRequest


def build_codex_argv(options: CodexOptions, request: TurnRequest, model: str | None) -> list[str]:
    """The argv for one turn; global flags precede `resume`, the prompt is last."""
    argv = [options.binary, "exec", "--json", "--cd", str(request.cwd)]
    if model:
        argv += ["--model", model]
    if options.sandbox:
        argv += ["--sandbox", options.sandbox]
    if options.skip_git_repo_check:
        argv.append("--skip-git-repo-check")
    argv += options.extra_args
    if request.resume_session_id:
        argv += ["resume", request.resume_session_id]
    # `--` always ends the options: a message like "--help me" must not be parsed as a flag.
    argv += ["--", request.message]
    return argv


class CodexProvider(AgentCliProvider):
    kind = "codex"
    cumulative_usage = True  # turn.completed.usage is the session's running total

    def __init__(self, name: str, options: CodexOptions) -> None:
        super().__init__(name, options)
        self._options = options

    def _argv(self, request: TurnRequest) -> list[str]:
        return build_codex_argv(self._options, request, self._model_for(request))

    def _parser(self, request: TurnRequest) -> CodexStream:
        return CodexStream(request.session_usage, request.resume_session_id, provider=self.name)


class CodexStream:
    """Parser for `codex exec --json` output (a `StreamParser`).

    `session_usage` is the running usage total the resumed session reported after its previous
    turn (None when unknown): `turn.completed.usage` is cumulative, the turn's share is the
    difference (see `_usage.codex_turn_usage`).
    """

    def __init__(
        self,
        session_usage: Mapping[str, int] | None = None,
        resumed: str | None = None,
        *,
        provider: str = "codex",
    ) -> None:
        self.skipped = 0
        self._lines = LineSplitter()
        self._outcome: TurnCompleted | None = None
        self._last_error: str | None = None
        self._session_usage = session_usage
        self._resumed = resumed
        self._provider = provider
        self._held_warning: str | None = None

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
        return events + self._release_warning()

    def _release_warning(self, failure: str | None = None) -> list[RuntimeEvent]:
        """The held top-level `error` line as a warning, unless it only announced `failure`
        (codex prints the reason of a failed turn twice: as `error`, then in `turn.failed`)."""
        held, self._held_warning = self._held_warning, None
        if held is None or held == failure:
            return []
        return [Activity("warning", f"codex: {shorten(held)}", detail={"message": held})]

    def succeeded(self) -> bool:
        return self._outcome is not None and self._outcome.status == "completed"

    def verdict(self, exit: ProcessExit) -> TurnCompleted:
        if self._outcome is not None and self._outcome.status == "failed":
            return self._outcome
        if self._outcome is not None and exit.returncode != 0:
            return generic_failure(exit, "codex: agent")
        if self._outcome is not None:
            return self._outcome
        known = _known_failure(exit.stderr_tail, self._resumed, self._provider)
        if known is not None and exit.returncode != 0:
            return TurnCompleted("failed", error=known)
        failure = generic_failure(exit, "codex: agent")
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
        failure = _message(event.get("error")) if kind == "turn.failed" else None
        return self._release_warning(failure or None) + self._event(kind, event)

    def _event(self, kind: str, event: dict[str, Any]) -> list[RuntimeEvent]:
        if kind == "thread.started" and isinstance(event.get("thread_id"), str):
            return [SessionStarted(event["thread_id"])]
        if kind == "turn.started":
            return [TurnStarted()]
        if kind in ("item.started", "item.updated", "item.completed"):
            item = event.get("item")
            if isinstance(item, dict):
                mapped = self._item(item, completed=kind == "item.completed")
                if mapped is not None:
                    return mapped
            self.skipped += 1
            return []
        if kind == "turn.completed":
            self._outcome = TurnCompleted("completed")
            total = reported_counts(event.get("usage"))
            return [codex_turn_usage(total, self._session_usage)] if total else []
        if kind == "turn.failed":
            message = _message(event.get("error")) or "turn failed"
            self._outcome = TurnCompleted("failed", error=f"codex: {message}")
            return []
        if kind == "error":
            # A retry ("Reconnecting... 1/5"), or the reason of a `turn.failed` that follows:
            # held until the next line says which.
            self._last_error = self._held_warning = _message(event) or "error"
            return []
        self.skipped += 1
        return []

    def _item(self, item: dict[str, Any], *, completed: bool) -> list[RuntimeEvent] | None:
        """Events for one item, or None if the item type is unknown (counted as skipped)."""
        item_type = item.get("type")
        item_id = item.get("id") if isinstance(item.get("id"), str) else None
        status = item.get("status") if isinstance(item.get("status"), str) else None
        if status is None:
            status = "completed" if completed else "in_progress"

        def activity(kind: ActivityKind, summary: str, **detail: Any) -> list[RuntimeEvent]:
            return [Activity(kind, summary, item_id=item_id, status=status, detail=detail)]

        text = str(item["text"]) if isinstance(item.get("text"), str) else ""
        if item_type == "agent_message":
            return [TextCompleted(item_id or "agent_message", text)] if completed else []
        if item_type == "reasoning":
            return activity("reasoning", shorten(text)) if completed else []
        if item_type == "command_execution":
            command = str(item.get("command", ""))
            output = item.get("aggregated_output")
            return activity(
                "command",
                shorten(command),
                command=command,
                exit_code=item.get("exit_code"),
                output_tail=tail(output) if isinstance(output, str) else "",
            )
        if item_type == "file_change":
            changes = [c for c in item.get("changes") or [] if isinstance(c, dict)]
            summary = ", ".join(f"{c.get('kind', 'change')} {c.get('path', '?')}" for c in changes)
            return activity("file_change", shorten(summary or "file change"), changes=changes)
        if item_type == "mcp_tool_call":
            server, tool = str(item.get("server", "")), str(item.get("tool", ""))
            error = _message(item.get("error"))
            return activity(
                "tool_call",
                f"{server}.{tool}" + (f" failed: {shorten(error)}" if error else ""),
                server=server,
                tool=tool,
                arguments=item.get("arguments"),
                error=error,
            )
        if item_type == "web_search":
            query = str(item.get("query", ""))
            return activity("web_search", shorten(query), query=query)
        if item_type == "todo_list":
            todos = [t for t in item.get("items") or [] if isinstance(t, dict)]
            done = sum(1 for t in todos if t.get("completed"))
            return activity("plan", f"plan: {done}/{len(todos)} done", items=todos)
        if item_type == "error":
            message = str(item.get("message", ""))
            return activity("warning", f"codex: {shorten(message)}", message=message)
        return None


def _message(value: object) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("message"), str):
        return str(value["message"])
    return value if isinstance(value, str) and value else None


def _known_failure(stderr: str, resumed: str | None, provider: str) -> str | None:
    """A clearer error for failures codex reports only on stderr, else None."""
    session = f" {resumed}" if resumed else ""
    if "already has an active writer" in stderr:
        # Since 0.147 codex refuses to resume a thread another codex process holds open.
        return (
            f"codex: the agent session{session} is open in another codex process (close it, "
            "then `t3 retry`)"
        )
    if "skip-git-repo-check was not specified" in stderr:
        return (
            "codex: the project is not inside a git repository, and codex refuses to run there "
            f"(set providers.{provider}.skip_git_repo_check = true in config.toml, or `git init`)"
        )
    return None

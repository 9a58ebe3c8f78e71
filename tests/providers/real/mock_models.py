"""Loopback mock model servers for the real agent CLIs (stdlib only).

`MockModel` serves, on 127.0.0.1 and an ephemeral port, both APIs the agents call:

- the OpenAI Responses API (`POST /v1/responses`, server-sent events), which codex uses with a
  custom model provider (`wire_api = "responses"`);
- the Anthropic Messages API (`POST /v1/messages`, server-sent events), which claude uses with
  `ANTHROPIC_BASE_URL`; anything else claude asks (`HEAD /`, counting tokens) gets an empty 200.

Each test scripts the answers: `model.script(Reply(...), Reply(...))` queues one `Reply` per model
request (the last one repeats when the script runs out), with the text, the token usage, an HTTP
error status, a delay before the first byte, slow streaming, or a tool call. Every request is
recorded (`model.requests`) so a test can assert what the agent sent, e.g. that a resumed turn
carries the earlier exchange.

Nothing here talks to the network beyond the loopback address it binds.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["MockModel", "Reply", "SeenRequest", "ToolCall"]


@dataclass(frozen=True)
class ToolCall:
    """The model asks the agent to run its shell tool with `command` (one call, then a reply)."""

    command: str


@dataclass(frozen=True)
class Reply:
    """The answer to one model request."""

    text: str = "Hello from the mock model."
    input_tokens: int = 100  # every input token, cached ones included (the OpenAI meaning)
    cached_input_tokens: int = 0
    output_tokens: int = 10
    status: int = 200  # anything else: an HTTP error with `error_message`
    error_message: str = "Internal server error (mock)"
    delay_s: float = 0.0  # before the response starts
    chunks: int = 1  # the text is streamed in this many deltas...
    chunk_delay_s: float = 0.0  # ...with this pause before each one
    tool_call: ToolCall | None = None


@dataclass
class SeenRequest:
    api: str  # "responses" | "messages"
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    def text(self) -> str:
        """Everything the request carries as conversation, flattened (for "contains" asserts)."""
        return json.dumps(self.body.get("input", self.body.get("messages")), ensure_ascii=False)


@dataclass
class _State:
    script: list[Reply] = field(default_factory=lambda: [Reply()])
    requests: list[SeenRequest] = field(default_factory=list)
    deltas_sent: int = 0  # text pieces written to an agent, over all replies
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)


class MockModel:
    """A scripted model server in a background thread; use as a context manager."""

    def __init__(self) -> None:
        self._state = _State()
        state = self._state

        class Handler(_Handler):
            shared = state

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> MockModel:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._state.stop.set()  # ends slow or hanging replies
        self._server.shutdown()
        self._server.server_close()

    def script(self, *replies: Reply) -> None:
        """Answer the next model requests with `replies`, in order (the last one repeats)."""
        assert replies
        with self._state.lock:
            self._state.script = list(replies)

    @property
    def requests(self) -> list[SeenRequest]:
        """Model requests seen so far (conversation requests only, in arrival order)."""
        with self._state.lock:
            return list(self._state.requests)

    def wait_for_deltas(self, count: int, within_s: float = 60.0) -> None:
        """Wait until `count` pieces of reply text have been sent (a slow reply is under way)."""
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            with self._state.lock:
                if self._state.deltas_sent >= count:
                    return
            time.sleep(0.02)
        raise AssertionError(f"the mock model never sent {count} text pieces")

    def wait_for_requests(self, count: int, within_s: float = 60.0) -> list[SeenRequest]:
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            seen = self.requests
            if len(seen) >= count:
                return seen
            time.sleep(0.02)
        raise AssertionError(f"the mock model saw {len(self.requests)} request(s), not {count}")


class _Handler(BaseHTTPRequestHandler):
    shared: _State
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self._json(200, {})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        path = self.path.split("?", 1)[0]
        if path.endswith("/responses"):
            api = "responses"
        elif path.endswith("/messages"):
            api = "messages"
        else:  # count_tokens, telemetry-like calls: nothing to say
            self._json(200, {"input_tokens": 1})
            return
        reply = self._take(SeenRequest(api, self.path, dict(self.headers.items()), body))
        if self._wait(reply.delay_s):
            return
        if reply.status != 200:
            self._error(api, reply)
            return
        if api == "responses":
            events = _responses_events(reply, body)
        else:
            events = _messages_events(reply, body)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            for pause, name, data in events:
                if self._wait(pause):
                    return
                self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
                self.wfile.flush()
                if name.endswith("_text.delta") or name == "content_block_delta":
                    with self.shared.lock:
                        self.shared.deltas_sent += 1
        except (BrokenPipeError, ConnectionResetError):
            return  # the agent went away (interrupt, timeout): nothing to finish

    def _take(self, request: SeenRequest) -> Reply:
        state = self.shared
        with state.lock:
            state.requests.append(request)
            return state.script.pop(0) if len(state.script) > 1 else state.script[0]

    def _wait(self, seconds: float) -> bool:
        """Sleep `seconds` unless the server is stopping; True when it is."""
        return self.shared.stop.wait(seconds) if seconds > 0 else self.shared.stop.is_set()

    def _json(self, status: int, obj: object) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, api: str, reply: Reply) -> None:
        if api == "messages":
            kind = {401: "authentication_error", 429: "rate_limit_error"}.get(
                reply.status, "api_error"
            )
            body: dict[str, Any] = {
                "type": "error",
                "error": {"type": kind, "message": reply.error_message},
            }
        else:
            body = {"error": {"message": reply.error_message, "type": "server_error"}}
        self._json(reply.status, body)


def _usage_responses(reply: Reply) -> dict[str, Any]:
    return {
        "input_tokens": reply.input_tokens,
        "input_tokens_details": {"cached_tokens": reply.cached_input_tokens},
        "output_tokens": reply.output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": reply.input_tokens + reply.output_tokens,
    }


def _pieces(text: str, chunks: int) -> Iterator[str]:
    size = max(1, -(-len(text) // max(chunks, 1)))
    for start in range(0, len(text), size):
        yield text[start : start + size]


def _responses_events(reply: Reply, request: dict[str, Any]) -> list[tuple[float, str, Any]]:
    """OpenAI Responses SSE: created, output items (a message or a function call), completed."""
    rid = f"resp_{time.monotonic_ns()}"
    base = {"id": rid, "object": "response", "model": request.get("model", "mock")}
    out: list[tuple[float, str, Any]] = [
        (0, "response.created", {"type": "response.created", "response": {**base, "output": []}})
    ]
    if reply.tool_call is not None and not _has_tool_output(request):
        call = {
            "type": "function_call",
            "id": f"fc_{rid}",
            "call_id": f"call_{rid}",
            "name": _shell_tool_name(request),
            "arguments": json.dumps(_shell_arguments(request, reply.tool_call.command)),
            "status": "completed",
        }
        out.append((0, "response.output_item.added", {"type": "response.output_item.added",
                                                        "output_index": 0, "item": call}))
        out.append((0, "response.output_item.done", {"type": "response.output_item.done",
                                                       "output_index": 0, "item": call}))
        item: dict[str, Any] = call
    else:
        mid = f"msg_{rid}"
        added = {"type": "message", "id": mid, "role": "assistant", "status": "in_progress",
                 "content": []}
        out.append((0, "response.output_item.added", {"type": "response.output_item.added",
                                                        "output_index": 0, "item": added}))
        for piece in _pieces(reply.text, reply.chunks):
            out.append((reply.chunk_delay_s, "response.output_text.delta", {
                "type": "response.output_text.delta", "item_id": mid, "output_index": 0,
                "content_index": 0, "delta": piece}))
        item = {**added, "status": "completed",
                "content": [{"type": "output_text", "text": reply.text, "annotations": []}]}
        out.append((0, "response.output_item.done", {"type": "response.output_item.done",
                                                       "output_index": 0, "item": item}))
    done = {**base, "status": "completed", "output": [item], "usage": _usage_responses(reply)}
    out.append((0, "response.completed", {"type": "response.completed", "response": done}))
    return out


def _has_tool_output(request: dict[str, Any]) -> bool:
    items = request.get("input")
    return isinstance(items, list) and any(
        isinstance(i, dict) and i.get("type") == "function_call_output" for i in items
    )


def _tool_names(request: dict[str, Any]) -> list[str]:
    names = []
    for tool in request.get("tools") or []:
        if isinstance(tool, dict):
            name = tool.get("name") or (tool.get("function") or {}).get("name")
            if isinstance(name, str):
                names.append(name)
    return names


def _shell_tool_name(request: dict[str, Any]) -> str:
    names = _tool_names(request)
    for preferred in ("shell_command", "shell", "exec_command", "local_shell"):
        if preferred in names:
            return preferred
    return names[0] if names else "shell"


def _shell_arguments(request: dict[str, Any], command: str) -> dict[str, Any]:
    name = _shell_tool_name(request)
    if name == "shell":
        return {"command": ["bash", "-lc", command]}
    if name == "exec_command":
        return {"cmd": command}
    return {"command": command}


def _has_tool_result(request: dict[str, Any]) -> bool:
    last = (request.get("messages") or [{}])[-1]
    content = last.get("content") if isinstance(last, dict) else None
    return isinstance(content, list) and any(
        isinstance(b, dict) and b.get("type") == "tool_result" for b in content
    )


def _messages_events(reply: Reply, request: dict[str, Any]) -> list[tuple[float, str, Any]]:
    """Anthropic Messages SSE: message_start, one content block, message_delta, message_stop."""
    mid = f"msg_mock_{time.monotonic_ns()}"
    # Anthropic's input_tokens exclude cache reads; the mock is scripted in the OpenAI meaning.
    usage = {
        "input_tokens": reply.input_tokens - reply.cached_input_tokens,
        "cache_read_input_tokens": reply.cached_input_tokens,
        "cache_creation_input_tokens": 0,
        "output_tokens": 1,
    }
    start = {"type": "message_start", "message": {
        "id": mid, "type": "message", "role": "assistant", "model": "claude-mock",
        "content": [], "stop_reason": None, "stop_sequence": None, "usage": usage}}
    out: list[tuple[float, str, Any]] = [(0, "message_start", start)]
    stop_reason = "end_turn"
    if reply.tool_call is not None and not _has_tool_result(request):
        stop_reason = "tool_use"
        block = {"type": "tool_use", "id": f"toolu_{mid}", "name": "Bash", "input": {}}
        out.append((0, "content_block_start", {"type": "content_block_start", "index": 0,
                                                "content_block": block}))
        partial = json.dumps({"command": reply.tool_call.command, "description": "mock"})
        out.append((0, "content_block_delta", {"type": "content_block_delta", "index": 0,
                                                "delta": {"type": "input_json_delta",
                                                          "partial_json": partial}}))
    else:
        out.append((0, "content_block_start", {"type": "content_block_start", "index": 0,
                                                "content_block": {"type": "text", "text": ""}}))
        for piece in _pieces(reply.text, reply.chunks):
            out.append((reply.chunk_delay_s, "content_block_delta", {
                "type": "content_block_delta", "index": 0,
                "delta": {"type": "text_delta", "text": piece}}))
    out.append((0, "content_block_stop", {"type": "content_block_stop", "index": 0}))
    out.append((0, "message_delta", {"type": "message_delta",
                                      "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                                      "usage": {"output_tokens": reply.output_tokens}}))
    out.append((0, "message_stop", {"type": "message_stop"}))
    return out

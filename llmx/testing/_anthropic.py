"""Anthropic's Messages wire for the emulator: ``POST /v1/messages`` (JSON or SSE) and
``GET /v1/models``; the key goes in ``x-api-key``, ``anthropic-version`` is required.

Validation covers the rules a cross-provider history most easily breaks: no ``system`` role in
``messages``, every ``tool_use`` answered by a ``tool_result`` at the start of the next message
(and no ``tool_result`` without its ``tool_use``), thinking blocks first and with a signature the
emulator issued, and the thinking rules for the final assistant message.
"""

from __future__ import annotations

from typing import Any

from ._anthropic_check import blocks_of, messages_problem, thinking_config_problem
from ._faults import RecordedRequest
from ._groq import JSON_CT, SSE_CT, dumps, message_text
from ._neutral import Answer, Dialect, Tokens, Turn, phrase, signature, stream_prefix
from ._render import Plan
from ._reply import ErrorSpec, StreamErrorSpec

__all__ = ["AnthropicDialect", "error_type"]

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}
_STOP = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}
_STOP["content_filter"] = "refusal"
_MODELS = ("claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1")


def error_type(status: int, given: str | None = None) -> str:
    """Anthropic's ``error.type`` for a status (a given Anthropic type is kept)."""
    if given in ERROR_TYPES.values():
        return str(given)
    return ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {dumps(data)}\n\n".encode()


class AnthropicDialect(Dialect):
    name = "anthropic"
    request_id_header = "request-id"

    # -- routing, auth, validation -----------------------------------------------------------

    def authorized(self, request: RecordedRequest, key: str) -> bool:
        return request.headers.get("x-api-key") == key

    def unauthorized(self, request: RecordedRequest) -> tuple[int, Any]:
        given = request.headers.get("x-api-key")
        message = "invalid x-api-key" if given else "x-api-key header is required"
        return 401, self.error_doc(401, message)

    def endpoint(self, request: RecordedRequest, extra_models: list[str]) -> tuple[int, Any] | None:
        method, path = request.method, request.path
        if method == "POST" and path == "/v1/messages":
            return None
        models = [*_MODELS, *extra_models]
        if method == "GET" and path == "/v1/models":
            data = [_model(m) for m in models]
            return 200, {
                "data": data,
                "has_more": False,
                "first_id": models[0],
                "last_id": models[-1],
            }
        if method == "GET" and path.startswith("/v1/models/") and path[11:] in models:
            return 200, _model(path[11:])
        return 404, self.error_doc(404, "Not Found")

    def validate(self, request: RecordedRequest) -> str | None:
        if "anthropic-version" not in request.headers:
            return "anthropic-version: header is required"
        body = request.json
        if not isinstance(body, dict):
            return "Input should be a valid dictionary"
        for name in ("model", "max_tokens", "messages"):
            if name not in body:
                return f"{name}: Field required"
        max_tokens = body["max_tokens"]
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            return "max_tokens: Input should be greater than or equal to 1"
        messages = body["messages"]
        if not isinstance(messages, list) or not messages:
            return "messages: at least one message is required"
        for i, tool in enumerate(body.get("tools") or []):
            custom = isinstance(tool, dict) and tool.get("type", "custom") == "custom"
            if custom and ("name" not in tool or "input_schema" not in tool):
                return f"tools.{i}.custom.input_schema: Field required"
        return thinking_config_problem(body) or messages_problem(messages, self.thinking(request))

    def thinking(self, request: RecordedRequest) -> bool:
        body = request.json if isinstance(request.json, dict) else {}
        thinking = body.get("thinking")
        return isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive")

    # -- the default responder's view ----------------------------------------------------------

    def normalize(self, request: RecordedRequest) -> dict[str, Any]:
        body = request.json if isinstance(request.json, dict) else {}
        messages: list[dict[str, Any]] = []
        system = body.get("system")
        if system:
            messages.append({"role": "system", "content": message_text(blocks_of(system))})
        for message in body.get("messages") or []:
            if not isinstance(message, dict):
                continue
            blocks = blocks_of(message.get("content"))
            if message.get("role") == "assistant":
                out: dict[str, Any] = {"role": "assistant", "content": message_text(blocks)}
                calls = [
                    {
                        "id": b.get("id"),
                        "type": "function",
                        "function": {"name": b.get("name"), "arguments": dumps(b.get("input"))},
                    }
                    for b in blocks
                    if b.get("type") == "tool_use"
                ]
                if calls:
                    out["tool_calls"] = calls
                messages.append(out)
                continue
            for block in blocks:
                if block.get("type") == "tool_result":
                    content = block.get("content")
                    text = content if isinstance(content, str) else message_text(content)
                    tool_call_id = block.get("tool_use_id")
                    messages.append({"role": "tool", "tool_call_id": tool_call_id, "content": text})
            if any(b.get("type") != "tool_result" for b in blocks):
                messages.append({"role": "user", "content": message_text(blocks)})
        out = {"model": body.get("model"), "messages": messages}
        out["max_tokens"] = body.get("max_tokens")
        if body.get("stop_sequences"):
            out["stop"] = body["stop_sequences"]
        tools = [t for t in body.get("tools") or [] if isinstance(t, dict) and "input_schema" in t]
        if tools:
            out["tools"] = [
                {
                    "type": "function",
                    "function": {"name": t["name"], "parameters": t["input_schema"]},
                }
                for t in tools
            ]
        choice = body.get("tool_choice")
        if isinstance(choice, dict):
            kind = choice.get("type")
            if kind == "tool":
                out["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}}
            else:
                out["tool_choice"] = {"any": "required"}.get(str(kind), kind)
        fmt = (body.get("output_config") or {}).get("format")
        if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
            out["response_format"] = {"type": "json_schema", "json_schema": fmt}
        return out

    # -- rendering -----------------------------------------------------------------------------

    def error_doc(self, status: int, message: str, kind: str | None = None) -> Any:
        return {"type": "error", "error": {"type": error_type(status, kind), "message": message}}

    def error(self, spec: ErrorSpec, turn: Turn) -> Plan:
        message = spec.message if spec.message is not None else _default_message(spec.status)
        doc = self.error_doc(spec.status, message, spec.type)
        doc["request_id"] = turn.request_id
        return Plan(spec.status, JSON_CT, [dumps(doc).encode()])

    def _message(self, turn: Turn, answer: Answer) -> dict[str, Any]:
        return {
            "id": "msg_01" + turn.short_id("msg", 22),
            "type": "message",
            "role": "assistant",
            "model": answer.model,
        }

    def render(self, answer: Answer, turn: Turn) -> Plan:
        tokens = Tokens.of(answer, turn.prompt_tokens)
        ids = [c.id or "toolu_01" + turn.short_id("toolu", 22) for c in answer.calls]
        reason = _STOP.get(answer.finish, answer.finish)
        if not turn.stream:
            blocks: list[dict[str, Any]] = []
            if answer.reasoning is not None:
                sig = signature("thinking", answer.reasoning)
                blocks.append({"type": "thinking", "thinking": answer.reasoning, "signature": sig})
            if answer.text:
                blocks.append({"type": "text", "text": answer.text})
            for call, call_id in zip(answer.calls, ids, strict=True):
                blocks.append(
                    {"type": "tool_use", "id": call_id, "name": call.name, "input": call.args()}
                )
            doc = {
                **self._message(turn, answer),
                "content": blocks,
                "stop_reason": reason,
                "stop_sequence": None,
                "usage": {**_usage(tokens), "output_tokens": tokens.completion},
            }
            return Plan(200, JSON_CT, [dumps(doc).encode()])
        events = self._preamble(answer, turn, tokens)
        index = 0
        if answer.reasoning is not None:
            events += self._block(index, {"type": "thinking", "thinking": "", "signature": ""})
            events += [
                self._delta(index, {"type": "thinking_delta", "thinking": piece})
                for piece in answer.pieces(answer.reasoning)
            ]
            sig = signature("thinking", answer.reasoning)
            events.append(self._delta(index, {"type": "signature_delta", "signature": sig}))
            events.append(
                _event("content_block_stop", {"type": "content_block_stop", "index": index})
            )
            index += 1
        if answer.text:
            events += self._text_block(index, answer)
            index += 1
        for call, call_id in zip(answer.calls, ids, strict=True):
            start = {"type": "tool_use", "id": call_id, "name": call.name, "input": {}}
            events += self._block(index, start)
            raw = dumps(call.args()) if call.args() else ""
            events += [
                self._delta(index, {"type": "input_json_delta", "partial_json": piece})
                for piece in ["", *(answer.fragments(raw) if raw else [])]
            ]
            events.append(
                _event("content_block_stop", {"type": "content_block_stop", "index": index})
            )
            index += 1
        delta = {"stop_reason": reason, "stop_sequence": None}
        usage = {"output_tokens": tokens.completion}
        events.append(
            _event("message_delta", {"type": "message_delta", "delta": delta, "usage": usage})
        )
        events.append(_event("message_stop", {"type": "message_stop"}))
        return Plan(200, SSE_CT, events, sse=True, chunked=True)

    def stream_error(self, spec: StreamErrorSpec, turn: Turn) -> Plan:
        answer = Answer(
            turn.model,
            spec.text or "Partial answer before the error. ",
            None,
            (),
            "stop",
            None,
            None,
            None,
        )
        tokens = Tokens.of(answer, turn.prompt_tokens)
        events = self._preamble(answer, turn, tokens, ping=False) + self._text_block(0, answer)
        events = stream_prefix(events[:-1], spec.after_events)
        doc = self.error_doc(spec.status_code, spec.message, spec.type)
        events.append(_event("error", doc))
        return Plan(200, SSE_CT, events, sse=True, chunked=True)

    def _preamble(
        self, answer: Answer, turn: Turn, tokens: Tokens, ping: bool = True
    ) -> list[bytes]:
        message = {
            **self._message(turn, answer),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {**_usage(tokens), "output_tokens": 1},
        }
        events = [_event("message_start", {"type": "message_start", "message": message})]
        if ping:
            events.append(_event("ping", {"type": "ping"}))
        return events

    def _block(self, index: int, block: dict[str, Any]) -> list[bytes]:
        data = {"type": "content_block_start", "index": index, "content_block": block}
        return [_event("content_block_start", data)]

    def _delta(self, index: int, delta: dict[str, Any]) -> bytes:
        return _event(
            "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        )

    def _text_block(self, index: int, answer: Answer) -> list[bytes]:
        events = self._block(index, {"type": "text", "text": ""})
        events += [
            self._delta(index, {"type": "text_delta", "text": piece})
            for piece in answer.pieces(answer.text)
        ]
        events.append(_event("content_block_stop", {"type": "content_block_stop", "index": index}))
        return events


def _usage(tokens: Tokens) -> dict[str, Any]:
    return {
        "input_tokens": tokens.prompt - tokens.cached,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": tokens.cached,
        "service_tier": "standard",
    }


def _model(model: str) -> dict[str, Any]:
    return {
        "type": "model",
        "id": model,
        "display_name": model,
        "created_at": "2025-09-29T00:00:00Z",
        "max_input_tokens": 200000,
        "max_tokens": 64000,
    }


def _default_message(status: int) -> str:
    return {
        401: "invalid x-api-key",
        404: "model: not found",
        429: "This request would exceed the rate limit for your organization.",
        500: "Internal server error",
        529: "Overloaded",
    }.get(status, phrase(status))

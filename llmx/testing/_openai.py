"""The OpenAI Chat Completions wire for the emulator: ``POST /v1/chat/completions`` and
``GET /v1/models[/{id}]``, the layout every OpenAI-compatible preset (DeepSeek, Mistral, vLLM,
llama.cpp, ...) uses. The key is a bearer token.

Streams carry usage the way most servers do: in an extra ``choices: []`` chunk when the request
set ``stream_options.include_usage`` (OpenAI), else on the finish chunk (Mistral, DeepSeek, vLLM).
Scripted reasoning goes in both ``reasoning_content`` and ``reasoning`` (servers use one or the
other), unless the request excluded it (OpenRouter's ``reasoning.exclude``).

Usage counts as OpenAI does (``completion_tokens`` includes reasoning), except for ``grok-*``
models, answered the way xAI counts (``completion_tokens`` without the reasoning tokens).

Validation: a model and messages with known roles; every tool message answers a call of the
assistant message before it, and every call of an assistant message is answered.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ._faults import RecordedRequest
from ._groq import DONE_EVENT, JSON_CT, SSE_CT, dumps, sse_data
from ._neutral import Answer, Dialect, Tokens, Turn, phrase, stream_prefix
from ._render import Plan
from ._reply import ErrorSpec, StreamErrorSpec

__all__ = ["OpenAIDialect", "tool_pairing_problem"]

_ROLES = ("system", "developer", "user", "assistant", "tool", "function")
_MODELS = ("gpt-4.1", "gpt-4.1-mini", "o4-mini")
_TYPES = {401: "invalid_request_error", 404: "invalid_request_error", 429: "requests"}
_CODES = {401: "invalid_api_key", 404: "model_not_found", 429: "rate_limit_exceeded"}


def tool_pairing_problem(messages: list[Any]) -> str | None:
    """OpenAI's checks that tool messages and assistant tool calls match up."""
    pending: list[str] = []
    for i, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role == "tool":
            call_id = message.get("tool_call_id")
            if call_id not in pending:
                return (
                    f"Invalid parameter: messages with role 'tool' must be a response to a "
                    f"preceeding message with 'tool_calls' (messages[{i}], {call_id!r})."
                )
            pending.remove(call_id)
            continue
        if pending:
            return (
                "An assistant message with 'tool_calls' must be followed by tool messages "
                "responding to each 'tool_call_id'. The following tool_call_ids did not have "
                f"response messages: {', '.join(pending)}"
            )
        if role == "assistant":
            pending = [str(c.get("id")) for c in message.get("tool_calls") or []]
    return None


class OpenAIDialect(Dialect):
    name = "openai"

    def unauthorized(self, request: RecordedRequest) -> tuple[int, Any]:
        given = request.headers.get("authorization", "")
        if not given:
            message = (
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
            )
            return 401, self.error_doc(401, message, code=None)
        shown = given.removeprefix("Bearer ")[-4:]
        message = f"Incorrect API key provided: ...{shown}."
        return 401, self.error_doc(401, message)

    def endpoint(self, request: RecordedRequest, extra_models: list[str]) -> tuple[int, Any] | None:
        method, path = request.method, request.path
        if method == "POST" and path == "/v1/chat/completions":
            return None
        models = [*_MODELS, *extra_models]
        if method == "GET" and path == "/v1/models":
            return 200, {"object": "list", "data": [_model(m) for m in models]}
        if method == "GET" and path.startswith("/v1/models/") and path[11:] in models:
            return 200, _model(path[11:])
        message = f"Invalid URL ({method} {path})"
        return 404, self.error_doc(404, message, code=None)

    def validate(self, request: RecordedRequest) -> str | None:
        body = request.json
        if not isinstance(body, dict):
            return "We could not parse the JSON body of your request."
        if not body.get("model"):
            return "you must provide a model parameter"
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return "[] is too short - 'messages'"
        for i, message in enumerate(messages):
            role = message.get("role") if isinstance(message, dict) else None
            if role not in _ROLES:
                allowed = ", ".join(_ROLES)
                return f"messages[{i}].role: invalid value {role!r}; supported values: {allowed}"
        return tool_pairing_problem(messages)

    def _reasoning(self, request: RecordedRequest) -> tuple[Any, Any]:
        body = request.json if isinstance(request.json, dict) else {}
        return body.get("reasoning_effort"), body.get("reasoning")

    def thinking(self, request: RecordedRequest) -> bool:
        effort, reasoning = self._reasoning(request)
        if isinstance(reasoning, dict):
            return not reasoning.get("exclude") and reasoning.get("effort") != "none"
        return effort not in (None, "none")

    def hides_reasoning(self, request: RecordedRequest) -> bool:
        _, reasoning = self._reasoning(request)
        return isinstance(reasoning, dict) and reasoning.get("exclude") is True

    def normalize(self, request: RecordedRequest) -> dict[str, Any]:
        return dict(request.json) if isinstance(request.json, dict) else {}

    # -- rendering -----------------------------------------------------------------------------

    def error_doc(
        self, status: int, message: str, kind: str | None = None, code: str | None = "default"
    ) -> Any:
        if kind is None:
            kind = _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
        if code == "default":
            code = _CODES.get(status)
        return {"error": {"message": message, "type": kind, "param": None, "code": code}}

    def error(self, spec: ErrorSpec, turn: Turn) -> Plan:
        message = spec.message if spec.message is not None else _default_message(spec.status, turn)
        code = spec.code if spec.code is not None else "default"
        doc = self.error_doc(spec.status, message, spec.type, code or None)
        return Plan(spec.status, JSON_CT, [dumps(doc).encode()])

    def _head(self, turn: Turn, answer: Answer, kind: str) -> dict[str, Any]:
        return {
            "id": "chatcmpl-" + turn.short_id("chatcmpl", 29),
            "object": kind,
            "created": turn.created,
            "model": answer.model,
            "service_tier": "default",
            "system_fingerprint": "fp_" + hashlib.sha256(answer.model.encode()).hexdigest()[:10],
        }

    def render(self, answer: Answer, turn: Turn) -> Plan:
        tokens = Tokens.of(answer, turn.prompt_tokens)
        usage = _usage(tokens, answer.model)
        calls: list[dict[str, Any]] = [
            {
                "id": call.id or "call_" + turn.short_id("call", 24),
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in answer.calls
        ]
        if not turn.stream:
            message: dict[str, Any] = {"role": "assistant", "content": answer.text, "refusal": None}
            if answer.reasoning is not None:
                message["reasoning_content"] = message["reasoning"] = answer.reasoning
            if calls:
                message["tool_calls"] = calls
            choice = {"index": 0, "message": message, "logprobs": None}
            choice["finish_reason"] = answer.finish
            doc = {**self._head(turn, answer, "chat.completion"), "choices": [choice]}
            return Plan(200, JSON_CT, [dumps({**doc, "usage": usage}).encode()])
        head = self._head(turn, answer, "chat.completion.chunk")
        separate = bool((turn.body.get("stream_options") or {}).get("include_usage"))
        extra = {"usage": None} if separate else {}

        def chunk(delta: dict[str, Any], reason: str | None = None, **more: Any) -> bytes:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}
            return sse_data({**head, "choices": [choice], **extra, **more})

        events = [chunk({"role": "assistant", "content": "", "refusal": None})]
        events += [
            chunk({"reasoning_content": piece, "reasoning": piece})
            for piece in answer.pieces(answer.reasoning)
        ]
        events += [chunk({"content": piece}) for piece in answer.pieces(answer.text)]
        for index, call in enumerate(calls):
            function = call["function"]
            pieces = answer.fragments(function["arguments"])
            opening = {**call, "index": index, "function": {**function, "arguments": pieces[0]}}
            events.append(chunk({"tool_calls": [opening]}))
            events += [
                chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
                for piece in pieces[1:]
            ]
        if separate:
            events.append(chunk({}, answer.finish))
            events.append(sse_data({**head, "choices": [], "usage": usage}))
        else:
            events.append(chunk({}, answer.finish, usage=usage))
        events.append(DONE_EVENT)
        return Plan(200, SSE_CT, events, sse=True, chunked=True)

    def stream_error(self, spec: StreamErrorSpec, turn: Turn) -> Plan:
        text = spec.text or "Partial answer before the error. "
        answer = Answer(turn.model, text, None, (), "stop", None, None, None)
        head = self._head(turn, answer, "chat.completion.chunk")
        deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
        deltas += [{"content": piece} for piece in answer.pieces(text)]
        events = [
            sse_data({**head, "choices": [{"index": 0, "delta": d, "finish_reason": None}]})
            for d in deltas
        ]
        events = stream_prefix(events, spec.after_events)
        kind = spec.type if spec.type != "invalid_request_error" or spec.status_code < 500 else None
        doc = self.error_doc(spec.status_code, spec.message, kind, spec.code)
        events.append(sse_data(doc))
        return Plan(200, SSE_CT, events, sse=True, chunked=True)


def _usage(tokens: Tokens, model: str) -> dict[str, Any]:
    completion = tokens.completion
    if model.startswith("grok-"):  # xAI: total = prompt + completion + reasoning
        completion -= tokens.reasoning
    return {
        "prompt_tokens": tokens.prompt,
        "completion_tokens": completion,
        "total_tokens": tokens.prompt + tokens.completion,
        "prompt_tokens_details": {"cached_tokens": tokens.cached, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": tokens.reasoning, "audio_tokens": 0},
    }


def _model(model: str) -> dict[str, Any]:
    return {"id": model, "object": "model", "created": 1744316542, "owned_by": "system"}


def _default_message(status: int, turn: Turn) -> str:
    return {
        401: "Incorrect API key provided.",
        404: f"The model `{turn.model}` does not exist or you do not have access to it.",
        429: f"Rate limit reached for {turn.model} on requests per min (RPM): Limit 500.",
        500: "The server had an error while processing your request. Sorry about that!",
        503: "The server is overloaded or not ready yet.",
    }.get(status, phrase(status))

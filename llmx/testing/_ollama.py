"""Ollama's native wire for the emulator: ``POST /api/chat`` (NDJSON unless ``"stream": false``),
``GET /api/tags``, ``GET /api/version``. No key is needed; a wrong ``Authorization`` header is
refused (a proxy in front of Ollama). Scripted reasoning becomes ``message.thinking`` unless the
request set ``"think": false``; tool calls carry ids and object arguments, as Ollama 0.12 sends.

Validation: a model, messages with known roles, tool-call arguments as objects (a JSON string is
the error Ollama's Go decoder gives), images as base64 strings.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timezone
from typing import Any

from ._faults import RecordedRequest
from ._groq import JSON_CT, dumps
from ._neutral import NDJSON_CT, Answer, Dialect, Tokens, Turn, stream_prefix
from ._render import Plan
from ._reply import ErrorSpec, StreamErrorSpec

__all__ = ["OllamaDialect"]

_ROLES = ("system", "user", "assistant", "tool")
_FINISH = {"tool_calls": "stop", "content_filter": "stop"}
_MODELS = ("llama3.2:latest", "qwen3:8b", "gpt-oss:20b")
_DEFAULT_ERRORS = {
    401: "unauthorized",
    404: "model 'missing' not found",
    429: "too many requests",
    500: "an error was encountered while running the model",
    503: "server busy, please try again.  maximum pending requests exceeded",
}


def _created(turn: Turn) -> str:
    moment = datetime.fromtimestamp(turn.created, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def _messages_problem(messages: list[Any]) -> str | None:
    for message in messages:
        if not isinstance(message, dict):
            return "json: cannot unmarshal into Go struct field ChatRequest.messages"
        if message.get("role") not in _ROLES:
            return f"invalid role: {message.get('role')!r}"
        for call in message.get("tool_calls") or []:
            arguments = (call.get("function") or {}).get("arguments")
            if arguments is not None and not isinstance(arguments, dict):
                return (
                    "json: cannot unmarshal string into Go struct field "
                    ".messages.tool_calls.function.arguments of type api.ToolCallFunctionArguments"
                )
        for image in message.get("images") or []:
            try:
                base64.b64decode(str(image), validate=True)
            except (binascii.Error, ValueError):
                return "illegal base64 data at input byte 0"
    return None


class OllamaDialect(Dialect):
    name = "ollama"
    request_id_header = None

    def authorized(self, request: RecordedRequest, key: str) -> bool:
        given = request.headers.get("authorization")
        return given is None or given == f"Bearer {key}"

    def unauthorized(self, request: RecordedRequest) -> tuple[int, Any]:
        return 401, self.error_doc(401, "unauthorized")

    def endpoint(self, request: RecordedRequest, extra_models: list[str]) -> tuple[int, Any] | None:
        method, path = request.method, request.path
        if method == "POST" and path == "/api/chat":
            return None
        if method == "GET" and path == "/api/tags":
            return 200, {"models": [_model(m) for m in [*_MODELS, *extra_models]]}
        if method == "GET" and path == "/api/version":
            return 200, {"version": "0.12.6"}
        return 404, self.error_doc(404, "404 page not found")

    def wants_stream(self, request: RecordedRequest) -> bool:
        body = request.json if isinstance(request.json, dict) else {}
        return body.get("stream") is not False  # Ollama streams unless told otherwise

    def validate(self, request: RecordedRequest) -> str | None:
        body = request.json
        if not isinstance(body, dict):
            return "invalid request body"
        if not body.get("model"):
            return "model is required"
        messages = body.get("messages")
        if messages is not None and not isinstance(messages, list):
            return "json: cannot unmarshal into Go struct field ChatRequest.messages"
        return _messages_problem(messages or [])

    def _think(self, request: RecordedRequest) -> Any:
        body = request.json if isinstance(request.json, dict) else {}
        return body.get("think")

    def thinking(self, request: RecordedRequest) -> bool:
        return self._think(request) not in (None, False)

    def hides_reasoning(self, request: RecordedRequest) -> bool:
        return self._think(request) is False

    def normalize(self, request: RecordedRequest) -> dict[str, Any]:
        body = request.json if isinstance(request.json, dict) else {}
        messages: list[dict[str, Any]] = []
        open_calls: list[tuple[str, str]] = []  # (name, id) of calls not answered yet
        for position, message in enumerate(body.get("messages") or []):
            if not isinstance(message, dict):
                continue
            out: dict[str, Any] = {"role": message.get("role"), "content": message.get("content")}
            calls = []
            for k, call in enumerate(message.get("tool_calls") or []):
                function = call.get("function") or {}
                call_id = str(call.get("id") or f"ollama_call_{position}_{k}")
                open_calls.append((str(function.get("name")), call_id))
                arguments = function.get("arguments")
                text = arguments if isinstance(arguments, str) else dumps(arguments or {})
                function = {"name": function.get("name"), "arguments": text}
                calls.append({"id": call_id, "type": "function", "function": function})
            if calls:
                out["tool_calls"] = calls
            if out["role"] == "tool":
                name = message.get("tool_name")
                match = next((c for c in open_calls if c[1] == message.get("tool_call_id")), None)
                match = match or next((c for c in open_calls if c[0] == name), None)
                match = match or (open_calls[0] if open_calls else None)
                if match is not None:
                    open_calls.remove(match)
                out["tool_call_id"] = match[1] if match else message.get("tool_call_id")
            messages.append(out)
        out = {"model": body.get("model"), "messages": messages}
        options = body.get("options") or {}
        if options.get("num_predict") is not None:
            out["max_tokens"] = options["num_predict"]
        if options.get("stop"):
            out["stop"] = options["stop"]
        if body.get("tools"):
            out["tools"] = body["tools"]
        fmt = body.get("format")
        if fmt == "json":
            out["response_format"] = {"type": "json_object"}
        elif isinstance(fmt, dict):
            out["response_format"] = {"type": "json_schema", "json_schema": {"schema": fmt}}
        return out

    # -- rendering -----------------------------------------------------------------------------

    def error_doc(self, status: int, message: str) -> Any:
        return {"error": message}

    def error(self, spec: ErrorSpec, turn: Turn) -> Plan:
        message = spec.message if spec.message is not None else _DEFAULT_ERRORS.get(spec.status)
        doc = self.error_doc(spec.status, message or f"HTTP {spec.status}")
        return Plan(spec.status, JSON_CT, [dumps(doc).encode()])

    def _line(self, turn: Turn, answer: Answer, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "model": answer.model,
            "created_at": _created(turn),
            "message": {"role": "assistant", "content": "", **message},
            "done": False,
        }

    def render(self, answer: Answer, turn: Turn) -> Plan:
        tokens = Tokens.of(answer, turn.prompt_tokens)
        calls = [
            {
                "id": call.id or "call_" + turn.short_id("ollama", 8).lower(),
                "function": {"index": k, "name": call.name, "arguments": call.args()},
            }
            for k, call in enumerate(answer.calls)
        ]
        final = {
            "done": True,
            "done_reason": _FINISH.get(answer.finish, answer.finish),
            **_durations(tokens),
        }
        if not turn.stream:
            message: dict[str, Any] = {"content": answer.text or ""}
            if answer.reasoning is not None:
                message["thinking"] = answer.reasoning
            if calls:
                message["tool_calls"] = calls
            doc = {**self._line(turn, answer, message), **final}
            return Plan(200, JSON_CT, [dumps(doc).encode()])
        lines = [
            self._line(turn, answer, {"thinking": piece})
            for piece in answer.pieces(answer.reasoning)
        ]
        lines += [self._line(turn, answer, {"content": p}) for p in answer.pieces(answer.text)]
        if calls:
            lines.append(self._line(turn, answer, {"tool_calls": calls}))
        lines.append({**self._line(turn, answer, {}), **final})
        units = [(dumps(line) + "\n").encode() for line in lines]
        return Plan(200, NDJSON_CT, units, chunked=True)

    def stream_error(self, spec: StreamErrorSpec, turn: Turn) -> Plan:
        text = spec.text or "Partial answer before the error. "
        answer = Answer(turn.model, text, None, (), "stop", None, None, None)
        lines = [self._line(turn, answer, {"content": p}) for p in answer.pieces(text)]
        units = stream_prefix([(dumps(line) + "\n").encode() for line in lines], spec.after_events)
        units.append((dumps({"error": spec.message}) + "\n").encode())
        return Plan(200, NDJSON_CT, units, chunked=True)


def _durations(tokens: Tokens) -> dict[str, Any]:
    prompt_ns = 200_000 * tokens.prompt + 1_000_000
    eval_ns = 15_000_000 * tokens.completion + 1_000_000
    load_ns = 40_000_000
    return {
        "total_duration": prompt_ns + eval_ns + load_ns,
        "load_duration": load_ns,
        "prompt_eval_count": tokens.prompt,
        "prompt_eval_duration": prompt_ns,
        "eval_count": tokens.completion,
        "eval_duration": eval_ns,
    }


def _model(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "model": name,
        "modified_at": "2025-10-26T17:21:20.101Z",
        "size": 2019393189,
        "digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
        "details": {"format": "gguf", "family": "llama", "quantization_level": "Q4_K_M"},
    }

"""Google Gemini's native wire for the emulator.

``POST /v1beta/models/{model}:generateContent`` answers JSON, ``:streamGenerateContent?alt=sse``
SSE (without ``alt=sse``: one JSON array, as Google does); ``GET /v1beta/models[/{model}]`` lists
models. The key goes in ``x-goog-api-key`` (or ``?key=``). Scripted reasoning becomes thought
parts unless the request set ``includeThoughts: false``; the first function call of an answer
with reasoning (or from a Gemini 3 model) carries a thought signature.

Validation: roles ``user``/``model``, non-empty parts, a function-response turn right after each
function-call turn with as many responses as calls and the same names, and on Gemini 3 models a
thought signature on the first function call of each model turn of the current turn.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from ._faults import RecordedRequest
from ._gemini_request import PREFIX, gemini3, normalize_body, route, validate_body
from ._groq import JSON_CT, SSE_CT, dumps
from ._neutral import Answer, Dialect, Tokens, Turn, phrase, signature, stream_prefix
from ._render import Plan
from ._reply import ErrorSpec, StreamErrorSpec

__all__ = ["GeminiDialect", "PREFIX"]

_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_FINISH = {"stop": "STOP", "length": "MAX_TOKENS", "tool_calls": "STOP"}
_FINISH["content_filter"] = "SAFETY"
_MODELS = ("gemini-2.5-flash", "gemini-2.5-pro", "gemini-3-pro-preview")


class GeminiDialect(Dialect):
    name = "gemini"
    request_id_header = None

    # -- routing, auth, validation -----------------------------------------------------------

    def authorized(self, request: RecordedRequest, key: str) -> bool:
        given = request.headers.get("x-goog-api-key") or parse_qs(request.query).get("key", [""])[0]
        return given == key

    def unauthorized(self, request: RecordedRequest) -> tuple[int, Any]:
        if request.headers.get("x-goog-api-key") or "key=" in request.query:
            doc = self.error_doc(400, "API key not valid. Please pass a valid API key.")
            doc["error"]["details"] = [_reason("API_KEY_INVALID")]
            return 400, doc
        message = (
            "Method doesn't allow unregistered callers (callers without established identity). "
            "Please use API Key or other form of API consumer identity to call this API."
        )
        return 403, self.error_doc(403, message)

    def endpoint(self, request: RecordedRequest, extra_models: list[str]) -> tuple[int, Any] | None:
        method, path = request.method, request.path
        found = route(path)
        if method == "POST" and found and found[1] in ("generateContent", "streamGenerateContent"):
            return None
        models = [*_MODELS, *extra_models]
        if method == "GET" and path == PREFIX + "/models":
            return 200, {"models": [_model(m) for m in models]}
        name = path[len(PREFIX + "/models/") :]
        if method == "GET" and path.startswith(PREFIX + "/models/") and name in models:
            return 200, _model(name)
        return 404, self.error_doc(404, f"Method not found: {method} {path}")

    def model_of(self, request: RecordedRequest) -> str:
        found = route(request.path)
        return found[0] if found else "gemini-2.5-flash"

    def wants_stream(self, request: RecordedRequest) -> bool:
        found = route(request.path)
        return found is not None and found[1] == "streamGenerateContent"

    def _thinking_config(self, request: RecordedRequest) -> dict[str, Any]:
        body = request.json if isinstance(request.json, dict) else {}
        config = (body.get("generationConfig") or {}).get("thinkingConfig")
        return config if isinstance(config, dict) else {}

    def thinking(self, request: RecordedRequest) -> bool:
        return self._thinking_config(request).get("includeThoughts") is True

    def hides_reasoning(self, request: RecordedRequest) -> bool:
        return self._thinking_config(request).get("includeThoughts") is False

    # -- the default responder's view ----------------------------------------------------------

    def validate(self, request: RecordedRequest) -> str | None:
        return validate_body(request.json, self.model_of(request))

    def normalize(self, request: RecordedRequest) -> dict[str, Any]:
        body = request.json if isinstance(request.json, dict) else {}
        return normalize_body(body, self.model_of(request))

    # -- rendering -----------------------------------------------------------------------------

    def error_doc(self, status: int, message: str, kind: str | None = None) -> Any:
        grpc = kind if kind in _STATUS.values() else _STATUS.get(status, "UNKNOWN")
        return {"error": {"code": status, "message": message, "status": grpc}}

    def error(self, spec: ErrorSpec, turn: Turn) -> Plan:
        message = spec.message if spec.message is not None else _default_message(spec.status, turn)
        doc = self.error_doc(spec.status, message, spec.type)
        if spec.code:
            doc["error"]["details"] = [_reason(spec.code)]
        return Plan(spec.status, JSON_CT, [dumps(doc).encode()])

    def render(self, answer: Answer, turn: Turn) -> Plan:
        tokens = Tokens.of(answer, turn.prompt_tokens)
        groups: list[list[dict[str, Any]]] = [
            [{"text": piece, "thought": True}] for piece in answer.pieces(answer.reasoning)
        ]
        if answer.reasoning == "":
            groups.append([{"text": "", "thought": True}])
        groups += [[{"text": piece}] for piece in answer.pieces(answer.text)]
        calls = []
        for position, call in enumerate(answer.calls):
            function: dict[str, Any] = {"name": call.name, "args": call.args()}
            if call.id:
                function["id"] = call.id
            part: dict[str, Any] = {"functionCall": function}
            if position == 0 and (answer.reasoning is not None or gemini3(answer.model)):
                part["thoughtSignature"] = signature("gemini-call", call.name + dumps(call.args()))
            calls.append(part)
        if calls:
            groups.append(calls)
        head = {"modelVersion": answer.model, "responseId": turn.short_id("gemini", 22)}
        finish = _FINISH.get(answer.finish, answer.finish)
        if not turn.stream:
            parts = [part for group in groups for part in group]
            merged = _merge_text(parts)
            doc = {
                "candidates": [_candidate(merged, finish)],
                "usageMetadata": _usage(tokens),
                **head,
            }
            return Plan(200, JSON_CT, [dumps(doc).encode()])
        groups = groups or [[{"text": ""}]]
        chunks = [
            {
                "candidates": [_candidate(group, None)],
                "usageMetadata": _usage(tokens, final=False),
                **head,
            }
            for group in groups[:-1]
        ]
        last = {
            "candidates": [_candidate(groups[-1], finish)],
            "usageMetadata": _usage(tokens),
            **head,
        }
        return self._stream_plan([*chunks, last], turn)

    def _stream_plan(self, chunks: list[dict[str, Any]], turn: Turn) -> Plan:
        if "sse" not in parse_qs(turn.query).get("alt", []):
            body = "[" + ",\r\n".join(dumps(c) for c in chunks) + "]"
            return Plan(200, JSON_CT, [body.encode()])
        units = [f"data: {dumps(c)}\r\n\r\n".encode() for c in chunks]
        return Plan(200, SSE_CT, units, sse=True, chunked=True)

    def stream_error(self, spec: StreamErrorSpec, turn: Turn) -> Plan:
        text = spec.text or "Partial answer before the error. "
        answer = Answer(turn.model, text, None, (), "stop", None, None, None)
        tokens = Tokens.of(answer, turn.prompt_tokens)
        head = {"modelVersion": turn.model, "responseId": turn.short_id("gemini", 22)}
        usage = _usage(tokens, final=False)
        chunks = [
            {"candidates": [_candidate([{"text": piece}], None)], "usageMetadata": usage, **head}
            for piece in answer.pieces(text)
        ]
        units = [f"data: {dumps(chunk)}\r\n\r\n".encode() for chunk in chunks]
        units = stream_prefix(units, spec.after_events)
        doc = self.error_doc(spec.status_code, spec.message, spec.type)
        units.append(f"data: {dumps(doc)}\r\n\r\n".encode())
        return Plan(200, SSE_CT, units, sse=True, chunked=True)


def _merge_text(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Adjacent text pieces of the same kind as one part, as a non-streamed answer has them."""
    out: list[dict[str, Any]] = []
    for part in parts:
        previous = out[-1] if out else None
        same = previous is not None and set(previous) == set(part) and "text" in part
        if same and previous is not None and previous.get("thought") == part.get("thought"):
            previous["text"] += part["text"]
        else:
            out.append(dict(part))
    return out


def _candidate(parts: list[dict[str, Any]], finish: str | None) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finish is not None:
        candidate["finishReason"] = finish
    return candidate


def _usage(tokens: Tokens, final: bool = True) -> dict[str, Any]:
    doc: dict[str, Any] = {"promptTokenCount": tokens.prompt}
    if final:
        doc["candidatesTokenCount"] = tokens.completion - tokens.reasoning
    doc["totalTokenCount"] = tokens.prompt + (tokens.completion if final else 0)
    if tokens.cached:
        doc["cachedContentTokenCount"] = tokens.cached
    doc["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": tokens.prompt}]
    if final and tokens.reasoning:
        doc["thoughtsTokenCount"] = tokens.reasoning
    return doc


def _reason(reason: str) -> dict[str, Any]:
    return {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": {"service": "generativelanguage.googleapis.com"},
    }


def _model(model: str) -> dict[str, Any]:
    return {
        "name": f"models/{model}",
        "version": "001",
        "displayName": model,
        "inputTokenLimit": 1048576,
        "outputTokenLimit": 65536,
        "supportedGenerationMethods": ["generateContent", "countTokens", "streamGenerateContent"],
    }


def _default_message(status: int, turn: Turn) -> str:
    return {
        401: "Request had invalid authentication credentials.",
        403: "The caller does not have permission",
        404: (
            f"models/{turn.model} is not found for API version v1beta, or is not supported for "
            "generateContent. Call ListModels to see the list of available models and their "
            "supported methods."
        ),
        429: "You exceeded your current quota, please check your plan and billing details.",
        500: "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
        503: "The model is overloaded. Please try again later.",
    }.get(status, phrase(status))

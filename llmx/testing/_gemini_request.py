"""Reading Gemini requests for the emulator: routes, validation and the default responder's
OpenAI-shaped view of a ``generateContent`` body."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from ._groq import dumps

__all__ = ["PREFIX", "gemini3", "normalize_body", "parts_of", "route", "validate_body"]

PREFIX = "/v1beta"
_VERSION = re.compile(r"gemini-(\d+)")
_DATA: tuple[str, ...] = ("text", "inlineData", "fileData", "functionCall", "functionResponse")
_DATA += ("executableCode", "codeExecutionResult")
_RESPONSE_TURN = (
    "Please ensure that function response turn comes immediately after a function call turn."
)


def route(path: str) -> tuple[str, str] | None:
    """``(model, method)`` of ``/v1beta/models/{model}:{method}``."""
    name, sep, method = path[len(PREFIX) + 1 :].rpartition(":")
    if not sep or not name.startswith(("models/", "tunedModels/")):
        return None
    return unquote(name).split("/", 1)[1], method


def gemini3(model: str) -> bool:
    match = _VERSION.search(model)
    return match is not None and int(match.group(1)) >= 3


def parts_of(content: Any) -> list[dict[str, Any]]:
    parts = content.get("parts") if isinstance(content, dict) else None
    return [p for p in parts if isinstance(p, dict)] if isinstance(parts, list) else []


def _pairing_problem(contents: list[Any]) -> str | None:
    for i, content in enumerate(contents):
        parts = parts_of(content)
        responses = [p["functionResponse"] for p in parts if "functionResponse" in p]
        before = parts_of(contents[i - 1]) if i else []
        calls = [p["functionCall"] for p in before if "functionCall" in p]
        if responses and not calls:
            return _RESPONSE_TURN
        if calls and content.get("role") == "user" and not responses:
            return _RESPONSE_TURN
        if not calls or not responses:
            continue
        if len(calls) != len(responses):
            return (
                "Please ensure that the number of function response parts is equal to the number "
                "of function call parts of the function call turn."
            )
        if sorted(str(c.get("name")) for c in calls) != sorted(
            str(r.get("name")) for r in responses
        ):
            return (
                "Please ensure that the function response parts name the functions of the "
                f"function call turn: calls {[c.get('name') for c in calls]}, responses "
                f"{[r.get('name') for r in responses]}."
            )
        if any(not isinstance(r.get("response"), dict) for r in responses):
            return (
                f"* GenerateContentRequest.contents[{i}].functionResponse.response: not an object"
            )
    return None


def _signature_problem(contents: list[Any]) -> str | None:
    """Gemini 3: the first function call of each model turn of the current turn is signed."""
    start = 0
    for i, content in enumerate(contents):
        if content.get("role") == "user" and any(
            "functionResponse" not in p for p in parts_of(content)
        ):
            start = i
    for content in contents[start:]:
        calls = [p for p in parts_of(content) if "functionCall" in p]
        if content.get("role") == "model" and calls and not calls[0].get("thoughtSignature"):
            name = calls[0]["functionCall"].get("name")
            return (
                "Function call is missing a thought_signature in functionCall parts. This is "
                "required for tools to work correctly, and missing thought_signature may lead to "
                f"degraded model performance. Additional data, function call `default_api:{name}`."
                " Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for "
                "more details."
            )
    return None


def _lower_types(schema: Any) -> Any:
    """OpenAPI-subset schemas (``"type": "OBJECT"``) as JSON schema for the responder."""
    if isinstance(schema, dict):
        return {
            k: (v.lower() if k == "type" and isinstance(v, str) else _lower_types(v))
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [_lower_types(item) for item in schema]
    return schema


def validate_body(body: Any, model: str) -> str | None:
    """The message of the 400 Gemini would send for this body, or None."""
    if not isinstance(body, dict):
        return "Invalid JSON payload received. Expected an object."
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        return "* GenerateContentRequest.contents: contents is not specified"
    for i, content in enumerate(contents):
        if not isinstance(content, dict) or content.get("role", "user") not in (
            "user",
            "model",
        ):
            return "Please use a valid role: user, model."
        parts = content.get("parts")
        if not isinstance(parts, list) or not parts:
            where = f"* GenerateContentRequest.contents[{i}].parts"
            return f"{where}: contents.parts must not be empty."
        for j, part in enumerate(parts):
            if not isinstance(part, dict) or not any(key in part for key in _DATA):
                return (
                    f"* GenerateContentRequest.contents[{i}].parts[{j}].data: required oneof "
                    "field 'data' must have one initialized field"
                )
    problem = _pairing_problem(contents)
    if problem is None and gemini3(model):
        problem = _signature_problem(contents)
    return problem


def normalize_body(body: dict[str, Any], model: str) -> dict[str, Any]:
    """The body as an OpenAI-shaped request for the shared default responder."""
    messages: list[dict[str, Any]] = []
    system = parts_of(body.get("systemInstruction"))
    if system:
        messages.append(
            {"role": "system", "content": "".join(str(p.get("text", "")) for p in system)}
        )
    pending: dict[str, list[str]] = {}
    for i, content in enumerate(body.get("contents") or []):
        parts = parts_of(content)
        texts = "".join(str(p["text"]) for p in parts if "text" in p and not p.get("thought"))
        if content.get("role") == "model":
            calls = []
            for j, part in enumerate(p for p in parts if "functionCall" in p):
                call = part["functionCall"]
                call_id = str(call.get("id") or f"gemini_call_{i}_{j}")
                pending.setdefault(str(call.get("name")), []).append(call_id)
                function = {
                    "name": call.get("name"),
                    "arguments": dumps(call.get("args") or {}),
                }
                calls.append({"id": call_id, "type": "function", "function": function})
            message: dict[str, Any] = {"role": "assistant", "content": texts}
            if calls:
                message["tool_calls"] = calls
            messages.append(message)
            continue
        for part in parts:
            if "functionResponse" in part:
                response = part["functionResponse"]
                queue = pending.get(str(response.get("name"))) or [f"gemini_result_{i}"]
                call_id = str(response.get("id") or queue.pop(0))
                messages.append(
                    {
                        "role": "tool",
                        "tool_call_id": call_id,
                        "content": dumps(response.get("response")),
                    }
                )
        if texts or not any("functionResponse" in p for p in parts):
            messages.append({"role": "user", "content": texts})
    return {"model": model, "messages": messages, **_settings(body)}


def _settings(body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    tools = []
    for entry in body.get("tools") or []:
        for declaration in (entry or {}).get("functionDeclarations") or []:
            schema = declaration.get("parametersJsonSchema") or _lower_types(
                declaration.get("parameters") or {"type": "object", "properties": {}}
            )
            tools.append(
                {
                    "type": "function",
                    "function": {"name": declaration.get("name"), "parameters": schema},
                }
            )
    if tools:
        out["tools"] = tools
    calling = ((body.get("toolConfig") or {}).get("functionCallingConfig")) or {}
    mode, allowed = calling.get("mode"), calling.get("allowedFunctionNames") or []
    if mode == "ANY" and len(allowed) == 1:
        out["tool_choice"] = {"type": "function", "function": {"name": allowed[0]}}
    elif mode in ("ANY", "NONE", "AUTO"):
        out["tool_choice"] = {"ANY": "required", "NONE": "none", "AUTO": "auto"}[mode]
    config = body.get("generationConfig") or {}
    if config.get("maxOutputTokens") is not None:
        out["max_tokens"] = config["maxOutputTokens"]
    if config.get("stopSequences"):
        out["stop"] = config["stopSequences"]
    if config.get("responseMimeType") == "application/json":
        schema = config.get("responseJsonSchema") or _lower_types(config.get("responseSchema"))
        if schema:
            out["response_format"] = {"type": "json_schema", "json_schema": {"schema": schema}}
        else:
            out["response_format"] = {"type": "json_object"}
    return out

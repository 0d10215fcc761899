"""llmx Request -> Gemini ``generateContent`` request body."""

from __future__ import annotations

import base64
import binascii
import json
import mimetypes
import re
from typing import Any
from urllib.parse import urlsplit

from llmx import (
    ImagePart,
    InvalidInputError,
    JSONSchemaFormat,
    Message,
    Request,
    TextPart,
    Tool,
    UnsupportedFeatureError,
)

from ._options import GeminiOptions, options_of
from ._schema import json_schema, openapi_schema

__all__ = ["DUMMY_SIGNATURE", "build_body", "major_version", "model_path", "warnings_for"]

NAME = "gemini"
DUMMY_SIGNATURE = "skip_thought_signature_validator"
"""Google's documented stand-in for a function call whose signature was never seen."""

_BUDGETS = {"none": 0, "minimal": 512, "low": 1024, "medium": 8192, "high": 24576}
_LEVELS = {"none": "MINIMAL", "minimal": "MINIMAL", "low": "LOW", "medium": "MEDIUM"}
_LEVELS["high"] = "HIGH"
_CHOICES = {"auto": "AUTO", "none": "NONE", "required": "ANY"}
_VERSION = re.compile(r"gemini-(\d+)")
_DATA_URL = re.compile(r"data:([^;,]+)?(?:;[^,]*)?;base64,(.*)", re.DOTALL)


def model_path(model: str | None) -> str:
    """``/models/{id}`` for ``"gemini-2.5-flash"`` or ``"models/gemini-2.5-flash"``; other
    resource names (``tunedModels/...``) are kept as given."""
    if not model:
        raise InvalidInputError("gemini: no model given")
    name = model.strip().strip("/")
    if ".." in name or any(c in name for c in "?#:% \t\n"):
        raise InvalidInputError(f"gemini: {model!r} is not a model name")
    return "/" + (name if "/" in name else f"models/{name}")


def major_version(model: str | None) -> int | None:
    match = _VERSION.search(model or "")
    return int(match.group(1)) if match else None


def _signature(metadata: dict[str, Any] | None, key: str = "thought_signature") -> str | None:
    value = ((metadata or {}).get(NAME) or {}).get(key)
    return value if isinstance(value, str) and value else None


def _image(part: ImagePart) -> dict[str, Any]:
    if part.data is not None:
        encoded = base64.b64encode(part.data).decode("ascii")
        return {"inlineData": {"mimeType": part.media_type, "data": encoded}}
    url = part.url or ""
    match = _DATA_URL.fullmatch(url)
    if match:
        try:
            base64.b64decode(match.group(2), validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInputError("gemini: an image data: URL is not valid base64") from None
        media = part.media_type or match.group(1) or "application/octet-stream"
        return {"inlineData": {"mimeType": media, "data": match.group(2)}}
    scheme = urlsplit(url).scheme.lower()
    if scheme == "http" or scheme not in ("https", "gs"):
        raise UnsupportedFeatureError(
            f"gemini fetches only https:// (public or signed), gs:// and Files API URLs, not "
            f"{url[:60]!r}: pass the image bytes (ImagePart.from_bytes / from_path) instead",
            provider=NAME,
        )
    file_data = {"fileUri": url}
    media = part.media_type or mimetypes.guess_type(urlsplit(url).path)[0]
    if media:
        file_data["mimeType"] = media
    return {"fileData": file_data}


def _user_parts(message: Message) -> list[dict[str, Any]]:
    if isinstance(message.content, list):
        return [{"text": p.text} if isinstance(p, TextPart) else _image(p) for p in message.content]
    return [{"text": message.text}]


def _model_parts(message: Message, dummy: bool) -> list[dict[str, Any]]:
    """An assistant message as model parts, with its thought signatures where they came."""
    metadata = message.provider_metadata
    parts: list[dict[str, Any]] = []
    thought = _signature(metadata)
    if thought:  # unsigned thought summaries are not sent back: Gemini reads nothing from them
        parts.append(
            {"text": message.reasoning or "", "thought": True, "thoughtSignature": thought}
        )
    text = message.text
    if text:
        part: dict[str, Any] = {"text": text}
        signed = _signature(metadata, "text_signature")
        if signed:
            part["thoughtSignature"] = signed
        parts.append(part)
    for position, call in enumerate(message.tool_calls):
        function: dict[str, Any] = {"name": call.name, "args": call.arguments}
        wire_id = ((call.provider_metadata or {}).get(NAME) or {}).get("id")
        if wire_id:
            function["id"] = wire_id
        entry: dict[str, Any] = {"functionCall": function}
        signature = _signature(call.provider_metadata)
        if signature is None and dummy and position == 0:
            signature = DUMMY_SIGNATURE
        if signature:
            entry["thoughtSignature"] = signature
        parts.append(entry)
    trailing = _signature(metadata, "trailing_signature") or (
        None if text else _signature(metadata, "text_signature")
    )
    if trailing:
        parts.append({"text": "", "thoughtSignature": trailing})
    return parts


def _tool_result(message: Message, names: dict[str, tuple[str, str | None]]) -> dict[str, Any]:
    call_id = message.tool_call_id or ""
    name, wire_id = names.get(call_id, (message.name or "", None))
    text = message.text
    try:
        value: Any = json.loads(text)
    except ValueError:
        value = text
    response = value if isinstance(value, dict) else {"result": value}
    function: dict[str, Any] = {"name": message.name or name, "response": response}
    if wire_id:
        function["id"] = wire_id
    return {"functionResponse": function}


def _contents(request: Request) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``contents`` and the ``systemInstruction`` parts; same-role neighbours are merged."""
    system: list[dict[str, Any]] = []
    contents: list[dict[str, Any]] = []
    names: dict[str, tuple[str, str | None]] = {}
    dummy = (major_version(request.model) or 0) >= 3
    for message in request.messages:
        if message.role in ("system", "developer"):
            system.append({"text": message.text})
            continue
        if message.role == "assistant":
            role, parts = "model", _model_parts(message, dummy)
            for call in message.tool_calls:
                wire_id = ((call.provider_metadata or {}).get(NAME) or {}).get("id")
                names[call.id] = (call.name, wire_id if isinstance(wire_id, str) else None)
        elif message.role == "tool":
            role, parts = "user", [_tool_result(message, names)]
        else:
            role, parts = "user", _user_parts(message)
        if not parts:
            continue
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    if not contents:
        raise InvalidInputError("gemini needs at least one user or assistant message")
    return contents, system


def _declaration(tool: Tool, legacy: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"name": tool.name}
    if tool.description:
        out["description"] = tool.description
    params = tool.parameters
    if params.get("properties") or set(params) - {"type", "properties", "additionalProperties"}:
        if legacy:
            out["parameters"] = openapi_schema(params)
        else:
            out["parametersJsonSchema"] = json_schema(params)
    return out


def _thinking(request: Request) -> dict[str, Any]:
    reasoning = request.reasoning
    config: dict[str, Any] = {}
    if reasoning is None:
        return config
    if reasoning.budget_tokens is not None:
        config["thinkingBudget"] = reasoning.budget_tokens
    elif reasoning.effort is not None and reasoning.effort != "default":
        if (major_version(request.model) or 0) >= 3:
            config["thinkingLevel"] = _LEVELS[reasoning.effort]
        else:
            config["thinkingBudget"] = _BUDGETS[reasoning.effort]
    if reasoning.include is not None:
        config["includeThoughts"] = reasoning.include
    return config


def _generation(request: Request, options: GeminiOptions) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for field, key in (
        ("temperature", "temperature"),
        ("top_p", "topP"),
        ("max_tokens", "maxOutputTokens"),
        ("seed", "seed"),
        ("presence_penalty", "presencePenalty"),
        ("frequency_penalty", "frequencyPenalty"),
    ):
        value = getattr(request, field)
        if value is not None:
            config[key] = value
    if options.top_k is not None:
        config["topK"] = options.top_k
    if request.stop:
        config["stopSequences"] = request.stop
    response_format = request.response_format
    if response_format == "json_object":
        config["responseMimeType"] = "application/json"
    elif isinstance(response_format, JSONSchemaFormat):
        config["responseMimeType"] = "application/json"
        if options.legacy_schema:
            config["responseSchema"] = openapi_schema(response_format.schema_)
        else:
            config["responseJsonSchema"] = json_schema(response_format.schema_)
    thinking = {**_thinking(request), **(options.thinking_config or {})}
    if thinking:
        config["thinkingConfig"] = thinking
    config.update(options.generation_config or {})
    return config


def build_body(request: Request) -> dict[str, Any]:
    """The JSON body of ``:generateContent`` / ``:streamGenerateContent`` (identical)."""
    options = options_of(request)
    contents, system = _contents(request)
    body: dict[str, Any] = {"contents": contents}
    if system:
        body["systemInstruction"] = {"parts": system}
    tools: list[dict[str, Any]] = []
    if request.tools:
        declarations = [_declaration(t, options.legacy_schema) for t in request.tools]
        tools.append({"functionDeclarations": declarations})
    tools += options.tools or []
    if tools:
        body["tools"] = tools
    choice = request.tool_choice
    if choice is not None and request.tools:
        calling: dict[str, Any] = {"mode": _CHOICES.get(choice, "ANY")}
        if choice not in _CHOICES:
            calling["allowedFunctionNames"] = [choice]
        body["toolConfig"] = {"functionCallingConfig": calling}
    generation = _generation(request, options)
    if generation:
        body["generationConfig"] = generation
    if options.safety_settings is not None:
        body["safetySettings"] = options.safety_settings
    if options.cached_content is not None:
        body["cachedContent"] = options.cached_content
    body.update(options.extra_body or {})
    return body


def warnings_for(request: Request) -> list[str]:
    """Settings Gemini has no field for (shown on ``response-start``)."""
    out = []
    if request.user is not None:
        out.append("gemini: user has no Gemini equivalent and was not sent")
    if request.parallel_tool_calls is False:
        out.append("gemini: parallel_tool_calls=False cannot be expressed and was ignored")
    if any(
        isinstance(part, ImagePart) and part.detail
        for message in request.messages
        if isinstance(message.content, list)
        for part in message.content
    ):
        out.append(
            "gemini: ImagePart.detail was ignored "
            "(set generation_config={'mediaResolution': ...} in provider_options)"
        )
    return out

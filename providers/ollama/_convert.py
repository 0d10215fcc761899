"""llmx Request -> Ollama ``POST /api/chat`` request body."""

from __future__ import annotations

import base64
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from llmx import (
    ImagePart,
    InvalidInputError,
    JSONSchemaFormat,
    Message,
    Request,
    Tool,
    UnsupportedFeatureError,
)

__all__ = ["OllamaOptions", "build_body", "convert_messages", "think_value", "warnings_for"]

ThinkLevel = Literal["low", "medium", "high", "max"]


class OllamaOptions(BaseModel):
    """``Request.provider_options["ollama"]``: Ollama-only request fields.

    ``options`` holds Modelfile parameters (``num_ctx``, ``top_k``, ``min_p``,
    ``repeat_penalty``, ``num_gpu``, ...) and wins over the same keys set from the Request.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    keep_alive: str | int | float | None = None
    """How long the model stays loaded: ``"10m"``, seconds, ``-1`` forever, ``0`` unload now."""
    options: dict[str, Any] | None = None
    think: bool | ThinkLevel | None = None
    """Sent as is; overrides the value derived from ``Request.reasoning`` (e.g. ``"max"``)."""
    extra_body: dict[str, Any] | None = None
    """Any other top-level field (``truncate``, ``shift``, ...), sent as is."""


_RESERVED = frozenset({"model", "messages", "stream"})


def options_of(request: Request) -> OllamaOptions:
    try:
        options = OllamaOptions.model_validate(request.provider_options.get("ollama") or {})
    except ValidationError as exc:
        raise InvalidInputError(f"invalid provider_options['ollama']: {exc}") from None
    clash = _RESERVED & set(options.extra_body or {})
    if clash:
        raise InvalidInputError(
            f"provider_options['ollama'].extra_body may not set {sorted(clash)}: "
            "llmx sets them from the Request and the call (chat() or stream())"
        )
    return options


def _image(part: ImagePart) -> str:
    """An image as the bare base64 string Ollama wants."""
    if part.data is not None:
        return base64.b64encode(part.data).decode("ascii")
    url = part.url or ""
    header, sep, payload = url.partition(",")
    if url.startswith("data:") and sep and header.endswith(";base64"):
        return payload
    raise UnsupportedFeatureError(
        f"Ollama accepts images only as data, not as a URL ({url[:80]!r}): download the image "
        "and pass ImagePart.from_bytes(data, media_type) or ImagePart.from_path(path)",
        provider="ollama",
    )


def _content(message: Message, out: dict[str, Any]) -> None:
    out["content"] = message.text
    if isinstance(message.content, list):
        images = [_image(part) for part in message.content if isinstance(part, ImagePart)]
        if images:
            out["images"] = images


def convert_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """Messages in Ollama's form; tool results get ``tool_name`` from the call they answer."""
    names: dict[str, str] = {}
    converted: list[dict[str, Any]] = []
    for message in messages:
        role = "system" if message.role == "developer" else message.role
        out: dict[str, Any] = {"role": role}
        _content(message, out)
        if role == "assistant":
            if message.reasoning:
                out["thinking"] = message.reasoning
            if message.tool_calls:
                names.update((call.id, call.name) for call in message.tool_calls)
                out["tool_calls"] = [
                    {"id": call.id, "function": {"name": call.name, "arguments": call.arguments}}
                    for call in message.tool_calls
                ]
        elif role == "tool":
            name = message.name or names.get(message.tool_call_id or "")
            if name:
                out["tool_name"] = name
            if message.tool_call_id:
                out["tool_call_id"] = message.tool_call_id
        converted.append(out)
    return converted


def _tool(tool: Tool) -> dict[str, Any]:
    function: dict[str, Any] = {"name": tool.name, "parameters": tool.parameters}
    if tool.description:
        function["description"] = tool.description
    return {"type": "function", "function": function}


def think_value(request: Request) -> bool | str | None:
    """``think`` from ``Request.reasoning``: effort level, on/off, or None (server default)."""
    reasoning = request.reasoning
    if reasoning is None:
        return None
    effort = reasoning.effort
    if effort == "none":
        return False
    if effort in ("low", "medium", "high"):
        return effort
    if effort == "minimal":
        return "low"
    return reasoning.include  # None (default) or on/off


_OPTIONS = (
    ("temperature", "temperature"),
    ("top_p", "top_p"),
    ("max_tokens", "num_predict"),
    ("seed", "seed"),
    ("frequency_penalty", "frequency_penalty"),
    ("presence_penalty", "presence_penalty"),
)


def _format(value: str | JSONSchemaFormat) -> str | dict[str, Any] | None:
    if isinstance(value, JSONSchemaFormat):
        return value.schema_
    return "json" if value == "json_object" else None


def build_body(request: Request, *, stream: bool, options: OllamaOptions) -> dict[str, Any]:
    """The JSON body of ``POST /api/chat``; unset fields are left out, never sent as null."""
    body: dict[str, Any] = {}
    if request.model is not None:
        body["model"] = request.model
    body["messages"] = convert_messages(request.messages)
    body["stream"] = stream  # Ollama streams unless told otherwise
    tools = request.tools
    choice = request.tool_choice
    if choice == "none":
        tools = []
    elif choice not in (None, "auto", "required"):
        tools = [tool for tool in tools if tool.name == choice]
    if tools:
        body["tools"] = [_tool(tool) for tool in tools]
    if request.response_format is not None:
        fmt = _format(request.response_format)
        if fmt is not None:
            body["format"] = fmt
    think = options.think if options.think is not None else think_value(request)
    if think is not None:
        body["think"] = think
    settings: dict[str, Any] = {}
    for field, wire in _OPTIONS:
        value = getattr(request, field)
        if value is not None:
            settings[wire] = value
    if request.stop:
        settings["stop"] = request.stop
    if options.options:
        settings.update((k, v) for k, v in options.options.items() if v is not None)
    if settings:
        body["options"] = settings
    if options.keep_alive is not None:
        body["keep_alive"] = options.keep_alive
    if options.extra_body:
        body.update((k, v) for k, v in options.extra_body.items() if v is not None)
    return body


def warnings_for(request: Request) -> list[str]:
    """Settings Ollama cannot honour exactly (shown on response-start and Response.warnings)."""
    out: list[str] = []
    choice = request.tool_choice
    if choice == "required":
        out.append(
            "ollama: tool_choice='required' is not supported; the model may answer without "
            "calling a tool"
        )
    elif choice not in (None, "auto", "none"):
        out.append(
            f"ollama: tool_choice={choice!r} is not enforced; only that tool was offered, but "
            "the model may answer without calling it"
        )
    if request.parallel_tool_calls is False:
        out.append("ollama: parallel_tool_calls=False is not supported; several calls may come")
    if request.reasoning is not None and request.reasoning.budget_tokens is not None:
        out.append("ollama: reasoning.budget_tokens is not supported; use reasoning.effort")
    if request.user is not None:
        out.append("ollama: user is not supported and was not sent")
    if any(tool.strict for tool in request.tools):
        out.append("ollama: Tool.strict is not supported; tool arguments are not schema-checked")
    if any(
        isinstance(part, ImagePart) and part.detail is not None
        for message in request.messages
        if isinstance(message.content, list)
        for part in message.content
    ):
        out.append("ollama: ImagePart.detail is not supported and was ignored")
    return out

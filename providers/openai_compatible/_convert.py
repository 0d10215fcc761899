"""llmx Request -> chat-completions request body."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from ._adapter import OpenAICompatibleConfig

__all__ = ["build_body", "convert_message"]


def _text(message: Message, config: OpenAICompatibleConfig) -> str:
    """The text of a message that cannot carry images on this wire (all but user messages)."""
    if isinstance(message.content, list) and any(
        isinstance(part, ImagePart) for part in message.content
    ):
        raise UnsupportedFeatureError(
            f"{config.name}: a {message.role} message cannot carry images on the "
            "chat-completions wire; put images in user messages",
            provider=config.name,
        )
    return message.text


def _parts(content: list[TextPart | ImagePart]) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, TextPart):
            parts.append({"type": "text", "text": part.text})
        else:
            image: dict[str, Any] = {"url": part.data_url()}
            if part.detail:
                image["detail"] = part.detail
            parts.append({"type": "image_url", "image_url": image})
    return parts


def convert_message(message: Message, config: OpenAICompatibleConfig) -> dict[str, Any]:
    """One message in chat-completions form; unset fields are left out, never sent as null."""
    role = message.role
    if role == "developer" and not config.developer_role:
        role = "system"
    out: dict[str, Any] = {"role": role}
    if role == "user" and isinstance(message.content, list):
        out["content"] = _parts(message.content)
    elif role == "assistant":
        text = _text(message, config)
        if text or not message.tool_calls or config.content_with_tool_calls:
            out["content"] = text
        if message.tool_calls:
            out["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {
                        "name": call.name,
                        "arguments": _raw_arguments(call.raw_arguments, call.arguments),
                    },
                }
                for call in message.tool_calls
            ]
        if message.reasoning and config.assistant_reasoning_field:
            out[config.assistant_reasoning_field] = message.reasoning
    else:
        out["content"] = _text(message, config)
    if role == "tool":
        if not message.tool_call_id:
            raise InvalidInputError(
                "a tool message needs tool_call_id: the id of the assistant's tool call it "
                "answers (use Message.tool(call.id, result))"
            )
        out["tool_call_id"] = message.tool_call_id
    if message.name and config.send_names and role != "tool":
        out["name"] = message.name
    return out


def _raw_arguments(raw: str, arguments: dict[str, Any]) -> str:
    """The arguments string to send back: the model's own when it still parses, else ours."""
    try:
        if json.loads(raw) == arguments:
            return raw
    except ValueError:
        pass
    return json.dumps(arguments, ensure_ascii=False)


def _tool(tool: Tool) -> dict[str, Any]:
    function: dict[str, Any] = {"name": tool.name, "parameters": tool.parameters}
    if tool.description:
        function["description"] = tool.description
    if tool.strict is not None:
        function["strict"] = tool.strict
    return {"type": "function", "function": function}


def _response_format(value: str | JSONSchemaFormat) -> dict[str, Any]:
    if isinstance(value, str):
        return {"type": value}
    schema: dict[str, Any] = {"name": value.name, "schema": value.schema_}
    if value.description:
        schema["description"] = value.description
    if value.strict is not None:
        schema["strict"] = value.strict
    return {"type": "json_schema", "json_schema": schema}


_SIMPLE = ("temperature", "top_p", "seed", "frequency_penalty", "presence_penalty", "user")


def build_body(request: Request, *, stream: bool, config: OpenAICompatibleConfig) -> dict[str, Any]:
    """The JSON body of ``POST /chat/completions``."""
    body: dict[str, Any] = {"messages": [convert_message(m, config) for m in request.messages]}
    if request.model is not None:  # the client fills it in; some servers need none
        body = {"model": request.model, **body}
    if stream:
        body["stream"] = True
        if config.include_usage:
            body["stream_options"] = {"include_usage": True}
    for name in _SIMPLE:
        value = getattr(request, name)
        if value is not None:
            body[name] = value
    if request.max_tokens is not None:
        body[config.max_tokens_field] = request.max_tokens
    if request.stop:
        body["stop"] = request.stop
    if request.tools:
        body["tools"] = [_tool(t) for t in request.tools]
        if request.parallel_tool_calls is not None:
            body["parallel_tool_calls"] = request.parallel_tool_calls
    if request.tool_choice is not None:
        choice = request.tool_choice
        body["tool_choice"] = (
            choice
            if choice in ("auto", "none", "required")
            else {"type": "function", "function": {"name": choice}}
        )
    if request.response_format is not None:
        body["response_format"] = _response_format(request.response_format)
    reasoning = request.reasoning
    if reasoning is not None and reasoning.effort is not None and config.reasoning_effort:
        body["reasoning_effort"] = reasoning.effort
    return body

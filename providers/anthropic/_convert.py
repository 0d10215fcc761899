"""llmx Request -> Anthropic Messages request body (``POST /v1/messages``)."""

from __future__ import annotations

import base64
import binascii
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
    from ._adapter import AnthropicOptions

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "EFFORT_BUDGETS",
    "JSON_TOOL",
    "build_body",
    "convert_messages",
    "request_warnings",
    "thinking_budget",
]

DEFAULT_MAX_TOKENS = 4096
"""``max_tokens`` when the request sets none (Anthropic requires it); thinking adds its budget."""
MIN_BUDGET = 1024
"""Anthropic's smallest ``thinking.budget_tokens``."""
EFFORT_BUDGETS = {"minimal": 1024, "low": 2048, "medium": 8192, "high": 16384, "default": 8192}
"""``ReasoningOptions.effort`` -> ``thinking.budget_tokens``."""
JSON_TOOL = "json"
"""The synthetic tool that carries ``response_format`` output in ``json_mode="tool"``."""

_UNSENT = ("seed", "frequency_penalty", "presence_penalty")


def thinking_budget(request: Request) -> int | None:
    """The thinking budget the request asks for (None: thinking stays off).

    ``budget_tokens`` wins over ``effort``; 0 or effort ``"none"`` turns thinking off, and a
    budget under Anthropic's minimum of 1024 is raised to 1024 (with a warning).
    """
    reasoning = request.reasoning
    if reasoning is None:
        return None
    if reasoning.budget_tokens is not None:
        budget = max(reasoning.budget_tokens, MIN_BUDGET) if reasoning.budget_tokens else None
    elif reasoning.effort is None or reasoning.effort == "none":
        return None
    else:
        budget = EFFORT_BUDGETS[reasoning.effort]
    return None if budget is None or unsigned_tool_loop(request) else budget


def unsigned_tool_loop(request: Request) -> bool:
    """Whether the open tool loop (after the last user text turn) has an assistant tool call
    without a signed thinking block, e.g. from another provider. Anthropic rejects thinking on
    such a request (400), so thinking stays off for it."""
    last_user = max((i for i, m in enumerate(request.messages) if m.role == "user"), default=-1)
    return any(
        message.role == "assistant" and message.tool_calls and not _thinking_blocks(message)
        for message in request.messages[last_user + 1 :]
    )


def request_warnings(request: Request) -> list[str]:
    """Settings that are not sent, or not sent as given (shown on ``response-start``)."""
    out = [
        f"anthropic: {name} is not supported by the Messages API and was not sent"
        for name in _UNSENT
        if getattr(request, name) is not None
    ]
    if request.temperature is not None and request.temperature > 1:
        out.append(
            f"anthropic: temperature {request.temperature} is above Anthropic's maximum of 1 "
            "and was sent as 1"
        )
    reasoning = request.reasoning
    if reasoning is not None and reasoning.budget_tokens and reasoning.budget_tokens < MIN_BUDGET:
        out.append(
            f"anthropic: reasoning budget_tokens {reasoning.budget_tokens} is below Anthropic's "
            f"minimum of {MIN_BUDGET} and was sent as {MIN_BUDGET}"
        )
    if (
        reasoning is not None
        and (reasoning.budget_tokens or reasoning.effort not in (None, "none"))
        and unsigned_tool_loop(request)
    ):
        out.append(
            "anthropic: thinking was left off for this request: the open tool loop has a tool "
            "call without a signed thinking block (a history from another provider), which "
            "Anthropic rejects together with thinking"
        )
    started = False
    for message in request.messages:
        if message.role not in ("system", "developer"):
            started = True
        elif started:
            out.append(
                "anthropic: system messages after the first turn were moved to the top-level "
                "system prompt (Anthropic has no system role inside the conversation)"
            )
            break
    return out


# -- messages ----------------------------------------------------------------------------------


def _anthropic_metadata(message: Message) -> dict[str, Any]:
    value = (message.provider_metadata or {}).get("anthropic")
    return value if isinstance(value, dict) else {}


def _image(part: ImagePart) -> dict[str, Any]:
    if part.data is not None:
        data = base64.b64encode(part.data).decode("ascii")
        source = {"type": "base64", "media_type": part.media_type, "data": data}
    elif part.url is not None and part.url.startswith("data:"):
        header, _, data = part.url[5:].partition(",")
        media_type, _, encoding = header.partition(";")
        if encoding != "base64" or not media_type:
            raise UnsupportedFeatureError(
                "anthropic: a data: URL image must be base64-encoded with a media type",
                provider="anthropic",
            )
        try:
            base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInputError("anthropic: an image data: URL is not valid base64") from None
        source = {"type": "base64", "media_type": media_type, "data": data}
    else:
        source = {"type": "url", "url": part.url}
    return {"type": "image", "source": source}


def _blocks(content: str | list[TextPart | ImagePart] | None) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [
        {"type": "text", "text": part.text} if isinstance(part, TextPart) else _image(part)
        for part in content
    ]


def _thinking_blocks(message: Message) -> list[dict[str, Any]]:
    """Thinking blocks recorded on an assistant message, to send back unmodified and in order."""
    blocks: list[dict[str, Any]] = []
    for item in _anthropic_metadata(message).get("thinking") or ():
        if not isinstance(item, dict):
            continue
        if "redacted_thinking" in item:
            blocks.append({"type": "redacted_thinking", "data": item["redacted_thinking"]})
        elif "signature" in item:
            blocks.append(
                {
                    "type": "thinking",
                    "thinking": item.get("thinking") or "",
                    "signature": item["signature"],
                }
            )
    return blocks


def _assistant_blocks(message: Message) -> list[dict[str, Any]]:
    blocks = _thinking_blocks(message)
    text = message.text
    if text:
        blocks.append({"type": "text", "text": text})
    blocks.extend(
        {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
        for call in message.tool_calls
    )
    return blocks


def _tool_result(message: Message) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": message.tool_call_id}
    if isinstance(message.content, list):
        block["content"] = _blocks(message.content)
    elif message.content:
        block["content"] = message.content
    return block


def _with_cache_control(blocks: list[dict[str, Any]], message: Message) -> list[dict[str, Any]]:
    """``provider_metadata["anthropic"]["cache_control"]`` marks the message's last block."""
    cache_control = _anthropic_metadata(message).get("cache_control")
    if cache_control and blocks:
        blocks[-1] = {**blocks[-1], "cache_control": cache_control}
    return blocks


def _compact(turn: dict[str, Any]) -> dict[str, Any]:
    """A turn that is one plain text block is sent as a string."""
    content = turn["content"]
    if len(content) == 1 and content[0].keys() == {"type", "text"} and content[0]["type"] == "text":
        return {"role": turn["role"], "content": content[0]["text"]}
    return turn


def convert_messages(messages: list[Message]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """System text blocks and the conversation turns.

    System and developer messages go to the top-level ``system``; tool results become
    ``tool_result`` blocks in a user turn, and consecutive user-side messages share one turn
    (tool results first, as Anthropic requires). Empty assistant messages are left out.
    """
    system: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    for message in messages:
        role = message.role
        if role in ("system", "developer"):
            if isinstance(message.content, list) and any(
                isinstance(part, ImagePart) for part in message.content
            ):
                raise UnsupportedFeatureError(
                    "anthropic: the system prompt can hold text only, not images",
                    provider="anthropic",
                )
            block = {"type": "text", "text": message.text}
            system.extend(_with_cache_control([block], message))
            continue
        if role == "assistant":
            blocks = _with_cache_control(_assistant_blocks(message), message)
            if blocks:
                turns.append({"role": "assistant", "content": blocks})
            continue
        blocks = [_tool_result(message)] if role == "tool" else _blocks(message.content)
        blocks = _with_cache_control(blocks, message)
        if turns and turns[-1]["role"] == "user":
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": "user", "content": blocks})
    return system, [_compact(turn) for turn in turns]


# -- tools and structured output ---------------------------------------------------------------


def _tool(tool: Tool) -> dict[str, Any]:
    out: dict[str, Any] = {"name": tool.name}
    if tool.description:
        out["description"] = tool.description
    out["input_schema"] = tool.parameters
    if tool.strict:
        out["strict"] = True
    return out


def _json_tool(request: Request, thinking: bool) -> dict[str, Any]:
    """The forced tool that emulates ``response_format`` (``json_mode="tool"``)."""
    value = request.response_format
    if thinking:
        raise UnsupportedFeatureError(
            "anthropic: response_format is emulated with a forced tool call, which Anthropic "
            "does not allow together with extended thinking; turn reasoning off or use "
            "provider_options['anthropic'] = {'json_mode': 'native'} on a model that supports "
            "structured outputs",
            provider="anthropic",
        )
    if any(tool.name == JSON_TOOL for tool in request.tools):
        raise UnsupportedFeatureError(
            f"anthropic: response_format needs the tool name {JSON_TOOL!r}, but the request "
            "already has a tool with that name",
            provider="anthropic",
        )
    if request.tool_choice == "none":
        raise UnsupportedFeatureError(
            "anthropic: response_format is emulated with a tool call, so tool_choice='none' "
            "cannot be honoured",
            provider="anthropic",
        )
    if isinstance(value, JSONSchemaFormat):
        schema = value.schema_
        if schema.get("type", "object") != "object":
            raise UnsupportedFeatureError(
                "anthropic: response_format emulation needs a JSON schema of type 'object'",
                provider="anthropic",
            )
        description = value.description or f"Give the final answer as {value.name!r} JSON."
    else:
        schema = {"type": "object", "additionalProperties": True}
        description = "Give the final answer as a JSON object."
    return {"name": JSON_TOOL, "description": description, "input_schema": schema}


def _tool_choice(request: Request, json_tool: bool) -> dict[str, Any] | None:
    choice = request.tool_choice
    out: dict[str, Any]
    if json_tool:
        if not request.tools:
            out = {"type": "tool", "name": JSON_TOOL}
        elif choice in (None, "auto", "required"):
            out = {"type": "any"}  # a user tool, or the final answer through the JSON tool
        else:
            out = {"type": "tool", "name": choice}
    elif not request.tools:
        return None
    elif choice is None:
        if request.parallel_tool_calls is not False:
            return None
        out = {"type": "auto"}
    elif choice in ("auto", "none"):
        out = {"type": choice}
    elif choice == "required":
        out = {"type": "any"}
    else:
        out = {"type": "tool", "name": choice}
    if request.parallel_tool_calls is False and out["type"] != "none":
        out["disable_parallel_tool_use"] = True
    return out


# -- the body ----------------------------------------------------------------------------------


def _max_tokens(request: Request, budget: int | None, default: int) -> int:
    if request.max_tokens is None:
        return default + (budget or 0)
    if budget is not None and request.max_tokens <= budget:
        raise InvalidInputError(
            f"anthropic: max_tokens ({request.max_tokens}) must be larger than the thinking "
            f"budget ({budget}); raise max_tokens or lower the reasoning budget"
        )
    return request.max_tokens


def build_body(
    request: Request, *, stream: bool, options: AnthropicOptions, default_max_tokens: int
) -> dict[str, Any]:
    """The JSON body of ``POST /v1/messages``; unset fields are left out, never sent as null."""
    system, messages = convert_messages(request.messages)
    budget = thinking_budget(request)
    if options.thinking is not None:
        given = options.thinking.get("budget_tokens")
        budget = given if isinstance(given, int) else None
    body: dict[str, Any] = {}
    if request.model is not None:
        body["model"] = request.model
    body["max_tokens"] = _max_tokens(request, budget, default_max_tokens)
    if system:
        plain = len(system) == 1 and "cache_control" not in system[0]
        body["system"] = system[0]["text"] if plain else system
    body["messages"] = messages
    tools = [_tool(tool) for tool in request.tools]
    json_tool = False
    format_ = request.response_format
    if format_ is not None and format_ != "text":
        if options.json_mode == "native":
            if not isinstance(format_, JSONSchemaFormat):
                raise UnsupportedFeatureError(
                    "anthropic: json_mode='native' needs a JSON schema; use a JSONSchemaFormat "
                    "or json_mode='tool' for response_format='json_object'",
                    provider="anthropic",
                )
            body["output_config"] = {"format": {"type": "json_schema", "schema": format_.schema_}}
        else:
            thinking = budget is not None or (
                options.thinking is not None and options.thinking.get("type") != "disabled"
            )
            tools.append(_json_tool(request, thinking))
            json_tool = True
    if tools:
        body["tools"] = tools
    choice = _tool_choice(request, json_tool)
    if choice is not None:
        body["tool_choice"] = choice
    if options.thinking is not None:
        body["thinking"] = options.thinking
    elif budget is not None:
        body["thinking"] = {"type": "enabled", "budget_tokens": budget}
    if request.temperature is not None:
        body["temperature"] = min(request.temperature, 1.0)
    if request.top_p is not None:
        body["top_p"] = request.top_p
    if options.top_k is not None:
        body["top_k"] = options.top_k
    if request.stop:
        body["stop_sequences"] = request.stop
    metadata = {"user_id": request.user} if request.user else {}
    metadata.update(options.metadata or {})
    if metadata:
        body["metadata"] = metadata
    if options.service_tier is not None:
        body["service_tier"] = options.service_tier
    if stream:
        body["stream"] = True
    if options.extra_body:
        body.update(options.extra_body)
    return body

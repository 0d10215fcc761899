"""Checks that run before anything is sent: the conversation, the tools, the encoded body."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from ._errors import InvalidInputError
from ._types import Request

__all__ = ["encode_body", "validate_messages", "validation_message"]

_NEEDS_CONTENT = ("system", "developer", "user", "tool")


def validation_message(error: ValidationError) -> str:
    """A pydantic error as one line: ``field.path: problem (got value)`` per problem."""
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "value"
        got = repr(item.get("input"))
        if len(got) > 80:
            got = got[:77] + "..."
        parts.append(f"{where}: {item['msg']} (got {got})")
    return "; ".join(parts)


def validate_messages(request: Request) -> None:
    """Reject conversations no provider accepts, before anything is sent."""
    if not request.messages:
        raise InvalidInputError("the request has no messages: add at least one user message")
    call_ids: set[str] = set()
    for position, message in enumerate(request.messages):
        where = f"messages[{position}]"
        if message.role in _NEEDS_CONTENT and message.content is None:
            raise InvalidInputError(f"{where} ({message.role}) has no content")
        if message.role == "assistant":
            if message.content is None and not message.tool_calls and message.reasoning is None:
                raise InvalidInputError(f"{where} (assistant) has neither content nor tool calls")
            call_ids.update(call.id for call in message.tool_calls)
        elif message.role == "tool":
            if not message.tool_call_id:
                raise InvalidInputError(f"{where} is a tool result without tool_call_id")
            if message.tool_call_id not in call_ids:
                raise InvalidInputError(
                    f"{where} answers tool call {message.tool_call_id!r}, but no "
                    "earlier assistant message made that call"
                )
        if message.tool_calls and message.role != "assistant":
            raise InvalidInputError(f"{where}: only assistant messages carry tool_calls")
    _validate_tools(request)


def _validate_tools(request: Request) -> None:
    names: set[str] = set()
    for position, tool in enumerate(request.tools):
        if tool.name in names:
            raise InvalidInputError(f"tools[{position}]: the tool name {tool.name!r} is repeated")
        names.add(tool.name)
        properties = tool.parameters.get("properties")
        if properties is not None and not isinstance(properties, dict):
            raise InvalidInputError(
                f"tools[{position}] ({tool.name}): parameters.properties must be an object "
                "mapping names to JSON schemas"
            )
        for name, schema in (properties or {}).items():
            if not isinstance(schema, dict | bool):
                raise InvalidInputError(
                    f"tools[{position}] ({tool.name}): parameters.properties.{name} is not a "
                    f"JSON schema (got {type(schema).__name__})"
                )
        cycle = _ref_cycle(tool.parameters)
        if cycle:
            raise InvalidInputError(
                f"tools[{position}] ({tool.name}): the $ref {cycle!r} only leads back to "
                "itself (a schema that describes nothing)"
            )
    choice = request.tool_choice
    if isinstance(choice, str) and choice not in ("auto", "none", "required", *names):
        raise InvalidInputError(
            f"tool_choice {choice!r} names no tool of the request "
            f"(tools: {sorted(names) or 'none'}); use 'auto', 'none', 'required' or a tool name"
        )


def _ref_cycle(root: dict[str, Any]) -> str | None:
    """A local ``$ref`` whose chain of pure aliases (``{"$ref": ...}`` and nothing else) comes
    back to itself. Recursive schemas that describe something (trees) are fine."""
    for ref in _refs(root, 0):
        seen: set[str] = set()
        current: Any = ref
        while isinstance(current, str) and current.startswith("#"):
            if current in seen:
                return ref
            seen.add(current)
            target = _resolve(root, current)
            if not (isinstance(target, dict) and set(target) == {"$ref"}):
                break
            current = target["$ref"]
    return None


def _refs(node: Any, depth: int) -> list[str]:
    if depth > 64:
        return []
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        for value in node.values():
            found += _refs(value, depth + 1)
        return found
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item, depth + 1)]
    return []


def _resolve(root: Any, pointer: str) -> Any:
    target = root
    for part in pointer[1:].split("/"):
        if not part:
            continue
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(target, dict) or part not in target:
            return None
        target = target[part]
    return target


def encode_body(body: Any) -> bytes:
    """The JSON body as UTF-8. Raises InvalidInputError for values JSON cannot carry (NaN,
    infinities, bytes, sets, ...); text with lone surrogates is sent \\u-escaped."""
    try:
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"the request cannot be encoded as JSON: {exc}; tool arguments, tool results "
            "and options must be JSON values (no NaN, bytes, sets or objects)"
        ) from None
    except RecursionError:
        raise InvalidInputError("the request is nested too deeply to encode as JSON") from None
    try:
        return text.encode()
    except UnicodeEncodeError:  # lone surrogates: escape them, the result is valid JSON
        return json.dumps(body, separators=(",", ":"), allow_nan=False).encode()

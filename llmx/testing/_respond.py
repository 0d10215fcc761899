"""Groq-style request validation and the deterministic default responder."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._groq import ModelInfo, count_tokens, dumps, has_cjk, message_text, split_text
from ._reply import Reply

__all__ = ["default_reply", "synthesize", "validate_chat"]

_MESSAGE_FIELDS: dict[str, tuple[str, ...]] = {
    "system": ("content", "role", "name"),
    "developer": ("content", "role", "name"),
    "user": ("content", "role", "name"),
    "assistant": ("content", "role", "name", "tool_calls", "reasoning", "function_call"),
    "tool": ("content", "role", "tool_call_id", "name"),
    "function": ("content", "role", "name"),
}


def _bad(message: str, param: str | None = None) -> Reply:
    return Reply.error(400, message=message, type="invalid_request_error", param=param)


def _distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def _suggest(prop: str, allowed: tuple[str, ...]) -> str:
    ranked = sorted(("name", *allowed), key=lambda p: _distance(prop, p))
    return ranked[0]


def validate_chat(body: Any) -> Reply | None:
    """Cheap checks Groq performs before running a model; a 400 ``Reply`` or None."""
    if not isinstance(body, dict):
        return _bad("'' : value must be an object")
    for required in ("model", "messages"):
        if required not in body:
            return _bad(f"property '{required}' is missing")
    messages = body["messages"]
    if not isinstance(messages, list):
        return _bad("'messages' : value must be an array")
    if not messages:
        return _bad("'messages' : minimum number of items is 1")
    for i, message in enumerate(messages):
        path = f"'messages.{i}'"
        if not isinstance(message, dict):
            return _bad(f"{path} : value must be an object")
        role = message.get("role")
        if role is None:
            return _bad(f"{path} : property 'role' is missing")
        if not isinstance(role, str) or role not in _MESSAGE_FIELDS:
            return _bad(f"{path} : discriminator property 'role' has invalid value '{role}'")
        allowed = _MESSAGE_FIELDS[role]
        for prop in message:
            if prop not in allowed:
                hint = _suggest(prop, allowed)
                return _bad(
                    f"{path} : for 'role:{role}' the following must be satisfied"
                    f"[({path} : property '{prop}' is unsupported, did you mean '{hint}'?)]"
                )
        if role == "tool" and "tool_call_id" not in message:
            return _bad(
                f"{path} : for 'role:tool' the following must be satisfied"
                f"[({path} : property 'tool_call_id' is missing)]"
            )
    n = body.get("n")
    if n is not None and n != 1:
        bound = "at most" if isinstance(n, (int, float)) and n > 1 else "at least"
        return _bad(f"'n' : number must be {bound} 1", param="n")
    return None


# --- JSON-schema argument synthesis ----------------------------------------------------------

_LOCATION_KEYS = {"city", "location", "place", "address", "region", "town", "destination"}
_QUERY_KEYS = {"query", "q", "search", "question", "prompt", "text", "topic", "keyword"}
_NAME_KEYS = {"name", "title", "username", "person"}
_EN_PLACE = re.compile(r"\b(?:in|at|for|near|to|from)\s+([A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*)")
_ZH_PLACE = re.compile(r"([\u4e00-\u9fff]{2,6}?)(?:市)?(?:的)?(?:天气|气温|温度|空气|时间)")
_ZH_FILLER = re.compile(
    r"^(?:请问|请|帮我|查询|查一下|看看|今天|明天|后天|现在|的)+|(?:今天|明天|后天|现在|的)+$"
)
_QUOTED = re.compile(r"\"([^\"]+)\"|“([^”]+)”|'([^']+)'|「([^」]+)」")
_CAPITAL = re.compile(r"(?<!^)(?<![.!?]\s)\b([A-Z][a-z][\w'-]*(?:\s+[A-Z][a-z][\w'-]*)*)")


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _location(hint: str) -> str:
    match = _EN_PLACE.search(hint)
    if match:
        return match.group(1)
    zh = _ZH_PLACE.search(hint)
    if zh:
        place = _ZH_FILLER.sub("", zh.group(1))
        if place:
            return place
    cap = _CAPITAL.search(hint)
    return cap.group(1) if cap else _short(hint, 40) or "San Francisco"


def _name(hint: str) -> str:
    quoted = _QUOTED.search(hint)
    if quoted:
        return next(g for g in quoted.groups() if g)
    cap = _CAPITAL.search(hint)
    return cap.group(1) if cap else "example"


def _string(schema: Mapping[str, Any], key: str | None, hint: str) -> str:
    lowered = (key or "").lower()
    fmt = schema.get("format")
    if fmt == "date":
        return "2025-01-01"
    if fmt == "date-time":
        return "2025-01-01T00:00:00Z"
    if fmt == "email":
        return "user@example.com"
    if fmt in ("uri", "url"):
        return "https://example.com"
    if lowered in _LOCATION_KEYS or lowered.endswith(("_city", "_location")):
        value = _location(hint)
    elif lowered in _QUERY_KEYS or lowered.endswith("_query"):
        value = _short(hint, 200) or "example"
    elif lowered in _NAME_KEYS or lowered.endswith("_name"):
        value = _name(hint)
    else:
        value = "example"
    min_len = schema.get("minLength")
    if isinstance(min_len, int) and len(value) < min_len:
        value = value + "x" * (min_len - len(value))
    max_len = schema.get("maxLength")
    return value[:max_len] if isinstance(max_len, int) else value


def _number(schema: Mapping[str, Any], integer: bool) -> int | float:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    value: float = 1
    if isinstance(low, (int, float)):
        value = low + (1 if "exclusiveMinimum" in schema and "minimum" not in schema else 0)
    elif isinstance(high, (int, float)) and high < 1:
        value = high - (1 if "exclusiveMaximum" in schema and "maximum" not in schema else 0)
    return int(value) if integer else float(value)


def synthesize(
    schema: Any, hint: str, key: str | None = None, root: Any = None, depth: int = 0
) -> Any:
    """A value valid for a (simple) JSON schema; strings for city/query/name-like keys are
    taken from ``hint`` (the user's message). Required properties are always present."""
    root = schema if root is None else root
    if not isinstance(schema, dict) or depth > 8:
        return "example" if depth <= 8 else None
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        return synthesize(target, hint, key, root, depth + 1)
    for word in ("const", "default"):
        if word in schema:
            return schema[word]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for word in ("anyOf", "oneOf", "allOf"):
        options = schema.get(word)
        if isinstance(options, list) and options:
            usable = [o for o in options if not (isinstance(o, dict) and o.get("type") == "null")]
            return synthesize((usable or options)[0], hint, key, root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
    if kind == "object":
        raw_props = schema.get("properties")
        props: dict[str, Any] = raw_props if isinstance(raw_props, dict) else {}
        required = [r for r in schema.get("required") or [] if isinstance(r, str)]
        names = required or list(props)
        return {
            name: synthesize(props.get(name, {}), hint, name, root, depth + 1) for name in names
        }
    if kind == "array":
        count = max(1, int(schema.get("minItems") or 1))
        if schema.get("maxItems") == 0:
            return []
        item_key = key[:-1] if key and key.endswith("s") else key
        return [synthesize(schema.get("items", {}), hint, item_key, root, depth + 1)] * count
    if kind in ("integer", "number"):
        return _number(schema, kind == "integer")
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string(schema, key, hint)


# --- default responder -----------------------------------------------------------------------


def _role(message: Any) -> str | None:
    return message.get("role") if isinstance(message, dict) else None


def _last_text(messages: list[Any], role: str) -> str:
    for message in reversed(messages):
        if _role(message) == role:
            return message_text(message.get("content"))
    return ""


def _tool_name_for(messages: list[Any], call_id: Any) -> str | None:
    for message in reversed(messages):
        for call in (message.get("tool_calls") or []) if isinstance(message, dict) else []:
            if isinstance(call, dict) and call.get("id") == call_id:
                function = call.get("function") or {}
                return str(function.get("name")) if isinstance(function, dict) else None
    return None


def _reasoning_for(model: str, user_text: str) -> str:
    echo = _short(user_text, 60)
    if has_cjk(user_text):
        return f"用户说：“{echo}”。我应该简短地回答，并说明我是哪个模型。"
    return f'The user wrote "{echo}". I should answer briefly and mention the model.'


def _greeting(model: str, user_text: str) -> str:
    echo = _short(user_text, 80)
    if has_cjk(user_text):
        return f"你好！我是 {model}（llmx 模拟器）。你说：“{echo}”"
    if not echo:
        return f"Hello from {model} (llmx emulator)."
    return f'Hello from {model} (llmx emulator). You said: "{echo}"'


def _max_tokens(body: Mapping[str, Any]) -> tuple[str, Any]:
    for name in ("max_completion_tokens", "max_tokens"):
        if body.get(name) is not None:
            return name, body[name]
    return "max_completion_tokens", None


def default_reply(body: Mapping[str, Any], catalog: Mapping[str, ModelInfo]) -> Reply:
    """A deterministic, Groq-shaped answer to a chat request."""
    model = body.get("model")
    if not isinstance(model, str) or model not in catalog:
        return Reply.error(
            404,
            message=f"The model `{model}` does not exist or you do not have access to it.",
            code="model_not_found",
        )
    param, limit = _max_tokens(body)
    cap = catalog[model].max_completion_tokens
    if limit is not None and (not isinstance(limit, int) or limit < 1 or limit > cap):
        return _bad(
            f"{param} must be less than or equal to {cap}, the maximum value for {param} is "
            "less than the context_window for this model",
            param=param,
        )
    raw_messages = body.get("messages")
    messages: list[Any] = raw_messages if isinstance(raw_messages, list) else []
    last = messages[-1] if messages and isinstance(messages[-1], dict) else {}
    user_text = _last_text(messages, "user")
    reasoning: str | None = None
    thinks = model.startswith(("openai/gpt-oss", "qwen/qwen3"))
    if thinks and body.get("reasoning_effort") != "none":
        reasoning = _reasoning_for(model, user_text)

    tools = [
        t["function"]
        for t in body.get("tools") or []
        if isinstance(t, dict)
        and t.get("type") == "function"
        and isinstance(t.get("function"), dict)
    ]
    choice = body.get("tool_choice", "auto")
    forced = choice == "required" or isinstance(choice, dict)
    if tools and choice != "none" and (forced or _role(last) == "user"):
        wanted = choice.get("function", {}).get("name") if isinstance(choice, dict) else None
        tool = next((t for t in tools if t.get("name") == wanted), tools[0])
        schema = tool.get("parameters") or {"type": "object", "properties": {}}
        args = synthesize(schema, user_text)
        return Reply.tool_calls(
            [{"name": str(tool.get("name")), "arguments": args}], reasoning=reasoning, model=model
        )

    response_format = body.get("response_format")
    rf_type = response_format.get("type") if isinstance(response_format, dict) else None
    if _role(last) == "tool":
        result = _short(message_text(last.get("content")), 200)
        name = _tool_name_for(messages, last.get("tool_call_id")) or "tool"
        if has_cjk(user_text) or has_cjk(result):
            text = f"工具 {name} 返回：{result}"
        else:
            text = f"The {name} tool returned: {result}"
    elif rf_type == "json_schema":
        spec = response_format.get("json_schema") if isinstance(response_format, dict) else None
        schema = spec.get("schema") if isinstance(spec, dict) else None
        text = dumps(synthesize(schema or {"type": "object"}, user_text))
    elif rf_type == "json_object":
        text = dumps({"model": model, "answer": _greeting(model, user_text)})
    else:
        text = _greeting(model, user_text)

    stops = body.get("stop")
    finish = "stop"
    for stop in [stops] if isinstance(stops, str) else stops if isinstance(stops, list) else []:
        if isinstance(stop, str) and stop and stop in text:
            text = text[: text.index(stop)]
    raw_think = model.startswith("qwen/qwen3") and body.get("reasoning_format") in (None, "raw")
    if reasoning is not None and raw_think:
        text, reasoning = f"<think>\n{reasoning}\n</think>\n\n{text}", None
    if isinstance(limit, int):
        budget = limit
        if reasoning is not None and count_tokens(reasoning) > budget:
            reasoning, budget, finish = "".join(split_text(reasoning)[:budget]), 0, "length"
        elif reasoning is not None:
            budget -= count_tokens(reasoning)
        if count_tokens(text) > budget:
            text, finish = "".join(split_text(text)[:budget]), "length"
    return Reply.text(text, reasoning=reasoning, model=model, finish_reason=finish)

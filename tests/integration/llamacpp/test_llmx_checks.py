"""Shared pieces of the llmx-through-llama.cpp tests, and tests of those pieces.

`test_llmx_client.py` (the contract, both servers, sync and async) and
`test_llmx_quirks.py` (each server's quirks, seen through llmx) import from here:
the targets (server x provider), the tool and JSON schemas, a tiny JSON-schema
checker and the checks of a stream's events. The tests at the bottom prove the
checkers reject what they must, so a passing integration test means something.
They need no server.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
import servers

import llmx
from llmx import (
    Finish,
    FinishReason,
    ReasoningDelta,
    ReasoningEnd,
    ReasoningStart,
    ResponseStart,
    TextDelta,
    TextEnd,
    TextStart,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    UsageEvent,
)

LCP, LS = "llama_cpp_python", "llama_server"
FIXTURES = {LCP: "llama_cpp_python_server", LS: "llama_server"}
# the generic provider (base_url given) and the llama.cpp preset (providers/openai_compatible)
PROVIDERS = ("openai_compatible", "llamacpp")

MESSAGES = [
    llmx.Message.system("You are terse."),
    llmx.Message.user("What is the weather in Paris?"),
]
REQUEST = llmx.Request(messages=MESSAGES)
OVERFLOW = "hello world " * 1500  # ~3000 tokens; both servers run with a 2048-token context

WEATHER_PARAMETERS: dict[str, Any] = {
    "type": "object",
    # bounded arguments: the grammar generates JSON about a character per token
    "properties": {
        "city": {"type": "string", "maxLength": 12},
        "unit": {"type": "string", "enum": ["c", "f"]},
        "detailed": {"type": "boolean"},
    },
    "required": ["city", "unit", "detailed"],
    "additionalProperties": False,
}
WEATHER = llmx.Tool(
    name="get_weather", description="Get the weather for a city", parameters=WEATHER_PARAMETERS
)
# a forced llama-server reply may hold several calls (~95 tokens each; 4 seen in 100 replies,
# each further call about 4 times rarer): 1000 tokens make a cut-off call practically impossible
TOOL_MAX_TOKENS = 1000
PERSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"name": {"type": "string", "maxLength": 10}, "ok": {"type": "boolean"}},
    "required": ["name", "ok"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class Target:
    """One real server reached through one llmx provider."""

    server: servers.Server
    provider: str

    @property
    def kind(self) -> str:
        return self.server.kind

    def options(self, **options: Any) -> dict[str, Any]:
        settings: dict[str, Any] = {"base_url": self.server.base_url, "model": self.server.model}
        if self.server.api_key:
            settings["api_key"] = self.server.api_key
        return {**settings, **options}

    def client(self, **options: Any) -> llmx.Client:
        return llmx.Client(self.provider, **self.options(**options))

    def async_client(self, **options: Any) -> llmx.AsyncClient:
        return llmx.AsyncClient(self.provider, **self.options(**options))

    @property
    def forced_tool_choice(self) -> str:
        # quirk: llama-cpp-python forces a call only with a named tool_choice ("required"
        # is a 500); llama-server only understands the string forms (a named one is "auto")
        return WEATHER.name if self.kind == LCP else "required"

    def json_schema_overrides(self) -> dict[str, Any]:
        """Request settings that constrain the reply to PERSON_SCHEMA on this server."""
        if self.kind == LCP:
            # quirk: llama-cpp-python rejects OpenAI's json_schema (a 500); it takes its own
            # {"type": "json_object", "schema": ...}, sent through provider_options
            response_format = {"type": "json_object", "schema": PERSON_SCHEMA}
            return {"provider_options": {self.provider: {"response_format": response_format}}}
        return {"response_format": llmx.JSONSchemaFormat(name="person", schema=PERSON_SCHEMA)}


def target_id(param: tuple[str, str]) -> str:
    return "-".join(param)


TARGETS = [(kind, provider) for kind in FIXTURES for provider in PROVIDERS]


def make_target(request: pytest.FixtureRequest, kind: str, provider: str, *, key: bool) -> Target:
    server = request.getfixturevalue(FIXTURES[kind] + ("_with_key" if key else ""))
    return Target(server, provider)


# -- a tiny JSON-schema checker: the keywords the schemas above use, nothing else ------------

_SUPPORTED = frozenset(
    {"type", "properties", "required", "additionalProperties", "enum", "maxLength", "description"}
)
_TYPES: dict[str, type | tuple[type, ...]] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "integer": int,
    "number": (int, float),
    "null": type(None),
}


def schema_errors(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """What is wrong with `value` under `schema` (empty: valid). An unknown keyword is a
    ValueError, so the checker never passes a value by ignoring part of the schema."""
    unknown = set(schema) - _SUPPORTED
    if unknown:
        raise ValueError(f"schema_errors does not implement {sorted(unknown)}")
    kind = schema.get("type")
    if kind is not None:
        numeric = kind in ("integer", "number")
        if not isinstance(value, _TYPES[kind]) or (numeric and isinstance(value, bool)):
            return [f"{path}: expected {kind}, got {type(value).__name__} {value!r}"]
    errors: list[str] = []
    if "enum" in schema and not any(
        value == item and type(value) is type(item) for item in schema["enum"]
    ):
        errors.append(f"{path}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, str) and len(value) > schema.get("maxLength", len(value)):
        errors.append(f"{path}: longer than {schema['maxLength']} characters")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        errors += [f"{path}: missing {n!r}" for n in schema.get("required", ()) if n not in value]
        for name, item in value.items():
            if name in properties:
                errors += schema_errors(item, properties[name], f"{path}.{name}")
            elif schema.get("additionalProperties", True) is False:
                errors.append(f"{path}: unexpected property {name!r}")
    return errors


def check_json(text: str, schema: dict[str, Any]) -> Any:
    value = json.loads(text)
    errors = schema_errors(value, schema)
    assert not errors, f"{text!r}: {errors}"
    return value


# -- responses and streams ------------------------------------------------------------------


def check_usage(usage: llmx.Usage | None, *, max_tokens: int, finish: FinishReason) -> None:
    assert usage is not None
    assert usage.prompt_tokens > 0
    assert 0 < usage.completion_tokens <= max_tokens
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    if finish is FinishReason.LENGTH:
        assert usage.completion_tokens == max_tokens
    if usage.cached_tokens is not None:  # llama-server: prompt_tokens_details.cached_tokens
        assert 0 <= usage.cached_tokens <= usage.prompt_tokens


def check_response(response: llmx.Response, target: Target) -> None:
    """What every answer from these servers has, streamed or not."""
    assert response.provider == target.provider
    assert response.model == target.server.model  # llmx always sends the model
    assert response.id is not None and response.id.startswith("chatcmpl-")
    assert response.message.role == "assistant"
    assert response.raw_finish_reason == response.finish_reason.value  # both servers: OpenAI's


def check_tool_calls(response: llmx.Response, target: Target) -> None:
    """A forced call of WEATHER, whose arguments validate against its schema."""
    assert response.finish_reason is FinishReason.TOOL_CALLS
    calls = response.tool_calls
    # quirk (llama-server): parallel_tool_calls is on by default and a forced reply may
    # hold several calls; llama-cpp-python makes exactly one
    assert len(calls) == 1 if target.kind == LCP else len(calls) >= 1
    assert len({call.id for call in calls}) == len(calls), "distinct ids"
    for call in calls:
        assert call.id and call.name == WEATHER.name
        assert call.arguments == check_json(call.raw_arguments, WEATHER_PARAMETERS)
    # llama-server sends content "" with its calls, llama-cpp-python null: both are None
    assert response.message.content is None and response.text == ""


_STARTS = {TextStart: "text", ReasoningStart: "reasoning", ToolCallStart: "tool"}
_DELTAS = {TextDelta: "text", ReasoningDelta: "reasoning", ToolCallDelta: "tool"}
_ENDS = {TextEnd: "text", ReasoningEnd: "reasoning", ToolCallEnd: "tool"}


def check_stream(events: Sequence[llmx.Event], response: llmx.Response) -> None:
    """The event grammar of one successful stream, and its Response = the events folded.

    response-start first, finish last, each once; every part (text, reasoning, tool call)
    has a fresh index, starts once, gets its deltas while open and ends before finish;
    usage events sit between them. `response` (from `stream.response()`) must agree with
    the events on everything: text, reasoning, tool calls, finish, usage, id, model.
    """
    assert events, "a stream yields events"
    start, finish = events[0], events[-1]
    assert isinstance(start, ResponseStart), f"first event is {start!r}"
    assert isinstance(finish, Finish), f"last event is {finish!r}"
    middle = events[1:-1]
    assert not [e for e in middle if isinstance(e, ResponseStart | Finish)], "one start, one finish"
    open_parts: dict[int, str] = {}
    started: set[int] = set()
    text: list[str] = []
    reasoning: list[str] | None = None
    tool_starts: dict[int, ToolCallStart] = {}
    tool_arguments: dict[int, list[str]] = {}
    tool_ends: dict[int, ToolCallEnd] = {}
    usages: list[llmx.Usage] = []
    for event in middle:
        kind = type(event)
        if kind in _STARTS:
            assert isinstance(event, TextStart | ReasoningStart | ToolCallStart)
            assert event.index not in started, f"part {event.index} started twice"
            started.add(event.index)
            open_parts[event.index] = _STARTS[kind]
            if isinstance(event, ToolCallStart):
                assert event.id and event.name, event
                tool_starts[event.index] = event
                tool_arguments[event.index] = []
            elif isinstance(event, ReasoningStart) and reasoning is None:
                reasoning = []
        elif kind in _DELTAS:
            assert isinstance(event, TextDelta | ReasoningDelta | ToolCallDelta)
            assert open_parts.get(event.index) == _DELTAS[kind], f"{event!r} outside its part"
            if isinstance(event, TextDelta):
                text.append(event.delta)
            elif isinstance(event, ReasoningDelta):
                assert reasoning is not None
                reasoning.append(event.delta)
            else:
                assert event.id == tool_starts[event.index].id
                tool_arguments[event.index].append(event.arguments_delta)
        elif kind in _ENDS:
            assert isinstance(event, TextEnd | ReasoningEnd | ToolCallEnd)
            assert open_parts.pop(event.index, None) == _ENDS[kind], f"{event!r} not open"
            if isinstance(event, ToolCallEnd):
                first = tool_starts[event.index]
                assert (event.id, event.name) == (first.id, first.name)
                assert event.raw_arguments == ("".join(tool_arguments[event.index]) or "{}")
                assert event.arguments == json.loads(event.raw_arguments)
                tool_ends[event.index] = event
        else:
            assert isinstance(event, UsageEvent), f"unexpected {event!r}"
            usages.append(event.usage)
    assert not open_parts, f"parts {sorted(open_parts)} never ended"

    assert response.text == "".join(text)
    assert response.reasoning == ("".join(reasoning) if reasoning is not None else None)
    assert [(c.id, c.name, c.arguments, c.raw_arguments) for c in response.tool_calls] == [
        (e.id, e.name, e.arguments, e.raw_arguments) for _, e in sorted(tool_ends.items())
    ]
    assert (response.id, response.model) == (start.id, start.model)
    assert response.warnings == list(start.warnings)
    assert (response.finish_reason, response.raw_finish_reason) == (
        finish.reason,
        finish.raw_reason,
    )
    assert response.usage == finish.usage == (usages[-1] if usages else None)
    # and the whole Response is what accumulate() folds from the events, plus what only the
    # HTTP layer knows (request id, rate-limit headers)
    http_only = {"request_id": response.request_id, "rate_limit": response.rate_limit}
    assert response == llmx.accumulate(events).model_copy(update=http_only)


# -- tests of the checkers (no server) ------------------------------------------------------


def test_schema_errors_accepts_valid_arguments() -> None:
    assert (
        schema_errors({"city": "Paris", "unit": "c", "detailed": False}, WEATHER_PARAMETERS) == []
    )
    assert schema_errors({"name": "", "ok": True}, PERSON_SCHEMA) == []


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ({"city": "Paris", "unit": "c"}, "missing 'detailed'"),
        ({"city": "Paris", "unit": "k", "detailed": True}, "$.unit: 'k' is not one of"),
        ({"city": 3, "unit": "c", "detailed": True}, "$.city: expected string"),
        ({"city": "Paris", "unit": "c", "detailed": 1}, "$.detailed: expected boolean"),
        ({"city": "x" * 13, "unit": "c", "detailed": True}, "longer than 12"),
        ({"city": "P", "unit": "c", "detailed": True, "days": 2}, "unexpected property 'days'"),
        (["Paris", "c", True], "$: expected object"),
    ],
)
def test_schema_errors_rejects(value: Any, error: str) -> None:
    errors = schema_errors(value, WEATHER_PARAMETERS)
    assert any(error in message for message in errors), errors


def test_schema_errors_refuses_keywords_it_does_not_check() -> None:
    with pytest.raises(ValueError, match="minimum"):
        schema_errors(3, {"type": "integer", "minimum": 1})
    assert schema_errors(True, {"type": "integer"}) == ["$: expected integer, got bool True"]
    assert schema_errors(1, {"enum": [True]}) != []


def _events() -> list[llmx.Event]:
    return [
        ResponseStart("chatcmpl-1", "m", "openai_compatible"),
        TextStart(0),
        TextDelta(0, "he"),
        TextDelta(0, "llo"),
        TextEnd(0),
        ToolCallStart(1, "call_1", "get_weather"),
        ToolCallDelta(1, "call_1", '{"city": '),
        ToolCallDelta(1, "call_1", '"Paris"}'),
        ToolCallEnd(1, "call_1", "get_weather", {"city": "Paris"}, '{"city": "Paris"}'),
        UsageEvent(llmx.Usage(prompt_tokens=1, completion_tokens=2, total_tokens=3)),
        Finish(
            FinishReason.TOOL_CALLS,
            "tool_calls",
            llmx.Usage(prompt_tokens=1, completion_tokens=2, total_tokens=3),
        ),
    ]


def test_check_stream_accepts_a_well_formed_stream() -> None:
    events = _events()
    check_stream(events, llmx.accumulate(events))


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param(lambda e: e[1:], id="no-response-start"),
        pytest.param(lambda e: e[:-1], id="no-finish"),
        pytest.param(lambda e: [*e[:-2], e[-1], e[-2]], id="finish-not-last"),
        pytest.param(lambda e: [e[0], e[2], e[1], *e[3:]], id="delta-before-start"),
        pytest.param(lambda e: [*e[:4], *e[5:]], id="text-never-ends"),
        pytest.param(lambda e: [*e[:5], TextStart(0), TextEnd(0), *e[5:]], id="index-reused"),
        pytest.param(lambda e: [*e[:7], *e[8:]], id="arguments-lost"),
        pytest.param(lambda e: [*e[:-2], e[-1]], id="usage-event-missing"),
    ],
)
def test_check_stream_rejects(broken: Any) -> None:
    events = broken(_events())
    with pytest.raises((AssertionError, KeyError)):
        check_stream(events, llmx.accumulate(_events()))


@pytest.mark.parametrize(
    "update",
    [
        {"message": llmx.Message.assistant("hello!", tool_calls=[])},
        {"finish_reason": FinishReason.STOP},
        {"usage": None},
        {"id": "chatcmpl-2"},
    ],
)
def test_check_stream_rejects_a_response_that_disagrees(update: dict[str, Any]) -> None:
    events = _events()
    with pytest.raises(AssertionError):
        check_stream(events, llmx.accumulate(events).model_copy(update=update))

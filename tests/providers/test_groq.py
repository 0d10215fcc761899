"""Groq adapter: request bodies, non-streaming responses, errors, rate limits and models.

Everything runs against tests/fixtures/groq (real recordings, see its SOURCES.md) through the
adapter alone: no client, no network. Streaming is in test_groq_stream.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from support import fixture_bytes

import llmx
from llmx import (
    AuthenticationError,
    ContextLengthError,
    FinishReason,
    ImagePart,
    InvalidInputError,
    InvalidRequestError,
    JSONSchemaFormat,
    Message,
    ProviderError,
    RateLimitError,
    ReasoningOptions,
    Request,
    Response,
    ServerError,
    TextPart,
    Tool,
    ToolCall,
    ToolUseFailedError,
    UnsupportedFeatureError,
)
from llmx.adapter import HttpResponse
from llmx.providers.groq import MODELS, GroqAdapter, create_adapter
from llmx.providers.groq._catalog import replacement_for
from llmx.providers.openai_compatible import create_adapter as create_generic

GROQ = create_adapter()
GENERIC = create_generic()
JSON_HEADERS = {"content-type": "application/json"}

WEATHER_PARAMS = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
    "additionalProperties": False,
}
WEATHER = Tool(
    name="get_weather", description="Get the weather", parameters=WEATHER_PARAMS, strict=True
)
TIME = Tool(
    name="get_time",
    description="Get time in a timezone",
    parameters={
        "type": "object",
        "properties": {"timezone": {"type": "string"}},
        "required": ["timezone"],
    },
)


def ask(text: str = "hello", **fields: Any) -> Request:
    fields.setdefault("model", "llama-3.3-70b-versatile")
    fields.setdefault("messages", [Message.user(text)])
    return Request(**fields)


def body(request: Request, *, stream: bool = False, adapter: Any = GROQ) -> dict[str, Any]:
    http = adapter.build_request(request, stream=stream)
    assert http.method == "POST"
    assert http.path == "/chat/completions"
    assert http.body is not None
    return dict(http.body)


def none_paths(value: Any, path: str = "body") -> list[str]:
    """Every place in a JSON-like value that holds None."""
    if value is None:
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in none_paths(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in none_paths(v, f"{path}[{i}]")]
    return []


def groq_json(name: str) -> Any:
    return json.loads(fixture_bytes("groq", name))


def parse(name: str, request: Request | None = None) -> Response:
    response = HttpResponse(200, JSON_HEADERS, fixture_bytes("groq", name))
    return GROQ.parse_response(response, request or ask())


def parse_body(payload: dict[str, Any], request: Request | None = None) -> Response:
    response = HttpResponse(200, JSON_HEADERS, json.dumps(payload).encode())
    return GROQ.parse_response(response, request or ask())


def think(parse_tags: bool) -> Request:
    return ask(reasoning=ReasoningOptions(parse_think_tags=parse_tags))


# -- the adapter itself ------------------------------------------------------------------------


def test_spec_points_at_groq() -> None:
    assert isinstance(GROQ, GroqAdapter)
    assert isinstance(GROQ, llmx.adapter.Adapter)
    spec = GROQ.spec
    assert spec.name == "groq"
    assert spec.default_base_url == "https://api.groq.com/openai/v1"
    assert spec.api_key_env == "GROQ_API_KEY"
    assert spec.base_url_env == "GROQ_BASE_URL"
    assert spec.key_required is True
    assert spec.framing == "sse"


# -- request building --------------------------------------------------------------------------


def test_every_request_field_maps_to_groqs_wire() -> None:
    request = Request(
        model="openai/gpt-oss-120b",
        messages=[Message.system("Be concise."), Message.user("Weather in Paris?")],
        tools=[WEATHER],
        tool_choice="required",
        parallel_tool_calls=False,
        temperature=0.2,
        top_p=0.9,
        max_tokens=512,
        stop=["END", "STOP"],
        seed=42,
        response_format="json_object",
        reasoning=ReasoningOptions(effort="high"),
        user="user-123",
    )
    assert body(request) == {
        "model": "openai/gpt-oss-120b",
        "messages": [
            {"role": "system", "content": "Be concise."},
            {"role": "user", "content": "Weather in Paris?"},
        ],
        "temperature": 0.2,
        "top_p": 0.9,
        "seed": 42,
        "user": "user-123",
        "max_completion_tokens": 512,
        "stop": ["END", "STOP"],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "parameters": WEATHER_PARAMS,
                    "description": "Get the weather",
                    "strict": True,
                },
            }
        ],
        "parallel_tool_calls": False,
        "tool_choice": "required",
        "response_format": {"type": "json_object"},
        "reasoning_effort": "high",
    }


def test_a_single_stop_string_becomes_a_list() -> None:
    assert body(Request.model_validate({"messages": [Message.user("x")], "stop": "END"}))[
        "stop"
    ] == ["END"]


def test_max_tokens_is_sent_as_max_completion_tokens_for_groq_only() -> None:
    assert body(ask(max_tokens=64)) == {
        "model": "llama-3.3-70b-versatile",
        "messages": [{"role": "user", "content": "hello"}],
        "max_completion_tokens": 64,
    }
    generic = body(ask(max_tokens=64), adapter=GENERIC)
    assert generic["max_tokens"] == 64
    assert "max_completion_tokens" not in generic


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_stream_flag_and_no_stream_options(stream: bool) -> None:
    sent = body(ask(), stream=stream)
    assert sent.get("stream") is (True if stream else None)
    # Groq reports usage on the finish chunk without being asked (x_groq.usage)
    assert "stream_options" not in sent
    assert "n" not in sent


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        # as in the recording chat_tool_choice_named (request side)
        ("get_weather", {"type": "function", "function": {"name": "get_weather"}}),
    ],
    ids=["auto", "none", "required", "named"],
)
def test_tool_choice(choice: str, wire: Any) -> None:
    sent = body(ask(tools=[WEATHER, TIME], tool_choice=choice))
    assert sent["tool_choice"] == wire
    assert [t["function"]["name"] for t in sent["tools"]] == ["get_weather", "get_time"]
    assert "parallel_tool_calls" not in sent


@pytest.mark.parametrize("parallel", [True, False])
def test_parallel_tool_calls_only_with_tools(parallel: bool) -> None:
    assert body(ask(tools=[WEATHER], parallel_tool_calls=parallel))["parallel_tool_calls"] is (
        parallel
    )
    assert "parallel_tool_calls" not in body(ask(parallel_tool_calls=parallel))


def test_tool_without_description_or_strict_sends_neither() -> None:
    sent = body(ask(tools=[Tool(name="ping")]))
    assert sent["tools"] == [
        {
            "type": "function",
            "function": {"name": "ping", "parameters": {"type": "object", "properties": {}}},
        }
    ]


CITY_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
    "required": ["city", "country"],
    "additionalProperties": False,
}


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        ("text", {"type": "text"}),
        ("json_object", {"type": "json_object"}),
        # the request of the recording chat_json_schema_strict
        (
            JSONSchemaFormat(
                name="CityLocation",
                schema=CITY_SCHEMA,
                description="A city and its country.",
                strict=True,
            ),
            {
                "type": "json_schema",
                "json_schema": {
                    "name": "CityLocation",
                    "description": "A city and its country.",
                    "schema": CITY_SCHEMA,
                    "strict": True,
                },
            },
        ),
        (
            JSONSchemaFormat(name="CityLocation", schema=CITY_SCHEMA),
            {"type": "json_schema", "json_schema": {"name": "CityLocation", "schema": CITY_SCHEMA}},
        ),
    ],
    ids=["text", "json_object", "json_schema_strict", "json_schema_best_effort"],
)
def test_response_format(value: Any, wire: dict[str, Any]) -> None:
    assert body(ask(response_format=value))["response_format"] == wire


@pytest.mark.parametrize("effort", ["none", "default", "low", "medium", "high"])
def test_reasoning_effort(effort: Any) -> None:
    sent = body(ask(model="qwen/qwen3-32b", reasoning=ReasoningOptions(effort=effort)))
    assert sent["reasoning_effort"] == effort
    assert "reasoning_format" not in sent


def test_reasoning_effort_groq_rejects_is_not_sent() -> None:
    request = ask(model="openai/gpt-oss-120b", reasoning=ReasoningOptions(effort="minimal"))
    assert "reasoning_effort" not in body(request)
    (warning,) = parse("chat_text.json", request).warnings
    assert "reasoning.effort 'minimal'" in warning and "'low'" in warning


def test_image_by_url_matches_the_recorded_vision_request() -> None:
    url = "https://t3.ftcdn.net/jpg/00/85/79/92/360_F_85799278_0BBGV9OAdQDTLnKwAPBCcg1J7QtiieJY.jpg"
    request = Request(
        model="meta-llama/llama-4-scout-17b-16e-instruct",
        messages=[
            Message.user(
                [TextPart(text="What is the name of this fruit?"), ImagePart.from_url(url)]
            )
        ],
    )
    assert body(request)["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is the name of this fruit?"},
                {"type": "image_url", "image_url": {"url": url}},
            ],
        }
    ]


def test_image_bytes_become_a_base64_data_url_with_detail() -> None:
    png = b"\x89PNG\r\n\x1a\n"
    image = ImagePart(data=png, media_type="image/png", detail="low")
    sent = body(ask(messages=[Message.user([image])]))
    assert sent["messages"][0]["content"] == [
        {
            "type": "image_url",
            "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"},
        }
    ]


def test_tool_call_round_trip_matches_the_recorded_conversation() -> None:
    """The second-turn request of the recording chat_cached_tokens, rebuilt from llmx types."""
    first = ToolCall.from_raw(
        "pyd_ai_445dbde6c4764cafb5782bb928ef6c2c", "get_something_by_name", '{"foo":"bar"}'
    )
    parsed = parse("chat_tool_call_gptoss.json")
    second = parsed.tool_calls[0]
    request = Request(
        model="openai/gpt-oss-120b",
        messages=[
            Message.system("Be concise."),
            Message.user("Call the tool."),
            Message.assistant(tool_calls=[first]),
            Message.tool(first.id, "2 validation errors"),
            Message.assistant(tool_calls=[second], reasoning=parsed.reasoning),
            Message.tool(second.id, "Something with name: test"),
        ],
        tools=[
            Tool(
                name="get_something_by_name",
                parameters={
                    "type": "object",
                    "properties": {"name": {"type": "string"}},
                    "required": ["name"],
                    "additionalProperties": False,
                },
            )
        ],
        tool_choice="auto",
    )
    messages = body(request)["messages"]
    assert messages[2:] == [
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "pyd_ai_445dbde6c4764cafb5782bb928ef6c2c",
                    "type": "function",
                    "function": {"name": "get_something_by_name", "arguments": '{"foo":"bar"}'},
                }
            ],
        },
        {
            "role": "tool",
            "content": "2 validation errors",
            "tool_call_id": "pyd_ai_445dbde6c4764cafb5782bb928ef6c2c",
        },
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "fc_311ba17b-89f9-48d3-8fd9-7e74a1264855",
                    "type": "function",
                    "function": {"name": "get_something_by_name", "arguments": '{"name":"test"}'},
                }
            ],
        },
        {
            "role": "tool",
            "content": "Something with name: test",
            "tool_call_id": "fc_311ba17b-89f9-48d3-8fd9-7e74a1264855",
        },
    ]


@pytest.mark.parametrize("raw", ["null", "", None], ids=["null", "empty", "none"])
def test_zero_argument_call_is_sent_back_as_empty_object(raw: str | None) -> None:
    call = ToolCall.from_raw("8kq2n7w1d", "get_time_utc", raw)
    assert call.arguments == {}
    sent = body(ask(messages=[Message.user("t"), Message.assistant(tool_calls=[call])]))
    assert sent["messages"][1]["tool_calls"][0]["function"]["arguments"] == "{}"


def test_assistant_text_and_tool_calls_together() -> None:
    call = ToolCall.from_raw("c1", "get_weather", '{"city": "Paris"}')
    sent = body(
        ask(messages=[Message.user("t"), Message.assistant("Let me check.", tool_calls=[call])])
    )
    assert sent["messages"][1]["content"] == "Let me check."
    assert sent["messages"][1]["tool_calls"][0]["function"]["arguments"] == '{"city": "Paris"}'


def test_edited_arguments_are_sent_as_edited() -> None:
    call = ToolCall(
        id="c1", name="get_weather", arguments={"city": "Rome"}, raw_arguments='{"city":"Paris"}'
    )
    sent = body(ask(messages=[Message.user("t"), Message.assistant(tool_calls=[call])]))
    assert json.loads(sent["messages"][1]["tool_calls"][0]["function"]["arguments"]) == {
        "city": "Rome"
    }


def mostly_unset_request() -> Request:
    """A request whose optional parts are all left unset (None)."""
    return Request(
        messages=[
            Message(role="system", content="sys", name=None),
            Message.user([TextPart(text="look"), ImagePart.from_url("https://example.com/a.png")]),
            Message.assistant(None, tool_calls=[ToolCall.from_raw("c1", "ping", None)]),
            Message.tool("c1", {"ok": True}),
            Message(role="assistant", content=None),
        ],
        tools=[Tool(name="ping")],
        response_format=JSONSchemaFormat(name="x", schema={"type": "object"}),
        reasoning=ReasoningOptions(),
        provider_options={"groq": {}},
    )


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("adapter", [GROQ, GENERIC], ids=["groq", "openai_compatible"])
def test_no_none_anywhere_in_the_body(adapter: Any, stream: bool) -> None:
    sent = body(mostly_unset_request(), stream=stream, adapter=adapter)
    assert none_paths(sent) == []
    assert "model" not in sent  # the client fills it in; never sent as null


def test_names_are_stripped_for_groq_but_kept_for_generic_servers() -> None:
    request = Request(
        model="m",
        messages=[
            Message(role="system", content="You are terse.", name="policy"),
            Message(role="user", content="hi", name="alice"),
            Message(role="assistant", content="hello", name="bot"),
        ],
    )
    assert [set(m) for m in body(request)["messages"]] == [{"role", "content"}] * 3
    generic = body(request, adapter=GENERIC)["messages"]
    assert [m.get("name") for m in generic] == ["policy", "alice", "bot"]


def test_developer_role_is_sent_as_system() -> None:
    sent = body(ask(messages=[Message(role="developer", content="rules"), Message.user("x")]))
    assert sent["messages"][0] == {"role": "system", "content": "rules"}


def test_earlier_reasoning_is_not_sent_back() -> None:
    request = ask(
        messages=[
            Message.user("q"),
            Message.assistant("a", reasoning="thought"),
            Message.user("q2"),
        ]
    )
    assert body(request)["messages"][1] == {"role": "assistant", "content": "a"}


def test_image_outside_a_user_message_is_refused() -> None:
    image = ImagePart.from_url("https://example.com/a.png")
    request = ask(
        messages=[Message(role="system", content=[TextPart(text="x"), image]), Message.user("hi")]
    )
    with pytest.raises(UnsupportedFeatureError, match="system message cannot carry images"):
        GROQ.build_request(request, stream=False)


def test_tool_message_without_call_id_is_refused() -> None:
    request = ask(messages=[Message.user("x"), Message(role="tool", content="42")])
    with pytest.raises(InvalidInputError, match="tool_call_id"):
        GROQ.build_request(request, stream=False)


# -- provider_options["groq"] ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"reasoning_format": "parsed"}, {"reasoning_format": "parsed"}),
        ({"reasoning_format": "raw"}, {"reasoning_format": "raw"}),
        ({"include_reasoning": False}, {"include_reasoning": False}),
        ({"service_tier": "flex"}, {"service_tier": "flex"}),
        (
            {
                "search_settings": {
                    "include_domains": ["python.org"],
                    "exclude_domains": ["w3schools.com"],
                }
            },
            {
                "search_settings": {
                    "include_domains": ["python.org"],
                    "exclude_domains": ["w3schools.com"],
                }
            },
        ),
        (
            {"compound_custom": {"tools": {"enabled_tools": ["web_search", "code_interpreter"]}}},
            {"compound_custom": {"tools": {"enabled_tools": ["web_search", "code_interpreter"]}}},
        ),
        (
            {
                "documents": [{"id": "policy-7", "source": {"type": "text", "text": "30 days."}}],
                "citation_options": "enabled",
            },
            {
                "documents": [{"id": "policy-7", "source": {"type": "text", "text": "30 days."}}],
                "citation_options": "enabled",
            },
        ),
        ({"disable_tool_validation": True}, {"disable_tool_validation": True}),
        ({"extra_body": {"metadata": {"k": "v"}}}, {"metadata": {"k": "v"}}),
    ],
    ids=[
        "reasoning_format",
        "reasoning_format_raw",
        "include_reasoning",
        "service_tier",
        "search_settings",
        "compound_custom",
        "documents",
        "disable_tool_validation",
        "extra_body",
    ],
)
def test_groq_options_are_sent(options: dict[str, Any], expected: dict[str, Any]) -> None:
    sent = body(ask(provider_options={"groq": options}))
    base = body(ask())
    assert {k: v for k, v in sent.items() if k not in base} == expected


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({"reasoning_fromat": "parsed"}, "reasoning_fromat"),
        ({"reasoning_format": "summary"}, "reasoning_format"),
        ({"service_tier": "priority"}, "service_tier"),
        ({"include_reasoning": "sometimes"}, "include_reasoning"),
        ({"search_settings": ["python.org"]}, "search_settings"),
        ({"reasoning_format": "parsed", "include_reasoning": True}, "mutually exclusive"),
    ],
    ids=["unknown_key", "bad_format", "bad_tier", "bad_bool", "bad_type", "both_reasoning_knobs"],
)
def test_invalid_groq_options_are_refused_before_sending(
    options: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(InvalidInputError, match=complaint) as caught:
        GROQ.build_request(ask(provider_options={"groq": options}), stream=False)
    assert isinstance(caught.value, ValueError)
    assert "provider_options['groq']" in str(caught.value)


def test_options_for_other_providers_are_ignored() -> None:
    assert body(ask(provider_options={"openai": {"store": True}})) == body(ask())


@pytest.mark.parametrize(
    ("reasoning", "options", "expected"),
    [
        (ReasoningOptions(include=False), {}, {"reasoning_format": "hidden"}),
        (ReasoningOptions(include=True), {}, {"reasoning_format": "parsed"}),
        (ReasoningOptions(), {}, {}),
        (ReasoningOptions(include=False), {"reasoning_format": "raw"}, {"reasoning_format": "raw"}),
        (ReasoningOptions(include=False), {"include_reasoning": True}, {"include_reasoning": True}),
    ],
    ids=["hide", "show", "default", "explicit_format_wins", "explicit_include_wins"],
)
def test_reasoning_include_maps_to_reasoning_format(
    reasoning: ReasoningOptions, options: dict[str, Any], expected: dict[str, Any]
) -> None:
    sent = body(ask(reasoning=reasoning, provider_options={"groq": options}))
    assert {k: sent[k] for k in ("reasoning_format", "include_reasoning") if k in sent} == expected


@pytest.mark.parametrize(
    ("fields", "mentions"),
    [
        ({"frequency_penalty": 0.5}, ["frequency_penalty"]),
        ({"presence_penalty": -0.5}, ["presence_penalty"]),
        (
            {"frequency_penalty": 0.1, "presence_penalty": 0.1},
            ["frequency_penalty", "presence_penalty"],
        ),
        ({"reasoning": ReasoningOptions(budget_tokens=1024)}, ["budget_tokens"]),
        ({"temperature": 0.3}, []),
    ],
    ids=["frequency", "presence", "both", "budget_tokens", "none"],
)
def test_warnings_for_settings_groq_ignores(fields: dict[str, Any], mentions: list[str]) -> None:
    request = ask(**fields)
    warnings = parse("chat_text.json", request).warnings
    assert len(warnings) == len(mentions)
    for warning, name in zip(warnings, mentions, strict=True):
        assert name in warning
        assert warning.startswith("groq:")
    assert "budget_tokens" not in body(request)


# -- non-streaming responses -------------------------------------------------------------------

TEXT_CASES: list[tuple[str, str, str | None]] = [
    ("chat_text.json", "Hello! How can I assist you today?", None),
    (
        "chat_reasoning_gptoss.json",
        "4",
        'The user asks: "What is 2+2? Reply with just the number."',
    ),
    ("chat_qwen3_effort_none.json", "4", None),
    ("chat_json_schema_strict.json", '{"city":"Mexico City","country":"Mexico"}', "The user asks"),
    (
        "chat_json_object.json",
        '{"city":"Mexico City","country":"Mexico"}',
        "We need to respond with JSON",
    ),
    ("chat_vision_image_url.json", "The fruit depicted in the image is a potato.", None),
    (
        "chat_cached_tokens.json",
        "The first call failed due to missing and extra parameters",
        "We need to respond",
    ),
]


@pytest.mark.parametrize(("name", "text", "reasoning"), TEXT_CASES, ids=[c[0] for c in TEXT_CASES])
def test_text_and_reasoning(name: str, text: str, reasoning: str | None) -> None:
    response = parse(name)
    raw = groq_json(name)
    assert response.text.startswith(text)
    assert response.text == raw["choices"][0]["message"]["content"]
    if reasoning is None:
        assert response.reasoning is None
    else:
        assert response.reasoning is not None and response.reasoning.startswith(reasoning)
    assert response.tool_calls == []
    assert response.finish_reason is FinishReason.STOP
    assert response.raw_finish_reason == "stop"
    assert response.id == raw["id"]
    assert response.model == raw["model"]
    assert response.provider == "groq"
    assert response.raw == raw
    assert response.message.role == "assistant"


def test_json_mode_content_is_valid_json() -> None:
    for name in ("chat_json_object.json", "chat_json_schema_strict.json"):
        assert json.loads(parse(name).text) == {"city": "Mexico City", "country": "Mexico"}


def test_raw_think_is_left_in_the_text_unless_asked() -> None:
    response = parse("chat_qwen3_raw_think.json", think(False))
    assert response.text.startswith("<think>\nOkay, let's see")
    assert response.text.endswith("</think>\n\n4")
    assert response.reasoning is None


def test_raw_think_is_split_out_when_asked() -> None:
    response = parse("chat_qwen3_raw_think.json", think(True))
    assert response.text == "4"
    assert response.reasoning is not None
    assert response.reasoning.startswith("Okay, let's see... The user is asking")
    assert response.reasoning.rstrip().endswith('output "4" without any explanation.')
    assert "<think>" not in response.reasoning and "</think>" not in response.reasoning


def test_think_splitting_leaves_text_without_tags_alone() -> None:
    response = parse("chat_text.json", think(True))
    assert response.text == "Hello! How can I assist you today?"
    assert response.reasoning is None
    # parsed reasoning (no tags) is unchanged too
    assert (
        parse("chat_reasoning_gptoss.json", think(True)).reasoning
        == parse("chat_reasoning_gptoss.json").reasoning
    )


CALL_CASES: list[tuple[str, list[tuple[str, str, dict[str, Any]]]]] = [
    (
        "chat_tool_calls_parallel.json",
        [
            ("rew01jq49", "get_weather", {"city": "Paris"}),
            ("gbpypqxpx", "final_result", {"city": "Paris", "summary": "Current weather in Paris"}),
        ],
    ),
    ("chat_tool_choice_named.json", [("9vggmcf10", "get_weather", {"city": "Paris"})]),
    (
        "chat_tool_call_gptoss.json",
        [("fc_311ba17b-89f9-48d3-8fd9-7e74a1264855", "get_something_by_name", {"name": "test"})],
    ),
    ("pair_tool_call_null_arguments.json", [("8kq2n7w1d", "get_time_utc", {})]),
]


@pytest.mark.parametrize(("name", "calls"), CALL_CASES, ids=[c[0] for c in CALL_CASES])
def test_tool_calls(name: str, calls: list[tuple[str, str, dict[str, Any]]]) -> None:
    response = parse(name)
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == calls
    wire = groq_json(name)["choices"][0]["message"]["tool_calls"]
    assert [c.raw_arguments for c in response.tool_calls] == [
        w["function"]["arguments"] for w in wire
    ]
    # no "content" key on the wire (llama-4) and no text: content is None, not ""
    assert response.message.content is None
    assert response.text == ""
    assert response.finish_reason is FinishReason.TOOL_CALLS
    assert response.raw_finish_reason == "tool_calls"


def test_reasoning_next_to_a_tool_call() -> None:
    response = parse("chat_tool_call_gptoss.json")
    assert response.reasoning == (
        'We need to call with correct param: name field. Use some name, e.g., "test".'
    )


@pytest.mark.parametrize(
    ("arguments", "parsed"),
    [
        ("null", {}),
        ("", {}),
        (None, {}),
        ("{}", {}),
        ({"city": "Paris"}, {"city": "Paris"}),
        ('{"city": "Paris"}', {"city": "Paris"}),
    ],
    ids=["null", "empty", "missing", "braces", "object", "string"],
)
def test_tool_call_arguments_forms(arguments: Any, parsed: dict[str, Any]) -> None:
    payload = groq_json("chat_tool_choice_named.json")
    function = payload["choices"][0]["message"]["tool_calls"][0]["function"]
    if arguments is None:
        del function["arguments"]
    else:
        function["arguments"] = arguments
    call = parse_body(payload).tool_calls[0]
    assert call.arguments == parsed
    assert json.loads(call.raw_arguments) in (parsed, None)


def test_usage_with_groq_timings() -> None:
    usage = parse("chat_text.json").usage
    assert usage is not None
    assert usage.model_dump() == {
        "prompt_tokens": 48,
        "completion_tokens": 8,
        "total_tokens": 56,
        "cached_tokens": None,
        "cache_creation_tokens": None,
        "reasoning_tokens": None,
        "queue_time": 0.100731848,
        "prompt_time": 0.002665957,
        "completion_time": 0.029090909,
        "total_time": 0.031756866,
    }


def test_usage_with_cached_and_reasoning_tokens() -> None:
    usage = parse("chat_cached_tokens.json").usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (336, 96, 432)
    assert usage.cached_tokens == 256
    assert usage.reasoning_tokens == 59
    assert parse("chat_reasoning_gptoss.json").usage.reasoning_tokens == 95  # type: ignore[union-attr]
    assert parse("chat_qwen3_effort_none.json").usage.reasoning_tokens is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("raw", "with_calls", "reason"),
    [
        ("stop", False, FinishReason.STOP),
        ("length", False, FinishReason.LENGTH),
        ("tool_calls", True, FinishReason.TOOL_CALLS),
        ("function_call", True, FinishReason.TOOL_CALLS),
        ("content_filter", False, FinishReason.CONTENT_FILTER),
        ("stop", True, FinishReason.TOOL_CALLS),
        ("something_new", False, FinishReason.OTHER),
        (None, False, FinishReason.OTHER),
    ],
    ids=[
        "stop",
        "length",
        "tool_calls",
        "function_call",
        "content_filter",
        "stop_with_calls",
        "unknown",
        "missing",
    ],
)
def test_finish_reasons(raw: str | None, with_calls: bool, reason: FinishReason) -> None:
    payload = groq_json("chat_tool_choice_named.json" if with_calls else "chat_text.json")
    payload["choices"][0]["finish_reason"] = raw
    response = parse_body(payload)
    assert response.finish_reason is reason
    assert response.raw_finish_reason == raw


def test_groq_metadata_of_an_ordinary_response() -> None:
    assert parse("chat_text.json").provider_metadata == {
        "groq": {
            "x_groq_id": "req_01jr8hj0hzeq9b86xqb5dn7wqs",
            "system_fingerprint": "fp_72a5dc99ee",
        }
    }
    assert parse("chat_cached_tokens.json").provider_metadata == {
        "groq": {
            "x_groq_id": "req_01khrvt137e9qtvva4t9mk7bzr",
            "system_fingerprint": "fp_699d877a58",
            "service_tier": "on_demand",
        }
    }


@pytest.mark.parametrize(
    ("name", "tools"),
    [
        ("chat_compound_executed_tools.json", ["search"]),
        ("chat_compound_search_settings.json", ["search", "visit"]),
    ],
    ids=["executed_tools", "search_settings"],
)
def test_compound_executed_tools_and_usage_breakdown(name: str, tools: list[str]) -> None:
    response = parse(name)
    raw = groq_json(name)
    assert response.id is None  # "stub" is a placeholder, not an id
    assert response.model == "groq/compound"
    assert response.text == raw["choices"][0]["message"]["content"]
    assert response.reasoning == raw["choices"][0]["message"]["reasoning"]
    metadata = (response.provider_metadata or {})["groq"]
    assert "x_groq_id" not in metadata
    assert [t["type"] for t in metadata["executed_tools"]] == tools
    assert metadata["executed_tools"] == raw["choices"][0]["message"]["executed_tools"]
    assert metadata["usage_breakdown"] == raw["usage_breakdown"]
    assert metadata["service_tier"] == "on_demand"
    assert response.usage is not None
    assert response.usage.total_tokens == raw["usage"]["total_tokens"]  # the aggregate


def test_error_object_in_a_200_body_is_raised() -> None:
    payload = {"error": {"message": "boom", "type": "internal_server_error"}}
    with pytest.raises(ProviderError, match="boom"):
        parse_body(payload)


def test_body_without_choices_is_an_error() -> None:
    with pytest.raises(llmx.LLMXError, match="no choices"):
        parse_body({"id": "x", "choices": []})


# -- errors ------------------------------------------------------------------------------------


def error(name: str, status: int, headers: dict[str, str] | None = None) -> ProviderError:
    headers = {"content-type": "application/json", "x-request-id": "req_01test", **(headers or {})}
    return GROQ.parse_error(HttpResponse(status, headers, fixture_bytes("groq", name)))


ERROR_CASES: list[tuple[str, int, type[ProviderError], str | None, bool, list[str]]] = [
    (
        "error_401_invalid_api_key.json",
        401,
        AuthenticationError,
        "invalid_api_key",
        False,
        ["Invalid API Key", "API key"],
    ),
    (
        "error_404_model_not_found.json",
        404,
        InvalidRequestError,
        "model_not_found",
        False,
        ["`non-existent` does not exist"],
    ),
    (
        "error_404_model_typo.json",
        404,
        InvalidRequestError,
        "model_not_found",
        False,
        ["did you mean 'llama-3.3-70b-versatile'"],
    ),
    (
        "error_400_tool_use_failed.json",
        400,
        ToolUseFailedError,
        "tool_use_failed",
        False,
        ["did not match schema", "failed_generation"],
    ),
    (
        "error_400_json_validate_failed.json",
        400,
        InvalidRequestError,
        "json_validate_failed",
        False,
        ["Failed to generate JSON"],
    ),
    (
        "error_400_unsupported_property.json",
        400,
        InvalidRequestError,
        None,
        False,
        ["property 'status' is unsupported"],
    ),
    (
        "error_400_model_decommissioned.json",
        400,
        InvalidRequestError,
        "model_decommissioned",
        False,
        ["has been decommissioned", "use meta-llama/llama-4-scout-17b-16e-instruct"],
    ),
    (
        "error_413_request_too_large.json",
        413,
        ContextLengthError,
        "rate_limit_exceeded",
        False,
        ["Request too large", "max_completion_tokens"],
    ),
    (
        "error_429_tpm.json",
        429,
        RateLimitError,
        "rate_limit_exceeded",
        True,
        ["tokens per minute (TPM)", "retry_after"],
    ),
    (
        "error_498_capacity_exceeded.json",
        498,
        RateLimitError,
        "capacity_exceeded",
        True,
        ["capacity exceeded"],
    ),
    ("error_500_internal.json", 500, ServerError, None, True, ["Internal Server Error"]),
]


@pytest.mark.parametrize(
    ("name", "status", "cls", "code", "retryable", "says"),
    ERROR_CASES,
    ids=[c[0] for c in ERROR_CASES],
)
def test_error_bodies(
    name: str,
    status: int,
    cls: type[ProviderError],
    code: str | None,
    retryable: bool,
    says: list[str],
) -> None:
    err = error(name, status)
    assert type(err) is cls
    assert err.provider == "groq"
    assert err.status_code == status
    assert err.code == code
    assert err.request_id == "req_01test"
    assert err.is_retryable is retryable
    assert err.body == groq_json(name)
    assert err.message == str(err)
    assert f"HTTP {status}" in err.message
    for text in says:
        assert text in err.message


def test_tool_use_failed_keeps_the_failed_generation() -> None:
    err = error("error_400_tool_use_failed.json", 400)
    assert isinstance(err, ToolUseFailedError)
    assert (
        err.failed_generation
        == '{"name": "get_something_by_name", "arguments": {\n  "foo": "bar"\n}}'
    )
    assert err.error_type == "invalid_request_error"


def test_request_too_large_is_not_a_rate_limit_to_wait_out() -> None:
    err = error("error_413_request_too_large.json", 413)
    assert isinstance(err, InvalidRequestError)
    assert not isinstance(err, RateLimitError)
    assert err.retry_after is None
    assert err.is_retryable is False
    assert err.error_type == "tokens"


@pytest.mark.parametrize(
    ("name", "headers", "wait"),
    [
        ("error_429_tpm.json", {}, 5.289),
        ("error_429_tpm.json", {"retry-after": "7"}, 7.0),
        ("error_429_tpm.json", {"retry-after-ms": "1500", "retry-after": "7"}, 1.5),
        ("error_429_tpm_long_wait.json", {}, 50.597142857),
        ("error_429_rpd.json", {}, 107.5854),
    ],
    ids=["from_message", "retry_after", "retry_after_ms", "long_wait", "go_duration_minutes"],
)
def test_rate_limit_wait(name: str, headers: dict[str, str], wait: float) -> None:
    err = error(name, 429, headers)
    assert isinstance(err, RateLimitError)
    assert err.retry_after == pytest.approx(wait)
    assert err.is_retryable


def test_non_json_envoy_body_on_503() -> None:
    raw = fixture_bytes("groq", "error_503_envoy.txt")
    err = GROQ.parse_error(HttpResponse(503, {"content-type": "text/plain"}, raw))
    assert isinstance(err, ServerError)
    assert err.is_retryable
    assert err.code is None
    assert err.body == raw.decode()
    assert "upstream connect error or disconnect/reset before headers" in err.message


def test_empty_502_body() -> None:
    err = GROQ.parse_error(HttpResponse(502, {}, b""))
    assert isinstance(err, ServerError)
    assert "(empty body)" in err.message


def test_x_should_retry_overrides_the_status_rule() -> None:
    assert error("error_500_internal.json", 500, {"x-should-retry": "false"}).is_retryable is False
    assert error(
        "error_400_json_validate_failed.json", 400, {"x-should-retry": "true"}
    ).is_retryable


def test_retired_models_name_a_current_replacement() -> None:
    for card in MODELS.values():
        if card.retired:
            replacement = replacement_for(card.id)
            assert replacement is not None, card.id
            assert replacement in MODELS and not MODELS[replacement].retired, card.id
        else:
            assert replacement_for(card.id) is None
    # a chain: the 90b vision model's replacement (maverick) was retired too
    assert (
        replacement_for("llama-3.2-90b-vision-preview")
        == "meta-llama/llama-4-scout-17b-16e-instruct"
    )


def test_decommissioned_model_without_known_replacement_keeps_groqs_message() -> None:
    payload = groq_json("error_400_model_decommissioned.json")
    payload["error"]["message"] = payload["error"]["message"].replace(
        "llama-3.2-11b-vision-preview", "llama2-70b-4096"
    )
    err = GROQ.parse_error(HttpResponse(400, {}, json.dumps(payload).encode()))
    assert "llama2-70b-4096" in err.message
    assert "(llmx:" not in err.message
    assert err.body == payload


# -- rate limits -------------------------------------------------------------------------------

HEADER_SETS = json.loads(fixture_bytes("groq", "rate_limit_headers.json"))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "docs_example",
            {
                "limit_requests": 14400,
                "remaining_requests": 14370,
                "reset_requests": 179.56,
                "limit_tokens": 18000,
                "remaining_tokens": 17997,
                "reset_tokens": 7.66,
                "retry_after": 2.0,
            },
        ),
        (
            "paid_org_stream",
            {
                "limit_requests": 500000,
                "remaining_requests": 499999,
                "reset_requests": 0.172,
                "limit_tokens": 250000,
                "remaining_tokens": 248367,
                "reset_tokens": 0.391,
                "retry_after": None,
            },
        ),
        (
            "free_org_gptoss",
            {
                "limit_requests": 1000,
                "remaining_requests": 999,
                "reset_requests": 86.4,
                "limit_tokens": 8000,
                "remaining_tokens": 7927,
                "reset_tokens": 0.547,
                "retry_after": None,
            },
        ),
    ],
    ids=["docs_example", "paid_org", "free_org"],
)
def test_rate_limit_headers(name: str, expected: dict[str, Any]) -> None:
    limit = GROQ.rate_limit(HEADER_SETS[name])
    assert limit is not None
    assert limit.model_dump() == pytest.approx(expected)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("2m59.56s", 179.56),
        ("172ms", 0.172),
        ("1m26.4s", 86.4),
        ("7.66s", 7.66),
        ("1h2m3s", 3723.0),
        ("12", 12.0),
        ("0s", 0.0),
    ],
)
def test_go_durations_in_reset_headers(value: str, seconds: float) -> None:
    limit = GROQ.rate_limit({"x-ratelimit-limit-tokens": "1", "x-ratelimit-reset-tokens": value})
    assert limit is not None
    assert limit.reset_tokens == pytest.approx(seconds)


def test_no_rate_limit_headers() -> None:
    assert GROQ.rate_limit({"content-type": "application/json"}) is None
    only_wait = GROQ.rate_limit({"retry-after": "3"})
    assert only_wait is not None and only_wait.retry_after == 3.0


# -- models ------------------------------------------------------------------------------------


def test_models_request() -> None:
    http = GROQ.models_request()
    assert (http.method, http.path, http.body) == ("GET", "/models", None)


def test_models_list() -> None:
    raw = groq_json("models_list.json")
    models = GROQ.parse_models(
        HttpResponse(200, JSON_HEADERS, fixture_bytes("groq", "models_list.json"))
    )
    assert [m.id for m in models] == [m["id"] for m in raw["data"]]
    by_id = {m.id: m for m in models}
    llama = by_id["llama-3.3-70b-versatile"]
    assert (llama.context_window, llama.max_output_tokens) == (131_072, 32_768)
    assert (llama.owned_by, llama.active, llama.created, llama.provider) == (
        "Meta",
        True,
        1733447754,
        "groq",
    )
    assert llama.raw == raw["data"][[m["id"] for m in raw["data"]].index("llama-3.3-70b-versatile")]
    whisper = by_id["whisper-large-v3"]
    assert (whisper.context_window, whisper.max_output_tokens) == (448, 448)


def test_the_catalog_agrees_with_the_live_list() -> None:
    listed = {m["id"]: m for m in groq_json("models_list.json")["data"]}
    checked = 0
    for card in MODELS.values():
        if card.retired or card.id not in listed:
            continue
        checked += 1
        assert card.context_window == listed[card.id]["context_window"], card.id
        assert card.max_output_tokens == listed[card.id]["max_completion_tokens"], card.id
    assert checked >= 8


def test_models_without_limits_take_the_catalogs() -> None:
    payload = {
        "object": "list",
        "data": [
            {
                "id": "openai/gpt-oss-120b",
                "object": "model",
                "created": 1754408224,
                "owned_by": "OpenAI",
            },
            {"id": "some/new-model", "object": "model", "created": 1, "owned_by": "X"},
        ],
    }
    gpt, new = GROQ.parse_models(HttpResponse(200, {}, json.dumps(payload).encode()))
    assert (gpt.context_window, gpt.max_output_tokens) == (131_072, 65_536)
    assert (new.context_window, new.max_output_tokens) == (None, None)

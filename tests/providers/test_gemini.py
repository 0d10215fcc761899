"""Tests for the native Gemini adapter: request bodies, SSE decoding, signatures, errors, models."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from support import CLOCK, WEATHER, chunkings, decode, decode_all_ways, fixture_bytes, same_content

import llmx
from llmx import (
    AuthenticationError,
    ContextLengthError,
    EventType,
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
    ServerError,
    StreamError,
    TextPart,
    Tool,
    ToolCall,
    UnsupportedFeatureError,
    accumulate,
)
from llmx.adapter import HttpResponse
from llmx.providers.gemini import GeminiAdapter, GeminiOptions, create_adapter

ADAPTER = create_adapter()
SECRET = "AIzaSy-test-secret-key-0123456789"
SIG_TEXT = "CtwBAb4+9vtLlmxInventedTextPartSignatureQUJDREVGR0hJSktMTU5PUA=="
SIG_PARALLEL = "CiQBVKhc7LlmxInventedParallelCallSignatureZm9vYmFyYmF6cXV4"
SIG_TRAILING = "EoMBCoABAXLI2nxLlmxInventedTrailingSignatureT1BRUlNUVVZXWFla"
STREAMS = [
    "stream",
    "thinking_stream",
    "tool_stream",
    "parallel_tool_stream",
    "trailing_signature_stream",
    "prompt_blocked_stream",
    "max_tokens_stream",
    "vertex_streamed_args",
]
PAIRS = [
    ("stream", "text_response"),
    ("thinking_stream", "thinking_response"),
    ("tool_stream", "tool_response"),
    ("parallel_tool_stream", "parallel_tool_response"),
    ("trailing_signature_stream", "trailing_signature_response"),
    ("prompt_blocked_stream", "prompt_blocked_response"),
]


def request(*messages: Message, **fields: Any) -> Request:
    fields.setdefault("model", "gemini-2.5-flash")
    return Request(messages=list(messages) or [Message.user("hi")], **fields)


def body(req: Request, *, stream: bool = False) -> dict[str, Any]:
    http = ADAPTER.build_request(req, stream=stream)
    assert http.body is not None
    _no_none(http.body)
    return http.body


def _no_none(value: Any) -> None:
    """Nothing None on the wire, at any depth."""
    assert value is not None
    if isinstance(value, dict):
        for item in value.values():
            _no_none(item)
    elif isinstance(value, list):
        for item in value:
            _no_none(item)


def stream_fixture(name: str, req: Request | None = None) -> llmx.Response:
    return accumulate(decode_all_ways(ADAPTER, req or request(), fixture_bytes("gemini", name)))


def parse(name: str, req: Request | None = None) -> llmx.Response:
    raw = fixture_bytes("gemini", name)
    return ADAPTER.parse_response(HttpResponse(200, {}, raw), req or request())


def error(name: str, status: int, headers: dict[str, str] | None = None) -> ProviderError:
    return ADAPTER.parse_error(HttpResponse(status, headers or {}, fixture_bytes("gemini", name)))


# -- spec and paths ----------------------------------------------------------------------------


def test_spec_sends_the_key_in_a_header() -> None:
    spec = ADAPTER.spec
    assert isinstance(ADAPTER, GeminiAdapter)
    assert spec.name == "gemini"
    assert spec.default_base_url == "https://generativelanguage.googleapis.com/v1beta"
    assert (spec.api_key_env, spec.base_url_env) == ("GEMINI_API_KEY", "GEMINI_BASE_URL")
    assert (spec.auth_header, spec.auth_prefix, spec.framing) == ("x-goog-api-key", "", "sse")


@pytest.mark.parametrize(
    ("model", "path"),
    [
        ("gemini-2.5-flash", "/models/gemini-2.5-flash"),
        ("models/gemini-2.5-flash", "/models/gemini-2.5-flash"),
        ("tunedModels/my-tune-1", "/tunedModels/my-tune-1"),
    ],
    ids=["bare", "prefixed", "tuned"],
)
def test_paths_and_params(model: str, path: str) -> None:
    unary = ADAPTER.build_request(request(model=model), stream=False)
    streamed = ADAPTER.build_request(request(model=model), stream=True)
    assert (unary.method, unary.path, dict(unary.params)) == ("POST", f"{path}:generateContent", {})
    assert streamed.path == f"{path}:streamGenerateContent"
    assert dict(streamed.params) == {"alt": "sse"}
    assert unary.body == streamed.body


@pytest.mark.parametrize(
    "model", ["../files/x", "gemini?key=1", "a b"], ids=["dots", "query", "sp"]
)
def test_bad_model_names_are_refused(model: str) -> None:
    with pytest.raises(InvalidInputError):
        ADAPTER.build_request(request(model=model), stream=False)


def _client(handler: Any, **kwargs: Any) -> llmx.Client:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return llmx.Client(
        "gemini", api_key=SECRET, model="gemini-2.5-flash", http_client=http, **kwargs
    )


def test_client_end_to_end_never_puts_the_key_in_the_url() -> None:
    seen: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        if req.url.path.endswith(":streamGenerateContent"):
            return httpx.Response(200, content=fixture_bytes("gemini", "stream.sse"))
        return httpx.Response(200, content=fixture_bytes("gemini", "text_response.json"))

    with _client(handler) as client:
        unary = client.chat("hi")
        streamed = client.stream("hi").response()
    same_content(unary, streamed)
    assert unary.text == "Bonjour, je suis un assistant.\n"
    for req in seen:
        assert req.headers["x-goog-api-key"] == SECRET
        assert "authorization" not in req.headers
        assert SECRET not in str(req.url) and "key" not in req.url.params
    assert str(seen[0].url).endswith("/v1beta/models/gemini-2.5-flash:generateContent")
    assert str(seen[1].url).endswith(":streamGenerateContent?alt=sse")


def test_client_errors_are_typed_and_scrubbed() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        payload = json.loads(fixture_bytes("gemini", "error_400_api_key.json"))
        payload["error"]["message"] += f" (got {SECRET})"
        return httpx.Response(400, json=payload)

    with _client(handler, max_retries=0) as client, pytest.raises(AuthenticationError) as info:
        client.chat("hi")
    assert SECRET not in str(info.value) and SECRET not in json.dumps(info.value.body)


def test_client_lists_models() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        assert req.url.path.endswith("/models") and req.url.params["pageSize"] == "1000"
        return httpx.Response(200, content=fixture_bytes("gemini", "models.json"))

    with _client(handler) as client:
        models = client.list_models()
    assert [m.id for m in models] == ["gemini-2.5-flash", "text-embedding-004"]
    assert (models[0].context_window, models[0].max_output_tokens) == (1048576, 65536)
    assert models[0].provider == "gemini" and models[0].raw is not None


# -- request bodies ----------------------------------------------------------------------------


def test_roles_system_and_merged_turns() -> None:
    req = request(
        Message.system("Be brief."),
        Message.user("Hello"),
        Message(role="developer", content="Answer in French."),
        Message.user("Again"),
        Message.assistant("Salut"),
    )
    out = body(req)
    assert out["systemInstruction"] == {
        "parts": [{"text": "Be brief."}, {"text": "Answer in French."}]
    }
    assert out["contents"] == [
        {"role": "user", "parts": [{"text": "Hello"}, {"text": "Again"}]},
        {"role": "model", "parts": [{"text": "Salut"}]},
    ]
    assert set(out) == {"contents", "systemInstruction"}


def test_only_system_messages_is_refused() -> None:
    with pytest.raises(InvalidInputError):
        body(request(Message.system("x")))


def test_images_bytes_data_urls_and_https() -> None:
    png = b"\x89PNG\r\n\x1a\nfake"
    encoded = base64.b64encode(png).decode()
    content: list[TextPart | ImagePart] = [
        TextPart(text="Describe"),
        ImagePart.from_bytes(png, "image/png"),
        ImagePart(url=f"data:image/png;base64,{encoded}"),
        ImagePart.from_url("https://example.com/cat.jpg"),
        ImagePart.from_url("https://example.com/render?id=7"),
        ImagePart(url="gs://bucket/dog.webp"),
    ]
    parts = body(request(Message.user(content)))["contents"][0]["parts"]
    assert parts == [
        {"text": "Describe"},
        {"inlineData": {"mimeType": "image/png", "data": encoded}},
        {"inlineData": {"mimeType": "image/png", "data": encoded}},
        {"fileData": {"fileUri": "https://example.com/cat.jpg", "mimeType": "image/jpeg"}},
        {"fileData": {"fileUri": "https://example.com/render?id=7"}},
        {"fileData": {"fileUri": "gs://bucket/dog.webp", "mimeType": "image/webp"}},
    ]


@pytest.mark.parametrize(
    "url", ["http://example.com/cat.png", "ftp://x/y.png"], ids=["http", "ftp"]
)
def test_unfetchable_image_urls_are_refused(url: str) -> None:
    with pytest.raises(UnsupportedFeatureError, match="bytes"):
        body(request(Message.user([ImagePart.from_url(url)])))


def test_tools_become_function_declarations() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"q": {"type": ["string", "null"]}},
        "additionalProperties": False,
    }
    search = Tool(name="search", parameters=schema)
    out = body(request(tools=[WEATHER, CLOCK, search]))
    assert out["tools"] == [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "description": "Current weather",
                    "parametersJsonSchema": WEATHER.parameters,
                },
                {"name": "get_time"},
                {
                    "name": "search",
                    "parametersJsonSchema": {
                        "type": "object",
                        "properties": {"q": {"type": ["string", "null"]}},
                        "additionalProperties": False,
                    },
                },
            ]
        }
    ]
    assert "toolConfig" not in out


def test_legacy_schema_converts_to_the_openapi_subset() -> None:
    schema = {
        "$schema": "x",
        "type": "object",
        "$defs": {"Unit": {"enum": ["C", "F"], "description": "unit"}},
        "properties": {
            "city": {"type": "string", "format": "hostname", "minLength": 1},
            "unit": {"$ref": "#/$defs/Unit"},
            "days": {"anyOf": [{"type": "integer"}, {"type": "null"}], "description": "n"},
            "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
            "level": {"const": 3},
            "at": {"type": ["string", "null"], "format": "date-time"},
            "extra": {"type": "object", "properties": {}, "additionalProperties": True},
            "either": {"oneOf": [{"type": "string"}, {"type": "number"}], "title": "t"},
        },
        "required": ["city", "ghost"],
        "additionalProperties": False,
    }
    tool = Tool(name="plan", parameters={**schema, "required": ["city"]})
    req = request(tools=[tool], provider_options={"gemini": {"legacy_schema": True}})
    declaration = body(req)["tools"][0]["functionDeclarations"][0]
    assert declaration["parameters"] == {
        "type": "OBJECT",
        "properties": {
            "city": {"type": "STRING", "minLength": 1},
            "unit": {"type": "STRING", "format": "enum", "enum": ["C", "F"], "description": "unit"},
            "days": {"type": "INTEGER", "description": "n", "nullable": True},
            "tags": {"type": "ARRAY", "items": {"type": "STRING"}},
            "level": {"type": "STRING", "format": "enum", "enum": ["3"]},
            "at": {"type": "STRING", "format": "date-time", "nullable": True},
            "extra": {"type": "OBJECT"},
            "either": {"anyOf": [{"type": "STRING"}, {"type": "NUMBER"}]},
        },
        "required": ["city"],
    }


def test_legacy_schema_survives_recursive_refs() -> None:
    node = {"type": "object", "properties": {"child": {"$ref": "#/$defs/Node"}}}
    schema = {"type": "object", "$defs": {"Node": node}, "properties": {"root": node}}
    req = request(tools=[Tool(name="tree", parameters=schema)])
    req = req.model_copy(update={"provider_options": {"gemini": {"legacyschema": None}}})
    with pytest.raises(InvalidInputError):  # unknown option keys are refused
        body(req)
    req = req.model_copy(update={"provider_options": {"gemini": {"legacySchema": True}}})
    params = body(req)["tools"][0]["functionDeclarations"][0]["parameters"]
    child = params["properties"]["root"]["properties"]["child"]
    assert child["properties"]["child"] == {"type": "OBJECT"}


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", {"mode": "AUTO"}),
        ("none", {"mode": "NONE"}),
        ("required", {"mode": "ANY"}),
        ("get_weather", {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}),
    ],
    ids=["auto", "none", "required", "named"],
)
def test_tool_choice(choice: str, expected: dict[str, Any]) -> None:
    out = body(request(tools=[WEATHER, CLOCK], tool_choice=choice))
    assert out["toolConfig"] == {"functionCallingConfig": expected}


def test_generation_config() -> None:
    req = request(
        temperature=0.3,
        top_p=0.9,
        max_tokens=256,
        stop=["END"],
        seed=7,
        presence_penalty=0.5,
        frequency_penalty=-0.5,
        response_format="json_object",
    )
    assert body(req)["generationConfig"] == {
        "temperature": 0.3,
        "topP": 0.9,
        "maxOutputTokens": 256,
        "seed": 7,
        "presencePenalty": 0.5,
        "frequencyPenalty": -0.5,
        "stopSequences": ["END"],
        "responseMimeType": "application/json",
    }


@pytest.mark.parametrize("legacy", [False, True], ids=["json_schema", "openapi"])
def test_json_schema_output(legacy: bool) -> None:
    schema = {
        "$schema": "x",
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "required": ["name"],
    }
    fmt = JSONSchemaFormat(name="recipe", schema=schema, strict=True)
    req = request(response_format=fmt, provider_options={"gemini": {"legacy_schema": legacy}})
    config = body(req)["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    if legacy:
        assert config["responseSchema"] == {
            "type": "OBJECT",
            "properties": {"name": {"type": "STRING"}},
            "required": ["name"],
        }
    else:
        assert config["responseJsonSchema"] == {k: v for k, v in schema.items() if k != "$schema"}


@pytest.mark.parametrize(
    ("model", "reasoning", "expected"),
    [
        ("gemini-2.5-flash", ReasoningOptions(budget_tokens=2048), {"thinkingBudget": 2048}),
        ("gemini-2.5-flash", ReasoningOptions(effort="none"), {"thinkingBudget": 0}),
        ("gemini-2.5-pro", ReasoningOptions(effort="high"), {"thinkingBudget": 24576}),
        ("gemini-3-pro-preview", ReasoningOptions(effort="low"), {"thinkingLevel": "LOW"}),
        (
            "models/gemini-3-flash-preview",
            ReasoningOptions(effort="minimal", include=True),
            {"thinkingLevel": "MINIMAL", "includeThoughts": True},
        ),
        (
            "gemini-3-pro-preview",
            ReasoningOptions(effort="high", budget_tokens=100),
            {"thinkingBudget": 100},
        ),
        ("gemini-2.5-flash", ReasoningOptions(include=False), {"includeThoughts": False}),
    ],
    ids=["budget", "none-25", "high-25", "low-3", "minimal-3-include", "budget-wins", "hide"],
)
def test_thinking_config(model: str, reasoning: ReasoningOptions, expected: Any) -> None:
    config = body(request(model=model, reasoning=reasoning))["generationConfig"]
    assert config == {"thinkingConfig": expected}


def test_default_effort_sends_nothing() -> None:
    assert "generationConfig" not in body(request(reasoning=ReasoningOptions(effort="default")))


def test_provider_options_snake_or_camel_case() -> None:
    safety = [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}]
    options = {
        "safetySettings": safety,
        "top_k": 40,
        "cached_content": "cachedContents/abc",
        "thinking_config": {"thinkingLevel": "HIGH"},
        "generationConfig": {"responseModalities": ["TEXT"]},
        "tools": [{"googleSearch": {}}],
        "extra_body": {"labels": {"team": "x"}},
    }
    req = request(
        tools=[CLOCK],
        reasoning=ReasoningOptions(include=True),
        provider_options={"gemini": options, "groq": {"ignored": True}},
    )
    out = body(req)
    assert out["safetySettings"] == safety
    assert out["cachedContent"] == "cachedContents/abc"
    assert out["labels"] == {"team": "x"}
    assert out["tools"] == [{"functionDeclarations": [{"name": "get_time"}]}, {"googleSearch": {}}]
    assert out["generationConfig"] == {
        "topK": 40,
        "thinkingConfig": {"includeThoughts": True, "thinkingLevel": "HIGH"},
        "responseModalities": ["TEXT"],
    }
    assert GeminiOptions(top_k=3).top_k == 3


@pytest.mark.parametrize(
    "options", [{"topk": 3}, {"top_k": 0}, {"safety_settings": "x"}], ids=["typo", "range", "type"]
)
def test_bad_provider_options(options: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError, match="provider_options"):
        body(request(provider_options={"gemini": options}))


def test_warnings_for_unsupported_settings() -> None:
    content: list[TextPart | ImagePart] = [ImagePart.from_url("https://x/y.png", detail="low")]
    req = request(Message.user(content), user="u1", parallel_tool_calls=False, tools=[CLOCK])
    events = decode(ADAPTER, req, [fixture_bytes("gemini", "stream.sse")])
    start = events[0]
    assert start.type is EventType.RESPONSE_START
    assert len(start.warnings) == 3 and all(w.startswith("gemini:") for w in start.warnings)
    assert parse("text_response.json", req).warnings == list(start.warnings)


# -- tool results and the multi-turn round trip ------------------------------------------------


def test_tool_results_map_ids_back_to_names() -> None:
    calls = [
        ToolCall(id="a", name="get_weather", arguments={"city": "Paris"}),
        ToolCall(id="b", name="get_time"),
    ]
    req = request(
        Message.user("Weather and time?"),
        Message.assistant(tool_calls=calls),
        Message.tool("b", "12:00"),
        Message.tool("a", {"temp": 18}),
        Message.tool("a", "[1, 2]"),
        Message.user("Thanks"),
    )
    contents = body(req)["contents"]
    assert contents[1] == {
        "role": "model",
        "parts": [
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
            {"functionCall": {"name": "get_time", "args": {}}},
        ],
    }
    assert contents[2] == {
        "role": "user",
        "parts": [
            {"functionResponse": {"name": "get_time", "response": {"result": "12:00"}}},
            {"functionResponse": {"name": "get_weather", "response": {"temp": 18}}},
            {"functionResponse": {"name": "get_weather", "response": {"result": [1, 2]}}},
            {"text": "Thanks"},
        ],
    }


def test_gemini_3_gets_a_dummy_signature_for_foreign_calls() -> None:
    req = request(
        Message.user("time?"),
        Message.assistant(
            tool_calls=[ToolCall(id="x", name="get_time"), ToolCall(id="y", name="a")]
        ),
        Message.tool("x", "noon"),
        Message.tool("y", "ok"),
        model="gemini-3-pro-preview",
    )
    parts = body(req)["contents"][1]["parts"]
    assert parts[0]["thoughtSignature"] == "skip_thought_signature_validator"
    assert "thoughtSignature" not in parts[1]
    older = body(req.model_copy(update={"model": "gemini-2.5-flash"}))["contents"][1]["parts"]
    assert all("thoughtSignature" not in p for p in older)


def _conversation(first: llmx.Response, second: llmx.Response) -> Request:
    """user -> parallel calls (signed) -> results -> thinking answer (signed) -> user."""
    calls = first.tool_calls
    return request(
        Message.user("Temperatures in Lyon and Osaka?"),
        first.message,
        Message.tool(calls[0].id, {"temp": 21}),
        Message.tool(calls[1].id, "24"),
        second.message,
        Message.user("And tomorrow?"),
        tools=[Tool(name="get_temperature")],
    )


@pytest.mark.parametrize("streamed", [False, True], ids=["chat", "stream"])
def test_multi_turn_round_trips_calls_results_and_signatures(streamed: bool) -> None:
    if streamed:
        first, second = (
            stream_fixture("parallel_tool_stream.sse"),
            stream_fixture("thinking_stream.sse"),
        )
    else:
        first, second = parse("parallel_tool_response.json"), parse("thinking_response.json")
    contents = body(_conversation(first, second))["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user", "model", "user"]
    par = json.loads(fixture_bytes("gemini", "parallel_tool_response.json"))
    assert contents[1]["parts"] == par["candidates"][0]["content"]["parts"]
    assert contents[2]["parts"] == [
        {"functionResponse": {"name": "get_temperature", "response": {"temp": 21}}},
        {"functionResponse": {"name": "get_temperature", "response": {"result": 24}}},
    ]
    thinking = json.loads(fixture_bytes("gemini", "thinking_response.json"))
    answer = thinking["candidates"][0]["content"]["parts"][1]  # unsigned thoughts are dropped
    assert contents[3]["parts"] == [answer]


def test_multi_turn_through_the_client() -> None:
    replies = ["parallel_tool_stream.sse", "tool_stream.sse"]
    sent: list[dict[str, Any]] = []

    def handler(req: httpx.Request) -> httpx.Response:
        sent.append(json.loads(req.content))
        return httpx.Response(200, content=fixture_bytes("gemini", replies.pop(0)))

    tool = Tool(name="get_temperature", parameters=WEATHER.parameters)
    history = [Message.system("Be brief."), Message.user("Lyon and Osaka?")]
    with _client(handler) as client:
        first = client.stream(Request(messages=history, tools=[tool])).response()
        history += [first.message, *(Message.tool(c.id, "20C") for c in first.tool_calls)]
        second = client.stream(Request(messages=history, tools=[tool, CLOCK])).response()
    assert second.tool_calls[0].name == "get_time"
    model_turn, results = sent[1]["contents"][1:3]
    assert model_turn["parts"][1]["thoughtSignature"] == SIG_PARALLEL
    assert "thoughtSignature" not in model_turn["parts"][2]
    assert [p["functionResponse"]["name"] for p in results["parts"]] == ["get_temperature"] * 2
    assert sent[1]["systemInstruction"] == {"parts": [{"text": "Be brief."}]}


@pytest.mark.parametrize("streamed", [False, True], ids=["chat", "stream"])
@pytest.mark.parametrize(
    "name", ["tool", "trailing_signature"], ids=["call-signature", "trailing-signature"]
)
def test_gemini_3_turns_replay_as_received(name: str, streamed: bool) -> None:
    req = request(model="gemini-3-pro-preview")
    if streamed:
        reply = stream_fixture(f"{name}_stream.sse", req)
    else:
        reply = parse(f"{name}_response.json", req)
    follow = [Message.user("hi"), reply.message]
    if reply.tool_calls:
        follow.append(Message.tool(reply.tool_calls[0].id, "12:00"))
    contents = body(request(*follow, model="gemini-3-pro-preview"))["contents"]
    wire = json.loads(fixture_bytes("gemini", f"{name}_response.json"))
    assert contents[1]["parts"] == wire["candidates"][0]["content"]["parts"]


def test_signed_thoughts_are_sent_back_as_thought_parts() -> None:
    message = Message(
        role="assistant",
        content="Answer",
        reasoning="Because.",
        provider_metadata={"gemini": {"thought_signature": "s1", "text_signature": "s2"}},
    )
    parts = body(request(Message.user("q"), message))["contents"][1]["parts"]
    assert parts == [
        {"text": "Because.", "thought": True, "thoughtSignature": "s1"},
        {"text": "Answer", "thoughtSignature": "s2"},
    ]


def test_wire_call_ids_are_kept_and_echoed() -> None:
    raw = {
        "candidates": [
            {
                "content": {"parts": [{"functionCall": {"id": "fc-1", "name": "f", "args": {}}}]},
                "finishReason": "STOP",
            }
        ]
    }
    reply = ADAPTER.parse_response(HttpResponse(200, {}, json.dumps(raw).encode()), request())
    assert reply.tool_calls[0].id == "fc-1"
    contents = body(request(Message.user("q"), reply.message, Message.tool("fc-1", "ok")))[
        "contents"
    ]
    assert contents[1]["parts"][0]["functionCall"]["id"] == "fc-1"
    assert contents[2]["parts"][0]["functionResponse"]["id"] == "fc-1"


# -- responses and streams ---------------------------------------------------------------------


@pytest.mark.parametrize("name", STREAMS)
def test_every_stream_decodes_the_same_in_every_chunking(name: str) -> None:
    events = decode_all_ways(ADAPTER, request(), fixture_bytes("gemini", f"{name}.sse"))
    assert events[0].type is EventType.RESPONSE_START and events[-1].type is EventType.FINISH
    assert sum(e.type is EventType.FINISH for e in events) == 1


@pytest.mark.parametrize(("stream_name", "body_name"), PAIRS, ids=[p[0] for p in PAIRS])
def test_stream_and_chat_give_the_same_response(stream_name: str, body_name: str) -> None:
    streamed = stream_fixture(f"{stream_name}.sse")
    unary = parse(f"{body_name}.json")
    same_content(streamed, unary)
    assert streamed.message.provider_metadata == unary.message.provider_metadata
    assert [c.provider_metadata for c in streamed.tool_calls] == [
        c.provider_metadata for c in unary.tool_calls
    ]
    assert (streamed.id, streamed.model) == (unary.id, unary.model)
    assert streamed.provider_metadata == unary.provider_metadata
    assert unary.raw is not None


def test_text_stream() -> None:
    reply = stream_fixture("stream.sse")
    assert reply.text == "Bonjour, je suis un assistant.\n"
    assert reply.reasoning is None and reply.message.provider_metadata is None
    assert (reply.finish_reason, reply.raw_finish_reason) == (FinishReason.STOP, "STOP")
    assert (reply.id, reply.model, reply.provider) == (
        "tXtLlmxStream0000000001",
        "gemini-2.0-flash",
        "gemini",
    )
    assert reply.usage is not None
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (8, 7)


def test_thinking_usage_and_signature() -> None:
    reply = stream_fixture("thinking_stream.sse")
    assert reply.reasoning is not None and reply.reasoning.startswith("**Weighing")
    assert reply.text == "Tea has less caffeine than coffee, so pick tea in the evening."
    assert reply.message.provider_metadata == {"gemini": {"text_signature": SIG_TEXT}}
    usage = reply.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (21, 111, 132)
    assert usage.reasoning_tokens == 95 and usage.cached_tokens is None


def test_usage_with_cache_and_tool_prompt_tokens() -> None:
    raw = {
        "candidates": [{"content": {"parts": [{"text": "x"}]}, "finishReason": "STOP"}],
        "usageMetadata": {
            "promptTokenCount": 120,
            "candidatesTokenCount": 11,
            "cachedContentTokenCount": 64,
            "toolUsePromptTokenCount": 10,
            "thoughtsTokenCount": 112,
            "totalTokenCount": 253,
        },
    }
    usage = ADAPTER.parse_response(HttpResponse(200, {}, json.dumps(raw).encode()), request()).usage
    assert usage == llmx.Usage(
        prompt_tokens=130,
        completion_tokens=123,
        total_tokens=253,
        cached_tokens=64,
        reasoning_tokens=112,
    )


def test_parallel_calls_get_stable_distinct_ids() -> None:
    reply = stream_fixture("parallel_tool_stream.sse")
    first, second = reply.tool_calls
    assert reply.finish_reason is FinishReason.TOOL_CALLS and reply.raw_finish_reason == "STOP"
    assert first.id != second.id and first.id.startswith("call_")
    assert (first.arguments, second.arguments) == (
        {"city": "Lyon", "unit": "C"},
        {"city": "Osaka", "unit": "C"},
    )
    assert first.provider_metadata == {"gemini": {"thought_signature": SIG_PARALLEL}}
    assert second.provider_metadata is None
    assert [c.id for c in parse("parallel_tool_response.json").tool_calls] == [first.id, second.id]


def test_call_ids_differ_between_responses() -> None:
    ids = {
        stream_fixture(n).tool_calls[0].id for n in ("tool_stream.sse", "vertex_streamed_args.sse")
    }
    assert len(ids) == 2


def test_vertex_partial_arguments_are_assembled() -> None:
    reply = stream_fixture("vertex_streamed_args.sse")
    (call,) = reply.tool_calls
    assert call.name == "get_forecast"
    assert call.arguments == {"city": "San Diego", "days": 3, "options": {"metric": True}}
    assert json.loads(call.raw_arguments) == call.arguments
    assert reply.finish_reason is FinishReason.TOOL_CALLS
    assert reply.usage is not None and reply.usage.reasoning_tokens == 125


def test_trailing_signature_gives_an_empty_reasoning_part() -> None:
    reply = stream_fixture("trailing_signature_stream.sse")
    assert reply.text == "Paris is the capital of France." and reply.reasoning == ""
    assert reply.message.provider_metadata == {"gemini": {"trailing_signature": SIG_TRAILING}}


def test_blocked_prompt_is_a_content_filter_finish() -> None:
    reply = stream_fixture("prompt_blocked_stream.sse")
    assert (reply.finish_reason, reply.raw_finish_reason) == (FinishReason.CONTENT_FILTER, "SAFETY")
    assert reply.text == "" and reply.warnings == ["gemini: the prompt was blocked (SAFETY)"]
    assert reply.provider_metadata is not None
    assert reply.provider_metadata["gemini"]["promptFeedback"]["blockReason"] == "SAFETY"


@pytest.mark.parametrize(
    ("raw", "calls", "expected"),
    [
        ("STOP", False, FinishReason.STOP),
        ("STOP", True, FinishReason.TOOL_CALLS),
        ("MAX_TOKENS", True, FinishReason.LENGTH),
        ("SAFETY", False, FinishReason.CONTENT_FILTER),
        ("RECITATION", False, FinishReason.CONTENT_FILTER),
        ("BLOCKLIST", False, FinishReason.CONTENT_FILTER),
        ("PROHIBITED_CONTENT", False, FinishReason.CONTENT_FILTER),
        ("SPII", False, FinishReason.CONTENT_FILTER),
        ("MALFORMED_FUNCTION_CALL", False, FinishReason.ERROR),
        ("LANGUAGE", False, FinishReason.OTHER),
        ("OTHER", False, FinishReason.OTHER),
    ],
    ids=lambda v: str(v),
)
def test_finish_reasons(raw: str, calls: bool, expected: FinishReason) -> None:
    parts: list[dict[str, Any]] = [{"text": "x"}]
    if calls:
        parts.append({"functionCall": {"name": "f", "args": {}}})
    candidate = {"content": {"parts": parts}, "finishReason": raw, "finishMessage": "why"}
    payload = json.dumps({"candidates": [candidate]}).encode()
    reply = ADAPTER.parse_response(HttpResponse(200, {}, payload), request())
    assert (reply.finish_reason, reply.raw_finish_reason) == (expected, raw)
    assert reply.provider_metadata == {"gemini": {"finishMessage": "why"}}
    streamed = accumulate(decode(ADAPTER, request(), [b"data: " + payload + b"\r\n\r\n"]))
    same_content(reply, streamed)


def test_max_tokens_stream() -> None:
    reply = stream_fixture("max_tokens_stream.sse")
    assert reply.finish_reason is FinishReason.LENGTH and reply.text == "Once upon a time there was"


@pytest.mark.parametrize("cut", [1, 2], ids=["after-first-chunk", "before-finish"])
def test_a_stream_cut_before_its_finish_reason_raises(cut: int) -> None:
    events = fixture_bytes("gemini", "thinking_stream.sse").split(b"\r\n\r\n")
    events_so_far = b"".join(event + b"\r\n\r\n" for event in events[:cut])
    for _, chunks in chunkings(events_so_far, seeds=1):
        with pytest.raises(StreamError, match="finishReason"):
            decode(ADAPTER, request(), chunks)


def test_error_mid_stream_is_typed() -> None:
    with pytest.raises(ServerError) as info:
        decode_all_ways(ADAPTER, request(), fixture_bytes("gemini", "error_midstream.sse"))
    assert info.value.status_code == 503 and info.value.error_type == "UNAVAILABLE"


def test_error_mid_stream_through_the_client_keeps_the_partial_text() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=fixture_bytes("gemini", "error_midstream.sse"))

    with _client(handler) as client, pytest.raises(ServerError) as info:
        client.stream("hi").response()
    assert info.value.partial is not None and info.value.partial.text == "Half an ans"


@pytest.mark.parametrize(
    "data", [b"data: not json\r\n\r\n", b"data: [1, 2]\r\n\r\n"], ids=["text", "array"]
)
def test_malformed_chunks_raise_stream_error(data: bytes) -> None:
    with pytest.raises(StreamError):
        decode(ADAPTER, request(), [data])


def test_an_empty_response_body_is_an_error() -> None:
    with pytest.raises(StreamError, match="no candidates"):
        ADAPTER.parse_response(HttpResponse(200, {}, b"{}"), request())


def test_server_parts_are_kept_in_metadata() -> None:
    code = {"executableCode": {"language": "PYTHON", "code": "print(1)"}}
    raw = {"candidates": [{"content": {"parts": [code, {"text": "1"}]}, "finishReason": "STOP"}]}
    reply = ADAPTER.parse_response(HttpResponse(200, {}, json.dumps(raw).encode()), request())
    assert reply.text == "1" and reply.provider_metadata == {"gemini": {"parts": [code]}}


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "status", "cls", "code"),
    [
        ("error_400_api_key.json", 400, AuthenticationError, "API_KEY_INVALID"),
        ("error_403.json", 403, AuthenticationError, "PERMISSION_DENIED"),
        ("error_400_context.json", 400, ContextLengthError, "INVALID_ARGUMENT"),
        ("error_400_invalid.json", 400, InvalidRequestError, "INVALID_ARGUMENT"),
        ("error_404.json", 404, InvalidRequestError, "NOT_FOUND"),
        ("error_429_retry.json", 429, RateLimitError, "RESOURCE_EXHAUSTED"),
        ("error_500.json", 500, ServerError, "INTERNAL"),
        ("error_503.json", 503, ServerError, "UNAVAILABLE"),
    ],
    ids=["api-key", "403", "context", "invalid", "404", "429", "500", "503"],
)
def test_errors_are_typed(name: str, status: int, cls: type[ProviderError], code: str) -> None:
    err = error(name, status)
    assert type(err) is cls
    assert (err.status_code, err.code, err.provider) == (status, code, "gemini")
    assert err.is_retryable is (status >= 429 and cls is not AuthenticationError)


def test_context_length_is_not_mistaken_for_other_invalid_requests() -> None:
    assert not isinstance(error("error_400_invalid.json", 400), ContextLengthError)


def test_rate_limit_delay_from_retry_info_or_header() -> None:
    assert error("error_429_retry.json", 429).retry_after == 41.0
    assert error("error_429_retry.json", 429, {"retry-after": "3"}).retry_after == 3.0


def test_non_json_error_bodies() -> None:
    err = ADAPTER.parse_error(HttpResponse(502, {}, b"<html>Bad Gateway</html>"))
    assert isinstance(err, ServerError) and "Bad Gateway" in str(err)


def test_rate_limit_through_the_client_reports_the_retry_delay() -> None:
    calls: list[int] = []

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(429, content=fixture_bytes("gemini", "error_429_retry.json"))

    policy = llmx.RetryPolicy(max_retries=3, max_retry_after=10)
    with _client(handler, retry_policy=policy) as client, pytest.raises(RateLimitError) as info:
        client.chat("hi")  # 41 s exceeds max_retry_after: raised at once, not slept through
    assert info.value.retry_after == 41.0 and len(calls) == 1


def test_models_without_limits() -> None:
    payload = json.dumps({"models": [{"name": "models/x"}]}).encode()
    (info,) = ADAPTER.parse_models(HttpResponse(200, {}, payload))
    assert (info.id, info.context_window, info.max_output_tokens) == ("x", None, None)

"""Tests for the native Ollama adapter: request bodies, NDJSON decoding, errors, models."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import httpx
import pytest
from support import CLOCK, WEATHER, chunkings, decode, decode_all_ways, fixture_bytes, same_content

import llmx
from llmx import (
    AuthenticationError,
    Finish,
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
    ResponseStart,
    ServerError,
    StreamError,
    TextPart,
    ToolCall,
    UnsupportedFeatureError,
    accumulate,
)
from llmx._core import validate_messages
from llmx.adapter import HttpResponse
from llmx.providers.ollama import OllamaAdapter, OllamaOptions, create_adapter

ADAPTER = create_adapter()
CALL_ID = re.compile(r"^call_[0-9a-f]{8}$")


def request(**fields: Any) -> Request:
    return Request(messages=[Message.user("hi")], model="qwen3:8b", **fields)


def body(req: Request, *, stream: bool = True) -> dict[str, Any]:
    http = ADAPTER.build_request(req, stream=stream)
    assert (http.method, http.path) == ("POST", "/api/chat")
    assert http.body is not None
    assert not _nulls(http.body), f"None on the wire at {_nulls(http.body)}"
    return http.body


def _nulls(value: Any, path: str = "$") -> list[str]:
    if value is None:
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _nulls(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _nulls(v, f"{path}[{i}]")]
    return []


def fixture(name: str) -> bytes:
    return fixture_bytes("ollama", name)


def stream_response(name: str, req: Request | None = None) -> llmx.Response:
    return accumulate(decode_all_ways(ADAPTER, req or request(), fixture(name)))


def whole_response(name: str, req: Request | None = None) -> llmx.Response:
    return ADAPTER.parse_response(HttpResponse(200, {}, fixture(name)), req or request())


def error(status: int, payload: Any) -> ProviderError:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return ADAPTER.parse_error(HttpResponse(status, {}, raw))


# -- spec and registration ---------------------------------------------------------------------


def test_spec() -> None:
    spec = ADAPTER.spec
    assert isinstance(ADAPTER, OllamaAdapter)
    assert isinstance(ADAPTER, llmx.adapter.Adapter)
    assert spec.name == "ollama"
    assert spec.default_base_url == "http://localhost:11434"
    assert (spec.base_url_env, spec.api_key_env) == ("OLLAMA_BASE_URL", "OLLAMA_API_KEY")
    assert spec.key_required is False
    assert spec.framing == "ndjson"


def test_client_finds_the_adapter_without_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OLLAMA_BASE_URL", raising=False)
    with llmx.Client("ollama", model="llama3.2") as client:
        assert client.provider == "ollama"
        assert "localhost:11434" in repr(client)
    monkeypatch.setenv("OLLAMA_BASE_URL", "http://gpu-box:11434")
    with llmx.Client("ollama", model="llama3.2") as client:
        assert "gpu-box:11434" in repr(client)


# -- request bodies ----------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "whole"])
def test_minimal_body(stream: bool) -> None:
    assert body(request(), stream=stream) == {
        "model": "qwen3:8b",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": stream,
    }


def test_sampling_settings_go_in_options() -> None:
    sent = body(
        request(
            temperature=0.2,
            top_p=0.9,
            max_tokens=512,
            stop="</end>",
            seed=42,
            frequency_penalty=0.5,
            presence_penalty=-0.5,
        )
    )
    assert sent["options"] == {
        "temperature": 0.2,
        "top_p": 0.9,
        "num_predict": 512,
        "stop": ["</end>"],
        "seed": 42,
        "frequency_penalty": 0.5,
        "presence_penalty": -0.5,
    }
    assert "max_tokens" not in sent and "temperature" not in sent


SCHEMA = {"type": "object", "properties": {"summary": {"type": "string"}}}


@pytest.mark.parametrize(
    ("response_format", "expected"),
    [
        ("text", None),
        ("json_object", "json"),
        (JSONSchemaFormat(name="s", schema=SCHEMA, strict=True), SCHEMA),
    ],
    ids=["text", "json_object", "json_schema"],
)
def test_response_format(response_format: Any, expected: Any) -> None:
    assert body(request(response_format=response_format)).get("format") == expected


@pytest.mark.parametrize(
    ("reasoning", "expected"),
    [
        (None, None),
        (ReasoningOptions(), None),
        (ReasoningOptions(effort="default"), None),
        (ReasoningOptions(include=True), True),
        (ReasoningOptions(include=False), False),
        (ReasoningOptions(effort="none", include=True), False),
        (ReasoningOptions(effort="minimal"), "low"),
        (ReasoningOptions(effort="low"), "low"),
        (ReasoningOptions(effort="medium"), "medium"),
        (ReasoningOptions(effort="high", include=False), "high"),
        (ReasoningOptions(parse_think_tags=True), None),
    ],
    ids=[
        "unset",
        "empty",
        "default",
        "include",
        "exclude",
        "effort-none",
        "minimal",
        "low",
        "medium",
        "high-hidden",
        "tags-only",
    ],
)
def test_think(reasoning: ReasoningOptions | None, expected: bool | str | None) -> None:
    assert body(request(reasoning=reasoning)).get("think") == expected


def test_provider_options() -> None:
    sent = body(
        request(
            temperature=0.2,
            max_tokens=64,
            reasoning=ReasoningOptions(include=True),
            provider_options={
                "ollama": {
                    "keep_alive": "10m",
                    "options": {"num_ctx": 8192, "temperature": 0.7, "top_k": None},
                    "think": "max",
                    "extra_body": {"truncate": False, "shift": None},
                }
            },
        )
    )
    assert sent["keep_alive"] == "10m"
    assert sent["options"] == {"temperature": 0.7, "num_predict": 64, "num_ctx": 8192}
    assert sent["think"] == "max"
    assert sent["truncate"] is False and "shift" not in sent


@pytest.mark.parametrize(
    "options",
    [
        {"keepalive": "5m"},
        {"think": "extreme"},
        {"options": "num_ctx=8192"},
        {"extra_body": {"stream": False}},
        {"extra_body": {"messages": []}},
    ],
    ids=["unknown-field", "bad-think", "options-not-dict", "extra-stream", "extra-messages"],
)
def test_invalid_provider_options(options: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError, match="ollama"):
        body(request(provider_options={"ollama": options}))


def test_other_providers_options_are_ignored() -> None:
    assert "keep_alive" not in body(request(provider_options={"groq": {"keep_alive": "1m"}}))
    assert OllamaOptions().model_dump(exclude_none=True) == {}


def test_tools() -> None:
    assert body(request(tools=[WEATHER, CLOCK]))["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": WEATHER.parameters,
                "description": "Current weather",
            },
        },
        {"type": "function", "function": {"name": "get_time", "parameters": CLOCK.parameters}},
    ]


@pytest.mark.parametrize(
    ("choice", "sent_tools", "warns"),
    [
        (None, ["get_weather", "get_time"], False),
        ("auto", ["get_weather", "get_time"], False),
        ("none", [], False),
        ("required", ["get_weather", "get_time"], True),
        ("get_time", ["get_time"], True),
    ],
    ids=["unset", "auto", "none", "required", "named"],
)
def test_tool_choice(choice: str | None, sent_tools: list[str], warns: bool) -> None:
    req = request(tools=[WEATHER, CLOCK], tool_choice=choice)
    sent = body(req)
    assert [tool["function"]["name"] for tool in sent.get("tools", [])] == sent_tools
    assert "tool_choice" not in sent
    warnings = ADAPTER.warnings(req)
    assert bool(warnings) is warns
    assert all(w.startswith("ollama: tool_choice=") for w in warnings)


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"parallel_tool_calls": False, "tools": [WEATHER]}, "parallel_tool_calls"),
        ({"reasoning": ReasoningOptions(budget_tokens=1024)}, "budget_tokens"),
        ({"user": "u-1"}, "user"),
        ({"tools": [WEATHER.model_copy(update={"strict": True})]}, "strict"),
    ],
    ids=["parallel", "budget", "user", "strict-tool"],
)
def test_warnings_for_settings_ollama_lacks(fields: dict[str, Any], needle: str) -> None:
    req = request(**fields)
    sent = body(req)
    assert "user" not in sent and "parallel_tool_calls" not in sent
    assert [w for w in ADAPTER.warnings(req) if needle in w]


def test_warnings_reach_stream_and_response() -> None:
    req = request(tools=[WEATHER], tool_choice="required")
    events = decode_all_ways(ADAPTER, req, fixture("chat_stream.ndjson"))
    assert isinstance(events[0], ResponseStart)
    assert events[0].warnings == tuple(ADAPTER.warnings(req))
    assert accumulate(events).warnings == ADAPTER.warnings(req)
    assert whole_response("chat_response.json", req).warnings == ADAPTER.warnings(req)
    assert stream_response("chat_stream.ndjson").warnings == []


PNG = b"\x89PNG\r\n\x1a\nfake"


def test_images_are_bare_base64() -> None:
    data_url = "data:image/jpeg;base64,/9j/4AAQ"
    message = Message.user(
        [
            TextPart(text="What is "),
            ImagePart.from_bytes(PNG, "image/png"),
            TextPart(text="this?"),
            ImagePart.from_url(data_url),
        ]
    )
    sent = body(Request(messages=[message], model="llava"))
    assert sent["messages"] == [
        {
            "role": "user",
            "content": "What is this?",
            "images": [base64.b64encode(PNG).decode(), "/9j/4AAQ"],
        }
    ]


@pytest.mark.parametrize(
    "url", ["https://example.com/cat.png", "data:image/svg+xml,%3Csvg%3E"], ids=["https", "plain"]
)
def test_image_urls_are_unsupported(url: str) -> None:
    req = Request(messages=[Message.user([ImagePart.from_url(url)])], model="llava")
    with pytest.raises(UnsupportedFeatureError, match=r"ImagePart\.from_bytes"):
        ADAPTER.build_request(req, stream=True)


def test_image_detail_warns() -> None:
    image = ImagePart(data=PNG, media_type="image/png", detail="high")
    req = Request(messages=[Message.user([image])], model="llava")
    assert ADAPTER.warnings(req) == ["ollama: ImagePart.detail is not supported and was ignored"]


def test_roles() -> None:
    req = Request(
        model="m",
        messages=[
            Message(role="developer", content="Be terse."),
            Message.system("No emoji."),
            Message(role="user", content="hi", name="ann"),
            Message.assistant("hello", reasoning="greet back"),
        ],
    )
    assert body(req)["messages"] == [
        {"role": "system", "content": "Be terse."},
        {"role": "system", "content": "No emoji."},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello", "thinking": "greet back"},
    ]


def test_request_matches_the_documented_example() -> None:
    """The shared request_example.json, rebuilt from a Request (plus the ids llmx adds)."""
    expected = json.loads(fixture("request_example.json"))
    image = base64.b64decode(expected["messages"][1]["images"][0] + "=")
    call = ToolCall(id="call_1", name="get_weather", arguments={"city": "Paris"})
    req = Request(
        model="qwen3:8b",
        messages=[
            Message.system("You are terse."),
            Message.user(
                [
                    TextPart(text="Weather in Paris? See photo."),
                    ImagePart.from_bytes(image, "image/png"),
                ]
            ),
            Message.assistant("", tool_calls=[call], reasoning="Call the tool."),
            Message.tool("call_1", "18C, cloudy"),
        ],
        tools=[WEATHER],
        reasoning=ReasoningOptions(include=True),
        response_format=JSONSchemaFormat(name="summary", schema=expected["format"]),
        temperature=0.2,
        max_tokens=512,
        top_p=0.9,
        seed=42,
        stop=["</end>"],
        provider_options={"ollama": {"keep_alive": "10m", "options": {"num_ctx": 8192}}},
    )
    sent = body(req)
    assert sent["messages"][2]["tool_calls"][0].pop("id") == "call_1"
    assert sent["messages"][3].pop("tool_call_id") == "call_1"
    sent["messages"][1]["images"] = expected["messages"][1]["images"]  # padding differs
    assert sent == expected


# -- decoding ----------------------------------------------------------------------------------

STREAMS = [
    "chat_stream.ndjson",
    "chat_text_stream.ndjson",
    "tools_noid_stream.ndjson",
    "think_tags_stream.ndjson",
]


@pytest.mark.parametrize("name", STREAMS, ids=[n.removesuffix(".ndjson") for n in STREAMS])
def test_every_stream_decodes_the_same_in_every_chunking(name: str) -> None:
    events = decode_all_ways(ADAPTER, request(), fixture(name))
    assert isinstance(events[0], ResponseStart)
    assert events[0].provider == "ollama" and events[0].id is None
    assert isinstance(events[-1], Finish)
    assert sum(isinstance(e, (ResponseStart, Finish)) for e in events) == 2


def test_thinking_text_and_tool_call() -> None:
    events = decode_all_ways(ADAPTER, request(), fixture("chat_stream.ndjson"))
    assert [e.type.value for e in events] == [
        "response-start",
        "reasoning-start",
        "reasoning-delta",
        "reasoning-delta",
        "reasoning-end",
        "text-start",
        "text-delta",
        "text-end",
        "tool-call-start",
        "tool-call-delta",
        "tool-call-end",
        "usage",
        "finish",
    ]
    response = accumulate(events)
    assert response.model == "qwen3:8b"
    assert response.reasoning == "The user asks for Paris weather. I should call get_weather."
    assert response.text == "Let me check."
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        ("call_k3x9q2ab", "get_weather", {"city": "Paris"})
    ]
    assert response.finish_reason is FinishReason.TOOL_CALLS
    assert response.raw_finish_reason == "stop"
    usage = response.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (272, 32, 304)
    assert usage.prompt_time == pytest.approx(0.184502)
    assert usage.completion_time == pytest.approx(0.545876)
    assert usage.total_time == pytest.approx(4.2171371)
    assert response.provider_metadata == {
        "ollama": {
            "total_duration": 4217137100,
            "load_duration": 41295167,
            "prompt_eval_duration": 184502000,
            "eval_duration": 545876000,
            "created_at": "2025-10-26T17:21:20.301Z",
        }
    }


def test_text_stopped_by_length() -> None:
    response = stream_response("chat_text_stream.ndjson")
    assert response.text == "The sky"
    assert response.reasoning is None and response.tool_calls == []
    assert response.finish_reason is FinishReason.LENGTH


def test_calls_without_ids_get_stable_derived_ids() -> None:
    response = stream_response("tools_noid_stream.ndjson")
    ids = [call.id for call in response.tool_calls]
    assert all(CALL_ID.match(i) for i in ids) and len(set(ids)) == 2
    assert [c.arguments["city"] for c in response.tool_calls] == ["Paris", "Tokyo"]
    assert response.message.content is None
    assert response.finish_reason is FinishReason.TOOL_CALLS
    assert [c.id for c in stream_response("tools_noid_stream.ndjson").tool_calls] == ids


def test_think_tags_are_split_when_asked() -> None:
    split = request(reasoning=ReasoningOptions(parse_think_tags=True))
    response = stream_response("think_tags_stream.ndjson", split)
    assert (response.reasoning, response.text) == ("Two plus two is four.", "4")
    raw = stream_response("think_tags_stream.ndjson")
    assert raw.reasoning is None and raw.text.startswith("<think>\nTwo")


def test_hidden_reasoning_is_dropped() -> None:
    hidden = request(reasoning=ReasoningOptions(effort="high", include=False))
    for response in (
        stream_response("chat_stream.ndjson", hidden),
        whole_response("chat_response.json", hidden),
    ):
        assert response.reasoning is None
        assert response.text == "Let me check."


PAIRS = [
    ("chat_text_stream.ndjson", "chat_text_response.json", None),
    ("chat_stream.ndjson", "chat_response.json", None),
    ("tools_noid_stream.ndjson", "tools_noid_response.json", None),
    (
        "think_tags_stream.ndjson",
        "think_tags_response.json",
        ReasoningOptions(parse_think_tags=True),
    ),
]


@pytest.mark.parametrize(
    ("streamed", "whole", "reasoning"), PAIRS, ids=["text", "thinking+call", "noid-calls", "tags"]
)
def test_stream_accumulates_to_the_whole_response(
    streamed: str, whole: str, reasoning: ReasoningOptions | None
) -> None:
    req = request(reasoning=reasoning)
    a, b = stream_response(streamed, req), whole_response(whole, req)
    same_content(a, b)
    assert a.provider_metadata == b.provider_metadata
    assert (a.model, a.provider) == (b.model, b.provider)
    assert b.raw == json.loads(fixture(whole))


def test_load_reply() -> None:
    line = json.dumps(json.loads(fixture("load_response.json"))).encode() + b"\n"
    for response in (
        whole_response("load_response.json"),
        accumulate(decode_all_ways(ADAPTER, request(), line)),
    ):
        assert response.text == "" and response.tool_calls == []
        assert response.finish_reason is FinishReason.OTHER
        assert response.raw_finish_reason == "load"
        assert response.usage is None and response.provider_metadata is not None


def test_whole_body_sent_as_ndjson_is_accepted() -> None:
    """A proxy that ignores ``stream: false`` and answers with NDJSON lines."""
    response = whole_response("chat_stream.ndjson")
    same_content(response, stream_response("chat_stream.ndjson"))


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"not json\n", "not JSON"),
        (b"[1, 2]\n", "not a JSON object"),
        (b'{"model":"m","message":{"content":"x"},"done":false}\n', "done:true"),
    ],
    ids=["not-json", "not-object", "no-done"],
)
def test_malformed_streams(data: bytes, match: str) -> None:
    with pytest.raises(StreamError, match=match):
        decode(ADAPTER, request(), [data])
    with pytest.raises(StreamError, match=match):
        ADAPTER.parse_response(HttpResponse(200, {}, data), request())


def test_truncated_stream_raises_in_every_chunking() -> None:
    data = fixture("truncated_stream.ndjson")
    for _, chunks in chunkings(data):
        with pytest.raises(StreamError, match="done:true"):
            decode(ADAPTER, request(), chunks)


def test_lines_after_done_are_ignored() -> None:
    data = fixture("chat_text_stream.ndjson") + b'{"message":{"content":"late"},"done":false}\n'
    assert stream_response("chat_text_stream.ndjson") == accumulate(
        decode(ADAPTER, request(), [data])
    )


def test_unknown_done_reason() -> None:
    line = b'{"model":"m","message":{"content":"x"},"done":true,"done_reason":"unload"}\n'
    response = accumulate(decode(ADAPTER, request(), [line]))
    assert (response.finish_reason, response.raw_finish_reason) == (FinishReason.OTHER, "unload")
    missing = b'{"model":"m","message":{"content":"x"},"done":true}\n'
    response = accumulate(decode(ADAPTER, request(), [missing]))
    assert (response.finish_reason, response.raw_finish_reason) == (FinishReason.OTHER, None)


# -- errors ------------------------------------------------------------------------------------


def test_error_line_mid_stream() -> None:
    data = fixture("error_midstream.ndjson")
    for _, chunks in chunkings(data):
        with pytest.raises(ServerError, match="an error was encountered while running the model"):
            decode(ADAPTER, request(), chunks)


def test_error_in_a_whole_response() -> None:
    with pytest.raises(ServerError, match="out of memory"):
        ADAPTER.parse_response(HttpResponse(200, {}, b'{"error":"out of memory"}'), request())


BAD = InvalidRequestError
HTTP_ERRORS = {
    "404-fixture": (404, json.loads(fixture("error_response_404.json")), BAD, "ollama pull llama9"),
    "404-quoted": (
        404,
        {"error": 'model "qwen3" not found, try pulling'},
        BAD,
        "ollama pull qwen3",
    ),
    "no-tools": (400, {"error": "library/gemma:2b does not support tools"}, BAD, "tool support"),
    "no-thinking": (400, {"error": '"llama3.2" does not support thinking'}, BAD, "reasoning unset"),
    "400": (400, {"error": "invalid options: num_ctx"}, BAD, "invalid options"),
    "401-signin": (
        401,
        {"error": "unauthorized", "signin_url": "https://ollama.com/connect?x"},
        AuthenticationError,
        "sign in at https://ollama.com/connect?x",
    ),
    "429": (429, {"error": "too many requests"}, RateLimitError, "too many"),
    "500": (500, {"error": "llama runner process has terminated"}, ServerError, "terminated"),
    "404-wrong-path": (404, b"404 page not found", BAD, "without /v1"),
    "502-html": (502, b"<html>Bad Gateway</html>", ServerError, "Bad Gateway"),
    "500-empty": (500, b"", ServerError, "(empty body)"),
}


@pytest.mark.parametrize(
    ("status", "payload", "kind", "needle"), HTTP_ERRORS.values(), ids=HTTP_ERRORS.keys()
)
def test_http_errors(status: int, payload: Any, kind: type[ProviderError], needle: str) -> None:
    result = error(status, payload)
    assert type(result) is kind
    assert needle in str(result)
    assert result.provider == "ollama" and result.status_code == status


# -- conversations -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["chat_stream.ndjson", "tools_noid_stream.ndjson"], ids=["with-ids", "derived-ids"]
)
def test_tool_conversation_round_trip(name: str) -> None:
    first = request(tools=[WEATHER])
    reply = stream_response(name, first)
    results = [Message.tool(call.id, {"temp_c": 18 + i}) for i, call in enumerate(reply.tool_calls)]
    follow_up = first.model_copy(update={"messages": [*first.messages, reply.message, *results]})
    validate_messages(follow_up)  # the core accepts the ids it will see
    sent = body(follow_up)["messages"]
    assistant, tools = sent[1], sent[2:]
    assert assistant["role"] == "assistant"
    assert assistant["content"] == reply.text
    assert assistant.get("thinking") == reply.reasoning
    assert assistant["tool_calls"] == [
        {"id": c.id, "function": {"name": c.name, "arguments": c.arguments}}
        for c in reply.tool_calls
    ]
    assert all(isinstance(c["function"]["arguments"], dict) for c in assistant["tool_calls"])
    assert tools == [
        {
            "role": "tool",
            "content": json.dumps({"temp_c": 18 + i}),
            "tool_name": "get_weather",
            "tool_call_id": call.id,
        }
        for i, call in enumerate(reply.tool_calls)
    ]


def test_tool_name_follows_the_latest_call_with_that_id() -> None:
    def turn(name: str) -> list[Message]:
        call = ToolCall(id="call_0", name=name)
        return [Message.assistant(tool_calls=[call]), Message.tool("call_0", "ok")]

    req = Request(model="m", messages=[Message.user("go"), *turn("a"), *turn("b")])
    sent = body(req)["messages"]
    assert [m.get("tool_name") for m in sent if m["role"] == "tool"] == ["a", "b"]
    call = {"id": "call_0", "function": {"name": "a", "arguments": {}}}
    assert sent[1] == {"role": "assistant", "content": "", "tool_calls": [call]}


# -- models ------------------------------------------------------------------------------------


def test_models() -> None:
    http = ADAPTER.models_request()
    assert (http.method, http.path, http.body) == ("GET", "/api/tags", None)
    models = ADAPTER.parse_models(HttpResponse(200, {}, fixture("tags_response.json")))
    assert [(m.id, m.provider) for m in models] == [("llama3.2:latest", "ollama")]
    assert models[0].raw is not None
    assert models[0].raw["size"] == 2019393189
    assert models[0].raw["details"]["parameter_size"] == "3.2B"
    assert ADAPTER.parse_models(HttpResponse(200, {}, b'{"models":[]}')) == []


# -- through the client (httpx mock transport, no network) --------------------------------------


def _client(handler: Any) -> llmx.Client:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return llmx.Client("ollama", model="qwen3:8b", http_client=http, max_retries=0)


NDJSON = {"content-type": "application/x-ndjson"}


def test_client_stream_and_chat() -> None:
    seen: list[dict[str, Any]] = []

    def handler(req: httpx.Request) -> httpx.Response:
        sent = json.loads(req.content)
        seen.append(sent)
        assert req.url.path == "/api/chat" and "authorization" not in req.headers
        if sent["stream"]:
            return httpx.Response(200, headers=NDJSON, content=fixture("chat_stream.ndjson"))
        return httpx.Response(200, json=json.loads(fixture("chat_response.json")))

    with _client(handler) as client:
        with client.stream("weather?") as stream:
            events = list(stream)
            streamed = stream.response()
        whole = client.chat("weather?")
    assert [s["stream"] for s in seen] == [True, False]
    assert isinstance(events[-1], Finish)
    same_content(streamed, whole)


def test_client_error_mid_stream_keeps_the_partial_text() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=NDJSON, content=fixture("error_midstream.ndjson"))

    with _client(handler) as client, pytest.raises(ServerError) as caught:
        with client.stream("ok?") as stream:
            list(stream)
    assert caught.value.partial is not None
    assert caught.value.partial.text == " Yes."


def test_client_model_not_found() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(404, content=fixture("error_response_404.json"))

    with _client(handler) as client, pytest.raises(InvalidRequestError, match="ollama pull"):
        client.chat("hi", model="llama9")

"""The Anthropic Messages adapter: request bodies, stream decoding, responses, errors, limits."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
from support import FIXTURES, chunkings, decode, decode_all_ways, fixture_bytes, same_content

import llmx
from llmx import (
    AuthenticationError,
    ContextLengthError,
    Finish,
    FinishReason,
    ImagePart,
    InvalidInputError,
    InvalidRequestError,
    JSONSchemaFormat,
    Message,
    RateLimitError,
    ReasoningEnd,
    ReasoningOptions,
    Request,
    ResponseStart,
    ServerError,
    StreamError,
    TextDelta,
    TextEnd,
    TextPart,
    TextStart,
    Tool,
    ToolCall,
    UnsupportedFeatureError,
    UsageEvent,
    accumulate,
)
from llmx.adapter import HttpResponse
from llmx.providers.anthropic import (
    AnthropicAdapter,
    AnthropicOptions,
    create_adapter,
    parse_rate_limit_headers,
)

ADAPTER = create_adapter()
MODEL = "claude-sonnet-4-5-20250929"
WEATHER = Tool(
    name="get_weather",
    description="Current weather for a city",
    parameters={
        "type": "object",
        "properties": {
            "location": {"type": "string"},
            "unit": {"type": "string", "enum": ["c", "f"]},
        },
        "required": ["location"],
    },
)
SIGNATURE = "ErUBCkYIBRgCIkBExampleSignature2222222222222222222222222222222222222222=="
REDACTED = "EmwKAhgBEgyExampleEncryptedRedactedThinkingPayload3333333333333333=="
STREAMS = sorted(
    p.name for p in (FIXTURES / "anthropic").glob("*.sse") if p.name != "error_stream.sse"
)


def request(*messages: Message, **fields: Any) -> Request:
    return Request(messages=list(messages) or [Message.user("Hi")], model=MODEL, **fields)


def assert_no_none(value: Any, path: str = "body") -> None:
    assert value is not None, f"{path} is None"
    if isinstance(value, dict):
        for key, item in value.items():
            assert_no_none(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            assert_no_none(item, f"{path}[{i}]")


def body(
    req: Request, *, stream: bool = False, adapter: AnthropicAdapter = ADAPTER
) -> dict[str, Any]:
    http = adapter.build_request(req, stream=stream)
    assert (http.method, http.path) == ("POST", "/v1/messages")
    assert http.body is not None
    assert_no_none(http.body)
    return http.body


def load(name: str) -> Any:
    return json.loads(fixture_bytes("anthropic", name))


def stream_of(name: str, req: Request | None = None) -> list[llmx.Event]:
    return decode_all_ways(ADAPTER, req or request(), fixture_bytes("anthropic", name))


def parse(name: str, req: Request | None = None, status: int = 200) -> llmx.Response:
    return ADAPTER.parse_response(
        HttpResponse(status, {}, fixture_bytes("anthropic", name)), req or request()
    )


def sse(*events: dict[str, Any]) -> bytes:
    return b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events)


START = {
    "type": "message_start",
    "message": {"id": "msg_1", "model": MODEL, "usage": {"input_tokens": 5, "output_tokens": 1}},
}
STOP = {"type": "message_stop"}


def text_events(text: str = "Hi") -> list[dict[str, Any]]:
    return [
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}},
        {"type": "content_block_stop", "index": 0},
    ]


# -- spec and client ---------------------------------------------------------------------------


def test_spec() -> None:
    spec = ADAPTER.spec
    assert spec.name == "anthropic"
    assert spec.default_base_url == "https://api.anthropic.com"
    assert (spec.api_key_env, spec.base_url_env) == ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL")
    assert (spec.auth_header, spec.auth_prefix, spec.framing) == ("x-api-key", "", "sse")
    assert dict(spec.default_headers) == {"anthropic-version": "2023-06-01"}
    assert isinstance(ADAPTER, llmx.adapter.Adapter)


def test_client_finds_the_adapter_and_sends_anthropic_headers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "https://proxy.example/anthropic")
    seen: list[httpx.Request] = []

    def handler(http_request: httpx.Request) -> httpx.Response:
        seen.append(http_request)
        if json.loads(http_request.content).get("stream"):
            stream = fixture_bytes("anthropic", "text_stream.sse")
            return httpx.Response(
                200, headers={"content-type": "text/event-stream"}, content=stream
            )
        return httpx.Response(
            200,
            headers={"request-id": "req_9"},
            content=fixture_bytes("anthropic", "text_response.json"),
        )

    http_client = httpx.Client(transport=httpx.MockTransport(handler))
    with llmx.Client(
        "anthropic", api_key="sk-ant-test", model=MODEL, http_client=http_client
    ) as client:
        response = client.chat("Hi")
        with client.stream("Hi") as stream:
            events = list(stream)
            streamed = stream.response()
    assert response.text == streamed.text == "Hello! How can I help you today?"
    assert response.request_id == "req_9" and response.provider == "anthropic"
    assert events[0] == ResponseStart("msg_01XyTextExample0000000001", MODEL, "anthropic", ())
    for sent in seen:
        assert str(sent.url) == "https://proxy.example/anthropic/v1/messages"
        assert sent.headers["x-api-key"] == "sk-ant-test"
        assert sent.headers["anthropic-version"] == "2023-06-01"
        assert "authorization" not in sent.headers
        assert json.loads(sent.content)["max_tokens"] == 4096


# -- stream decoding ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", STREAMS, ids=STREAMS)
def test_every_stream_decodes_the_same_in_every_chunking(name: str) -> None:
    events = stream_of(name)
    assert isinstance(events[0], ResponseStart) and isinstance(events[-1], Finish)
    assert sum(isinstance(e, ResponseStart) for e in events) == 1
    started = {
        e.index for e in events if e.type in ("text-start", "reasoning-start", "tool-call-start")
    }
    ended = {e.index for e in events if e.type in ("text-end", "reasoning-end", "tool-call-end")}
    assert started == ended


def test_text_stream_events() -> None:
    usage = llmx.Usage(
        prompt_tokens=12,
        completion_tokens=12,
        total_tokens=24,
        cached_tokens=0,
        cache_creation_tokens=0,
    )
    assert stream_of("text_stream.sse") == [
        ResponseStart("msg_01XyTextExample0000000001", MODEL, "anthropic", ()),
        TextStart(0),
        TextDelta(0, "Hello"),
        TextDelta(0, "! How can"),
        TextDelta(0, " I help you today?"),
        TextEnd(0),
        UsageEvent(usage),
        Finish(FinishReason.STOP, "end_turn", usage, None),
    ]


STREAM_RESULTS = [
    # fixture, text, reasoning, calls, finish, raw reason, (prompt, completion, cached, created)
    (
        "text_stream.sse",
        "Hello! How can I help you today?",
        None,
        [],
        "stop",
        "end_turn",
        (12, 12, 0, 0),
    ),
    (
        "tool_stream.sse",
        "I'll check the weather in both cities.",
        None,
        [
            ("get_weather", {"location": "Paris"}),
            ("get_weather", {"location": "Tokyo", "unit": "c"}),
        ],
        "tool_calls",
        "tool_use",
        (377, 96, 0, 0),
    ),
    (
        "thinking_stream.sse",
        "27 * 453 = 12,231",
        "The user wants 27 * 453.\n453 = 400 + 50 + 3, so 27*400=10800,"
        " 27*50=1350, 27*3=81; total 12231.",
        [],
        "stop",
        "end_turn",
        (69, 53, 0, 0),
    ),
    (
        "thinking_tool_stream.sse",
        "",
        "I need the current weather; call the tool.",
        [("get_weather", {"location": "Berlin"})],
        "tool_calls",
        "tool_use",
        (2558, 88, 2048, 0),
    ),
    (
        "tool_no_args_stream.sse",
        "Refreshing the list.",
        None,
        [("refresh_list", {})],
        "tool_calls",
        "tool_use",
        (565, 48, 0, 0),
    ),
    (
        "max_tokens_in_tool_stream.sse",
        "Writing the file now.",
        None,
        [("make_file", {})],
        "length",
        "max_tokens",
        (450, 124, 0, 0),
    ),
    ("refusal_stream.sse", "", None, [], "content_filter", "refusal", (20, 0, None, None)),
    (
        "message_stream.sse",
        "Let me look that up.",
        "Need weather; call tool.",
        [("get_weather", {"location": "Paris"})],
        "tool_calls",
        "tool_use",
        (1401, 65, 1024, 0),
    ),
]


@pytest.mark.parametrize(
    ("name", "text", "reasoning", "calls", "finish", "raw", "usage"),
    STREAM_RESULTS,
    ids=[case[0] for case in STREAM_RESULTS],
)
def test_stream_accumulates_to(
    name: str,
    text: str,
    reasoning: str | None,
    calls: list[Any],
    finish: str,
    raw: str,
    usage: tuple[Any, ...],
) -> None:
    response = accumulate(stream_of(name))
    assert (response.text, response.reasoning) == (text, reasoning)
    assert [(c.name, c.arguments) for c in response.tool_calls] == calls
    assert (response.finish_reason, response.raw_finish_reason) == (finish, raw)
    u = response.usage
    assert u is not None
    assert (u.prompt_tokens, u.completion_tokens, u.cached_tokens, u.cache_creation_tokens) == usage
    assert u.total_tokens == u.prompt_tokens + u.completion_tokens


def test_thinking_metadata_is_cumulative_and_keeps_signatures_and_redacted_blocks() -> None:
    ends = [e for e in stream_of("thinking_tool_stream.sse") if isinstance(e, ReasoningEnd)]
    first = {
        "thinking": "I need the current weather; call the tool.",
        "signature": SIGNATURE,
    }
    redacted = {"redacted_thinking": REDACTED}
    assert [e.provider_metadata for e in ends] == [
        {"anthropic": {"thinking": [first]}},
        {"anthropic": {"thinking": [first, redacted]}},
    ]
    assert accumulate(stream_of("thinking_tool_stream.sse")).message.provider_metadata == {
        "anthropic": {"thinking": [first, redacted]}
    }


def test_tool_call_cut_by_max_tokens_keeps_its_raw_arguments() -> None:
    (call,) = accumulate(stream_of("max_tokens_in_tool_stream.sse")).tool_calls
    assert call.raw_arguments == '{"filename": "notes.txt", "lines": ["# Title", "Fir'
    assert call.arguments == {}


def test_tool_call_without_arguments() -> None:
    events = stream_of("tool_no_args_stream.sse")
    assert not [e for e in events if e.type == "tool-call-delta"]
    (end,) = [e for e in events if e.type == "tool-call-end"]
    assert (end.id, end.name, end.arguments, end.raw_arguments) == (
        "toolu_01H4i5J6k7L8m9N0o1P2q3R4",
        "refresh_list",
        {},
        "{}",
    )


def test_refusal_keeps_stop_details() -> None:
    response = accumulate(stream_of("refusal_stream.sse"))
    assert response.provider_metadata == {
        "anthropic": {
            "stop_details": {
                "type": "refusal",
                "category": "cyber",
                "explanation": "This request was refused due to policy.",
            }
        }
    }


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("refusal", "content_filter"),
        ("pause_turn", "other"),
        ("something_new", "other"),
    ],
    ids=lambda v: str(v),
)
def test_stop_reasons(stop_reason: str, finish: str) -> None:
    delta = {
        "type": "message_delta",
        "delta": {
            "stop_reason": stop_reason,
            "stop_sequence": "END" if stop_reason == "stop_sequence" else None,
        },
        "usage": {"output_tokens": 3},
    }
    response = accumulate(
        decode_all_ways(ADAPTER, request(), sse(START, *text_events(), delta, STOP))
    )
    assert (response.finish_reason, response.raw_finish_reason) == (finish, stop_reason)
    expected = {"anthropic": {"stop_sequence": "END"}} if stop_reason == "stop_sequence" else None
    assert response.provider_metadata == expected


def test_stream_ignores_pings_unknown_events_unknown_deltas_and_repeated_message_start() -> None:
    noise = [
        {"type": "ping"},
        {"type": "message_start", "message": {"id": "msg_other", "model": "x"}},
        {"type": "some_future_event", "value": 1},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "citations_delta", "citation": {}},
        },
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "ok"}},
        {"type": "content_block_stop", "index": 0},
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {
                "type": "server_tool_use",
                "id": "srv",
                "name": "web_search",
                "input": {},
            },
        },
        {"type": "content_block_stop", "index": 1},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 2},
        },
    ]
    events = decode_all_ways(ADAPTER, request(), sse(START, *noise, STOP, {"type": "ping"}))
    assert events[0] == ResponseStart("msg_1", MODEL, "anthropic", ())
    assert [e.type.value for e in events] == [
        "response-start",
        "text-start",
        "text-delta",
        "text-end",
        "usage",
        "finish",
    ]


def test_stream_without_message_start_synthesizes_response_start() -> None:
    events = decode_all_ways(
        ADAPTER,
        request(),
        sse(*text_events(), {"type": "message_delta", "delta": {"stop_reason": "end_turn"}}, STOP),
    )
    assert events[0] == ResponseStart(None, None, "anthropic", ())
    assert accumulate(events).usage is None


def test_message_delta_usage_replaces_and_null_values_do_not_erase() -> None:
    start = {
        "type": "message_start",
        "message": {
            "id": "m",
            "usage": {
                "input_tokens": 10,
                "cache_creation_input_tokens": 7,
                "cache_read_input_tokens": 3,
                "output_tokens": 1,
            },
        },
    }
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn"},
        "usage": {
            "input_tokens": 12,
            "cache_read_input_tokens": None,
            "output_tokens": 30,
            "output_tokens_details": {"thinking_tokens": 20},
        },
    }
    usage = accumulate(decode_all_ways(ADAPTER, request(), sse(start, delta, STOP))).usage
    assert usage == llmx.Usage(
        prompt_tokens=22,
        completion_tokens=30,
        total_tokens=52,
        cached_tokens=3,
        cache_creation_tokens=7,
        reasoning_tokens=20,
    )


def test_error_event_mid_stream_raises_a_retryable_server_error_in_every_chunking() -> None:
    data = fixture_bytes("anthropic", "error_stream.sse")
    for name, chunks in chunkings(data):
        with pytest.raises(ServerError) as info:
            decode(ADAPTER, request(), chunks)
        error = info.value
        assert (error.status_code, error.error_type, error.provider) == (
            529,
            "overloaded_error",
            "anthropic",
        ), name
        assert error.is_retryable and "Overloaded" in str(error)


@pytest.mark.parametrize(
    ("error", "cls", "status"),
    [
        ({"type": "overloaded_error", "message": "Overloaded"}, ServerError, 529),
        ({"type": "api_error", "message": "Internal"}, ServerError, 500),
        ({"type": "rate_limit_error", "message": "slow down"}, RateLimitError, 429),
        (
            {
                "type": "invalid_request_error",
                "message": "prompt is too long: 300000 tokens > 200000 maximum",
            },
            ContextLengthError,
            400,
        ),
        ({"type": "mystery_error", "message": "?"}, ServerError, 500),
    ],
    ids=["overloaded", "api", "rate-limit", "context", "unknown"],
)
def test_error_event_types(error: dict[str, str], cls: type[Exception], status: int) -> None:
    with pytest.raises(cls) as info:
        decode(ADAPTER, request(), [sse(START, {"type": "error", "error": error})])
    assert getattr(info.value, "status_code", None) == status


def test_error_event_with_text_data_or_none() -> None:
    with pytest.raises(ServerError, match="upstream exploded"):
        decode(ADAPTER, request(), [b"event: error\ndata: upstream exploded\n\n"])
    with pytest.raises(ServerError, match="unknown error"):
        decode(ADAPTER, request(), [b"event: error\ndata:\n\n"])


def test_frames_without_data_are_keep_alives() -> None:
    data = sse(START, *text_events()) + b"event: ping\ndata:\n\n" + sse(STOP)
    assert accumulate(decode_all_ways(ADAPTER, request(), data)).text == "Hi"


@pytest.mark.parametrize(
    "data",
    [
        fixture_bytes("anthropic", "text_stream.sse").split(b"event: message_stop")[0],
        fixture_bytes("anthropic", "tool_stream.sse")[:900],
        sse(START),
        b"",
    ],
    ids=["before-message-stop", "inside-tool-call", "after-message-start", "empty"],
)
def test_stream_cut_short_raises_stream_error(data: bytes) -> None:
    for _name, chunks in chunkings(data):
        with pytest.raises(StreamError, match="message_stop"):
            decode(ADAPTER, request(), chunks)


@pytest.mark.parametrize(
    "data",
    [
        b"event: message_start\ndata: {not json\n\n",
        b"event: message_start\ndata: [1, 2]\n\n",
        sse(
            START,
            {
                "type": "content_block_delta",
                "index": 4,
                "delta": {"type": "input_json_delta", "partial_json": "{}"},
            },
        ),
    ],
    ids=["not-json", "not-object", "json-delta-without-block"],
)
def test_malformed_stream_raises_stream_error(data: bytes) -> None:
    with pytest.raises(StreamError):
        decode(ADAPTER, request(), [data])


# -- the stream-accumulation invariant ---------------------------------------------------------

JSON_REQUEST = request(
    response_format=JSONSchemaFormat(
        name="weather", schema={"type": "object", "properties": {"city": {"type": "string"}}}
    )
)
PAIRS = [
    ("text_stream.sse", "text_response.json", request()),
    ("message_stream.sse", "message_response.json", request()),
    ("thinking_tool_stream.sse", "thinking_tool_response.json", request()),
    ("json_tool_stream.sse", "json_tool_response.json", JSON_REQUEST),
    (
        "thinking_tool_stream.sse",
        "thinking_tool_response.json",
        request(reasoning=ReasoningOptions(budget_tokens=2000, include=False), seed=1),
    ),
]


@pytest.mark.parametrize(
    ("stream", "whole", "req"),
    PAIRS,
    ids=["text", "thinking-text-tool", "thinking-redacted-tool", "json-tool", "hidden-reasoning"],
)
def test_stream_accumulates_to_the_non_streaming_response(
    stream: str, whole: str, req: Request
) -> None:
    streamed = accumulate(stream_of(stream, req))
    parsed = parse(whole, req)
    same_content(streamed, parsed)
    assert (streamed.id, streamed.model, streamed.provider) == (
        parsed.id,
        parsed.model,
        "anthropic",
    )
    assert streamed.message == parsed.message
    assert streamed.provider_metadata == parsed.provider_metadata
    assert streamed.warnings == parsed.warnings == ADAPTER.warnings(req)
    assert parsed.raw == load(whole)


def test_json_tool_answer_becomes_text() -> None:
    response = parse("json_tool_response.json", JSON_REQUEST)
    assert json.loads(response.text) == {"city": "Paris", "temperature_c": 18, "summary": "bewölkt"}
    assert "bewölkt" in response.text
    assert (response.tool_calls, response.finish_reason, response.raw_finish_reason) == (
        [],
        "stop",
        "tool_use",
    )
    # without response_format a tool named "json" is an ordinary tool call
    assert [c.name for c in parse("json_tool_response.json").tool_calls] == ["json"]


def test_blocks_cut_short_by_max_tokens() -> None:
    """A JSON answer cut short keeps its raw text; a thinking block cut short has no signature,
    so it is not kept for the next turn (in the stream and in the non-streaming parse alike)."""
    thinking = {"type": "thinking", "thinking": "", "signature": ""}
    events = [
        {"type": "content_block_start", "index": 0, "content_block": thinking},
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "thinking_delta", "thinking": "Hm"},
        },
        {
            "type": "message_delta",
            "delta": {"stop_reason": "max_tokens"},
            "usage": {"output_tokens": 9},
        },
    ]
    response = accumulate(decode_all_ways(ADAPTER, request(), sse(START, *events, STOP)))
    assert (response.reasoning, response.message.provider_metadata) == ("Hm", None)
    whole = {"content": [{"type": "thinking", "thinking": "Hm"}], "stop_reason": "max_tokens"}
    parsed = ADAPTER.parse_response(HttpResponse(200, {}, json.dumps(whole).encode()), request())
    assert (parsed.reasoning, parsed.message.provider_metadata) == ("Hm", None)
    tool = {"type": "tool_use", "id": "t", "name": "json", "input": {}}
    partial = {"type": "input_json_delta", "partial_json": '{"city": "Pa'}
    events = [
        {"type": "content_block_start", "index": 0, "content_block": tool},
        {"type": "content_block_delta", "index": 0, "delta": partial},
        {"type": "message_delta", "delta": {"stop_reason": "max_tokens"}},
    ]
    response = accumulate(decode_all_ways(ADAPTER, JSON_REQUEST, sse(START, *events, STOP)))
    assert (response.text, response.tool_calls, response.finish_reason) == (
        '{"city": "Pa',
        [],
        "length",
    )


def test_hidden_reasoning_keeps_the_blocks_for_the_next_turn() -> None:
    req = request(reasoning=ReasoningOptions(effort="low", include=False))
    events = stream_of("thinking_stream.sse", req)
    assert not [e for e in events if e.type == "reasoning-delta"]
    response = accumulate(events)
    assert response.reasoning == ""
    assert response.message.provider_metadata is not None
    assert response.message.provider_metadata["anthropic"]["thinking"][0]["signature"].startswith(
        "EqQB"
    )


# -- request bodies ----------------------------------------------------------------------------


def test_request_example_body() -> None:
    """The shared request example, built from llmx types (image bytes made valid base64)."""
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    expected = load("request_example.json")
    expected["messages"][2]["content"][2]["source"]["data"] = base64.b64encode(png).decode()
    call = ToolCall(
        id="toolu_01Nonstream0000000000001", name="get_weather", arguments={"location": "Paris"}
    )
    assistant = Message(
        role="assistant",
        tool_calls=[call],
        reasoning="Need weather; call tool.",
        provider_metadata={
            "anthropic": {
                "thinking": [
                    {"thinking": "Need weather; call tool.", "signature": "ErUBCkYIExampleSig=="}
                ]
            }
        },
    )
    req = request(
        Message(
            role="system",
            content="You are a weather assistant.",
            provider_metadata={"anthropic": {"cache_control": {"type": "ephemeral"}}},
        ),
        Message.user("What's the weather in Paris?"),
        assistant,
        Message.tool(call.id, "18C, cloudy"),
        Message.user(
            [TextPart(text="And is that warm for May?"), ImagePart.from_bytes(png, "image/png")]
        ),
        tools=[WEATHER],
        tool_choice="auto",
        reasoning=ReasoningOptions(budget_tokens=8000),
        max_tokens=16000,
        stop=["\n\nHuman:"],
    )
    assert body(req, stream=True) == expected


def test_system_and_developer_messages_become_the_top_level_system() -> None:
    one = body(request(Message.system("Be brief."), Message.user("Hi")))
    assert one["system"] == "Be brief."
    assert one["messages"] == [{"role": "user", "content": "Hi"}]
    req = request(
        Message.system("Be brief."),
        Message.user("Hi"),
        Message(role="developer", content="Answer in French."),
    )
    assert body(req)["system"] == [
        {"type": "text", "text": "Be brief."},
        {"type": "text", "text": "Answer in French."},
    ]
    (warning,) = ADAPTER.warnings(req)
    assert warning.startswith("anthropic: system messages after the first turn were moved")
    assert (
        ADAPTER.warnings(request(Message.system("a"), Message.system("b"), Message.user("c"))) == []
    )
    with pytest.raises(UnsupportedFeatureError):
        body(
            request(
                Message(role="system", content=[ImagePart.from_url("https://x/y.png")]),
                Message.user("Hi"),
            )
        )


@pytest.mark.parametrize(
    ("part", "source"),
    [
        (
            ImagePart.from_url("https://example.com/cat.png"),
            {"type": "url", "url": "https://example.com/cat.png"},
        ),
        (
            ImagePart.from_bytes(b"GIF89a", "image/gif"),
            {"type": "base64", "media_type": "image/gif", "data": "R0lGODlh"},
        ),
        (
            ImagePart.from_url("data:image/webp;base64,UklGRg=="),
            {"type": "base64", "media_type": "image/webp", "data": "UklGRg=="},
        ),
    ],
    ids=["url", "bytes", "data-url"],
)
def test_images(part: ImagePart, source: dict[str, str]) -> None:
    sent = body(request(Message.user([TextPart(text="What is this?"), part])))
    assert sent["messages"][0]["content"] == [
        {"type": "text", "text": "What is this?"},
        {"type": "image", "source": source},
    ]


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("data:image/png,rawbytes", UnsupportedFeatureError),
        ("data:image/png;base64,@@@", InvalidInputError),
    ],
    ids=["not-base64-encoded", "invalid-base64"],
)
def test_bad_data_urls(url: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        body(request(Message.user([ImagePart.from_url(url)])))


def test_tools() -> None:
    strict = Tool(name="lookup", parameters={"type": "object", "properties": {}}, strict=True)
    sent = body(request(tools=[WEATHER, strict]))
    assert sent["tools"] == [
        {
            "name": "get_weather",
            "description": "Current weather for a city",
            "input_schema": WEATHER.parameters,
        },
        {"name": "lookup", "input_schema": {"type": "object", "properties": {}}, "strict": True},
    ]
    assert "tool_choice" not in sent


@pytest.mark.parametrize(
    ("choice", "parallel", "expected"),
    [
        (None, None, None),
        (None, True, None),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
        ("auto", None, {"type": "auto"}),
        ("required", None, {"type": "any"}),
        ("required", False, {"type": "any", "disable_parallel_tool_use": True}),
        ("none", False, {"type": "none"}),
        ("get_weather", None, {"type": "tool", "name": "get_weather"}),
        (
            "get_weather",
            False,
            {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True},
        ),
    ],
    ids=[
        "unset",
        "parallel",
        "no-parallel",
        "auto",
        "required",
        "required-serial",
        "none",
        "named",
        "named-serial",
    ],
)
def test_tool_choice(
    choice: str | None, parallel: bool | None, expected: dict[str, Any] | None
) -> None:
    sent = body(request(tools=[WEATHER], tool_choice=choice, parallel_tool_calls=parallel))
    assert sent.get("tool_choice") == expected


def test_tool_choice_is_not_sent_without_tools() -> None:
    assert "tool_choice" not in body(request(tool_choice="auto", parallel_tool_calls=False))


def test_tool_results_share_one_user_turn_before_the_next_user_text() -> None:
    calls = [
        ToolCall(id="t1", name="get_weather", arguments={"location": "Paris"}),
        ToolCall(id="t2", name="get_weather", arguments={"location": "Tokyo"}),
    ]
    sent = body(
        request(
            Message.user("Weather in Paris and Tokyo?"),
            Message.assistant("Checking.", tool_calls=calls),
            Message.tool("t1", {"temp_c": 18}),
            Message(
                role="tool",
                tool_call_id="t2",
                content=[TextPart(text="see chart"), ImagePart.from_url("https://x/c.png")],
            ),
            Message.user("Thanks!"),
            Message.user("Which is warmer?"),
            tools=[WEATHER],
        )
    )
    assert sent["messages"] == [
        {"role": "user", "content": "Weather in Paris and Tokyo?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking."},
                {
                    "type": "tool_use",
                    "id": "t1",
                    "name": "get_weather",
                    "input": {"location": "Paris"},
                },
                {
                    "type": "tool_use",
                    "id": "t2",
                    "name": "get_weather",
                    "input": {"location": "Tokyo"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": '{"temp_c": 18}'},
                {
                    "type": "tool_result",
                    "tool_use_id": "t2",
                    "content": [
                        {"type": "text", "text": "see chart"},
                        {"type": "image", "source": {"type": "url", "url": "https://x/c.png"}},
                    ],
                },
                {"type": "text", "text": "Thanks!"},
                {"type": "text", "text": "Which is warmer?"},
            ],
        },
    ]


def test_empty_tool_result_and_empty_assistant_message() -> None:
    call = ToolCall(id="t1", name="get_weather")
    sent = body(
        request(
            Message.user("Hi"),
            Message.assistant(""),
            Message.user("Hello?"),
            Message.assistant(tool_calls=[call]),
            Message.tool("t1", ""),
        )
    )
    assert sent["messages"] == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "Hi"}, {"type": "text", "text": "Hello?"}],
        },
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t1", "name": "get_weather", "input": {}}],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1"}]},
    ]


def test_reasoning_without_anthropic_metadata_is_not_sent() -> None:
    sent = body(
        request(
            Message.user("Hi"),
            Message.assistant("Hello", reasoning="from another provider"),
            Message.user("Bye"),
        )
    )
    assert sent["messages"][1] == {"role": "assistant", "content": "Hello"}


def test_cache_control_from_message_metadata() -> None:
    marked = {"anthropic": {"cache_control": {"type": "ephemeral", "ttl": "1h"}}}
    sent = body(
        request(
            Message(role="user", content="A long document ...", provider_metadata=marked),
            Message.user("Question?"),
        )
    )
    assert sent["messages"][0]["content"] == [
        {
            "type": "text",
            "text": "A long document ...",
            "cache_control": {"type": "ephemeral", "ttl": "1h"},
        },
        {"type": "text", "text": "Question?"},
    ]


@pytest.mark.parametrize(
    ("fields", "max_tokens", "thinking"),
    [
        ({}, 4096, None),
        ({"max_tokens": 100}, 100, None),
        ({"reasoning": ReasoningOptions(effort="minimal")}, 1024 + 4096, 1024),
        ({"reasoning": ReasoningOptions(effort="low")}, 2048 + 4096, 2048),
        ({"reasoning": ReasoningOptions(effort="medium")}, 8192 + 4096, 8192),
        ({"reasoning": ReasoningOptions(effort="high"), "max_tokens": 32000}, 32000, 16384),
        ({"reasoning": ReasoningOptions(effort="default")}, 8192 + 4096, 8192),
        ({"reasoning": ReasoningOptions(effort="none")}, 4096, None),
        ({"reasoning": ReasoningOptions(budget_tokens=3000, effort="low")}, 7096, 3000),
        ({"reasoning": ReasoningOptions(budget_tokens=0, effort="high")}, 4096, None),
        ({"reasoning": ReasoningOptions(budget_tokens=500)}, 1024 + 4096, 1024),
        ({"reasoning": ReasoningOptions(include=True)}, 4096, None),
    ],
    ids=[
        "default",
        "explicit",
        "minimal",
        "low",
        "medium",
        "high",
        "effort-default",
        "none",
        "budget",
        "budget-0",
        "budget-min",
        "include-only",
    ],
)
def test_max_tokens_and_thinking(
    fields: dict[str, Any], max_tokens: int, thinking: int | None
) -> None:
    sent = body(request(**fields))
    assert sent["max_tokens"] == max_tokens
    assert sent.get("thinking") == (
        {"type": "enabled", "budget_tokens": thinking} if thinking else None
    )


def test_default_max_tokens_is_configurable_and_budget_must_fit() -> None:
    assert body(request(), adapter=AnthropicAdapter(default_max_tokens=1000))["max_tokens"] == 1000
    with pytest.raises(InvalidInputError, match="larger than the thinking budget"):
        body(request(reasoning=ReasoningOptions(budget_tokens=4000), max_tokens=4000))
    assert (
        "below Anthropic's minimum"
        in ADAPTER.warnings(request(reasoning=ReasoningOptions(budget_tokens=500)))[0]
    )


def test_sampling_settings() -> None:
    sent = body(
        request(
            temperature=0.3,
            top_p=0.9,
            stop="END",
            user="user-42",
            provider_options={"anthropic": {"top_k": 40}},
        )
    )
    assert (sent["temperature"], sent["top_p"], sent["top_k"], sent["stop_sequences"]) == (
        0.3,
        0.9,
        40,
        ["END"],
    )
    assert sent["metadata"] == {"user_id": "user-42"}
    assert "stream" not in sent and body(request(), stream=True)["stream"] is True
    hot = request(temperature=1.5)
    assert body(hot)["temperature"] == 1.0
    assert ADAPTER.warnings(hot) == [
        "anthropic: temperature 1.5 is above Anthropic's maximum of 1 and was sent as 1"
    ]


def test_unsupported_settings_are_warned_about_and_not_sent() -> None:
    req = request(seed=7, frequency_penalty=0.5, presence_penalty=0.1)
    sent = body(req)
    assert not {"seed", "frequency_penalty", "presence_penalty"} & set(sent)
    expected = [
        f"anthropic: {name} is not supported by the Messages API and was not sent"
        for name in ("seed", "frequency_penalty", "presence_penalty")
    ]
    assert ADAPTER.warnings(req) == expected
    assert stream_of("text_stream.sse", req)[0].warnings == tuple(expected)  # type: ignore[union-attr]
    assert parse("text_response.json", req).warnings == expected
    assert ADAPTER.warnings(request()) == []


SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


@pytest.mark.parametrize(
    ("fields", "tools", "choice"),
    [
        (
            {
                "response_format": JSONSchemaFormat(
                    name="weather", schema=SCHEMA, description="The weather."
                )
            },
            [{"name": "json", "description": "The weather.", "input_schema": SCHEMA}],
            {"type": "tool", "name": "json"},
        ),
        (
            {"response_format": "json_object"},
            [
                {
                    "name": "json",
                    "description": "Give the final answer as a JSON object.",
                    "input_schema": {"type": "object", "additionalProperties": True},
                }
            ],
            {"type": "tool", "name": "json"},
        ),
        (
            {
                "response_format": JSONSchemaFormat(name="weather", schema=SCHEMA),
                "tools": [WEATHER],
                "parallel_tool_calls": False,
            },
            [
                {
                    "name": "get_weather",
                    "description": "Current weather for a city",
                    "input_schema": WEATHER.parameters,
                },
                {
                    "name": "json",
                    "description": "Give the final answer as 'weather' JSON.",
                    "input_schema": SCHEMA,
                },
            ],
            {"type": "any", "disable_parallel_tool_use": True},
        ),
        (
            {"response_format": "json_object", "tools": [WEATHER], "tool_choice": "get_weather"},
            [
                {
                    "name": "get_weather",
                    "description": "Current weather for a city",
                    "input_schema": WEATHER.parameters,
                },
                {
                    "name": "json",
                    "description": "Give the final answer as a JSON object.",
                    "input_schema": {"type": "object", "additionalProperties": True},
                },
            ],
            {"type": "tool", "name": "get_weather"},
        ),
    ],
    ids=["json-schema", "json-object", "with-tools", "with-named-tool"],
)
def test_response_format_is_emulated_with_a_forced_tool(
    fields: dict[str, Any], tools: list[Any], choice: dict[str, Any]
) -> None:
    sent = body(request(**fields))
    assert (sent["tools"], sent["tool_choice"]) == (tools, choice)
    assert "output_config" not in sent


def test_response_format_text_changes_nothing() -> None:
    assert body(request(response_format="text")) == body(request())


@pytest.mark.parametrize(
    "fields",
    [
        {"response_format": "json_object", "reasoning": ReasoningOptions(effort="low")},
        {
            "response_format": "json_object",
            "provider_options": {"anthropic": {"thinking": {"type": "adaptive"}}},
        },
        {"response_format": "json_object", "tools": [Tool(name="json")]},
        {"response_format": "json_object", "tools": [WEATHER], "tool_choice": "none"},
        {"response_format": JSONSchemaFormat(name="list", schema={"type": "array"})},
        {
            "response_format": "json_object",
            "provider_options": {"anthropic": {"json_mode": "native"}},
        },
    ],
    ids=[
        "with-thinking",
        "with-adaptive-thinking",
        "name-taken",
        "tool-choice-none",
        "not-an-object",
        "native-json-object",
    ],
)
def test_response_format_that_cannot_be_sent(fields: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedFeatureError):
        body(request(**fields))


def test_native_json_mode_sends_output_config() -> None:
    req = request(
        response_format=JSONSchemaFormat(name="weather", schema=SCHEMA),
        reasoning=ReasoningOptions(effort="low"),
        provider_options={"anthropic": {"json_mode": "native"}},
    )
    sent = body(req)
    assert sent["output_config"] == {"format": {"type": "json_schema", "schema": SCHEMA}}
    assert "tools" not in sent and sent["thinking"]["type"] == "enabled"
    assert accumulate(stream_of("text_stream.sse", req)).text == "Hello! How can I help you today?"


def test_provider_options() -> None:
    options = {
        "top_k": 5,
        "metadata": {"user_id": "u-options"},
        "service_tier": "standard_only",
        "beta": ["interleaved-thinking-2025-05-14", "x-2"],
        "thinking": {"type": "adaptive"},
        "extra_body": {"container": "c1", "top_k": 6},
    }
    req = request(
        user="u-request",
        reasoning=ReasoningOptions(effort="high"),
        provider_options={"anthropic": options, "groq": {"ignored": True}},
    )
    http = ADAPTER.build_request(req, stream=False)
    assert http.headers == {"anthropic-beta": "interleaved-thinking-2025-05-14,x-2"}
    assert http.body is not None
    assert (http.body["top_k"], http.body["metadata"], http.body["service_tier"]) == (
        6,
        {"user_id": "u-options"},
        "standard_only",
    )
    assert (http.body["thinking"], http.body["container"], http.body["max_tokens"]) == (
        {"type": "adaptive"},
        "c1",
        4096,
    )
    assert ADAPTER.build_request(request(), stream=False).headers == {}
    assert AnthropicOptions().json_mode == "tool"


@pytest.mark.parametrize(
    "options",
    [{"topk": 1}, {"top_k": -1}, {"json_mode": "prompt"}],
    ids=["unknown", "negative", "bad-mode"],
)
def test_invalid_provider_options(options: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError, match="provider_options"):
        body(request(provider_options={"anthropic": options}))


# -- a conversation round trip -----------------------------------------------------------------


@pytest.mark.parametrize("streamed", [True, False], ids=["streamed", "not-streamed"])
def test_thinking_and_tool_calls_round_trip_into_the_next_request(streamed: bool) -> None:
    first = request(
        Message.user("Weather in Berlin?"),
        tools=[WEATHER],
        reasoning=ReasoningOptions(budget_tokens=2000),
    )
    response = (
        accumulate(stream_of("thinking_tool_stream.sse", first))
        if streamed
        else parse("thinking_tool_response.json", first)
    )
    (call,) = response.tool_calls
    follow_up = first.model_copy(
        update={
            "messages": [
                *first.messages,
                response.message,
                Message.tool(call.id, "-2C, snow"),
                Message.user("Coat needed?"),
            ]
        }
    )
    sent = body(follow_up)
    assert sent["messages"] == [
        {"role": "user", "content": "Weather in Berlin?"},
        {
            "role": "assistant",
            "content": [
                {
                    "type": "thinking",
                    "thinking": "I need the current weather; call the tool.",
                    "signature": SIGNATURE,
                },
                {
                    "type": "redacted_thinking",
                    "data": REDACTED,
                },
                {
                    "type": "tool_use",
                    "id": "toolu_01W3x4Y5z6A7b8C9d0E1f2G3",
                    "name": "get_weather",
                    "input": {"location": "Berlin"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_01W3x4Y5z6A7b8C9d0E1f2G3",
                    "content": "-2C, snow",
                },
                {"type": "text", "text": "Coat needed?"},
            ],
        },
    ]
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 2000}


def test_text_thinking_and_tool_call_round_trip_in_order() -> None:
    response = accumulate(stream_of("message_stream.sse"))
    sent = body(
        request(
            Message.user("Paris?"),
            response.message,
            Message.tool("toolu_01Nonstream0000000000001", "18C"),
        )
    )
    assert [block["type"] for block in sent["messages"][1]["content"]] == [
        "thinking",
        "text",
        "tool_use",
    ]
    assert sent["messages"][1]["content"][1] == {"type": "text", "text": "Let me look that up."}


# -- errors, rate limits, models ---------------------------------------------------------------


def headers_of(name: str) -> dict[str, str]:
    lines = fixture_bytes("anthropic", name).decode().splitlines()[1:]
    return {
        k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)
    }


@pytest.mark.parametrize(
    ("status", "name", "headers", "cls", "retryable", "retry_after", "request_id"),
    [
        (
            429,
            "error_response_429.json",
            headers_of("rate_limit_headers.txt"),
            RateLimitError,
            True,
            17.0,
            "req_011CExampleRequestId000001",
        ),
        (
            529,
            "error_response_529.json",
            {},
            ServerError,
            True,
            None,
            "req_011CExampleRequestId000002",
        ),
        (
            401,
            "error_response_401.json",
            {"request-id": "req_header"},
            AuthenticationError,
            False,
            None,
            "req_header",
        ),
        (
            400,
            "error_response_400_context.json",
            {},
            ContextLengthError,
            False,
            None,
            "req_011CExampleRequestId000003",
        ),
    ],
    ids=["429", "529", "401", "400-context"],
)
def test_http_errors(
    status: int,
    name: str,
    headers: dict[str, str],
    cls: type[Exception],
    retryable: bool,
    retry_after: float | None,
    request_id: str,
) -> None:
    error = ADAPTER.parse_error(HttpResponse(status, headers, fixture_bytes("anthropic", name)))
    assert type(error) is cls
    assert (error.status_code, error.is_retryable, error.retry_after, error.request_id) == (
        status,
        retryable,
        retry_after,
        request_id,
    )
    assert error.error_type == load(name)["error"]["type"] and error.provider == "anthropic"
    assert load(name)["error"]["message"] in str(error)


@pytest.mark.parametrize(
    ("status", "payload", "cls"),
    [
        (
            403,
            {"type": "error", "error": {"type": "permission_error", "message": "no"}},
            AuthenticationError,
        ),
        (
            400,
            {
                "type": "error",
                "error": {"type": "invalid_request_error", "message": "messages: field required"},
            },
            InvalidRequestError,
        ),
        (
            400,
            {
                "type": "error",
                "error": {
                    "type": "invalid_request_error",
                    "message": "input length and `max_tokens` exceed context limit: "
                    "197000 + 8192 > 200000",
                },
            },
            ContextLengthError,
        ),
        (
            404,
            {"type": "error", "error": {"type": "not_found_error", "message": "model: nope"}},
            InvalidRequestError,
        ),
        (500, "<html>bad gateway</html>", ServerError),
    ],
    ids=["403", "400", "400-context-limit", "404", "500-html"],
)
def test_more_http_errors(status: int, payload: Any, cls: type[Exception]) -> None:
    raw = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
    assert type(ADAPTER.parse_error(HttpResponse(status, {}, raw))) is cls


def test_error_body_with_status_200_raises() -> None:
    with pytest.raises(ServerError):
        ADAPTER.parse_response(
            HttpResponse(200, {}, fixture_bytes("anthropic", "error_response_529.json")), request()
        )


def test_rate_limit_headers() -> None:
    now = datetime(2025, 2, 24, 22, 25, 20, tzinfo=timezone.utc).timestamp()
    limits = parse_rate_limit_headers(headers_of("rate_limit_headers.txt"), now=now)
    assert limits == llmx.RateLimit(
        limit_requests=1000,
        remaining_requests=999,
        reset_requests=10.0,
        limit_tokens=96000,
        remaining_tokens=12000,
        reset_tokens=27.0,
        retry_after=17.0,
    )


def test_rate_limit_headers_variants() -> None:
    now = datetime(2025, 1, 1, tzinfo=timezone.utc).timestamp()
    only_input = {
        "anthropic-ratelimit-input-tokens-limit": "80000",
        "anthropic-ratelimit-input-tokens-remaining": "79000",
        "anthropic-ratelimit-input-tokens-reset": "2025-01-01T00:00:01.5+00:00",
    }
    assert parse_rate_limit_headers(only_input, now=now) == llmx.RateLimit(
        limit_tokens=80000, remaining_tokens=79000, reset_tokens=1.5
    )
    past = {
        "anthropic-ratelimit-requests-limit": "50",
        "anthropic-ratelimit-requests-reset": "2024-12-31T23:59:00.123456789Z",
    }
    assert parse_rate_limit_headers(past, now=now) == llmx.RateLimit(
        limit_requests=50, reset_requests=0.0
    )
    odd = {"anthropic-ratelimit-requests-limit": "x", "anthropic-ratelimit-requests-reset": "30s"}
    assert parse_rate_limit_headers(odd, now=now) == llmx.RateLimit(reset_requests=30.0)
    assert parse_rate_limit_headers({"retry-after": "3"}) == llmx.RateLimit(retry_after=3.0)
    assert parse_rate_limit_headers({}) is None
    assert ADAPTER.rate_limit({"x-ratelimit-limit-requests": "5"}) is None
    live = ADAPTER.rate_limit(headers_of("rate_limit_headers.txt"))
    assert (
        live is not None and live.limit_tokens == 96000 and live.reset_tokens == 0.0
    )  # that reset is long past


def test_models() -> None:
    http = ADAPTER.models_request()
    assert (http.method, http.path, dict(http.params)) == ("GET", "/v1/models", {"limit": "1000"})
    models = ADAPTER.parse_models(
        HttpResponse(200, {}, fixture_bytes("anthropic", "models_response.json"))
    )
    assert [(m.id, m.provider, m.owned_by, m.created) for m in models] == [
        ("claude-sonnet-4-5-20250929", "anthropic", "anthropic", 1759104000),
        ("claude-3-5-haiku-20241022", "anthropic", "anthropic", 1729555200),
    ]
    assert models[0].raw is not None and models[0].raw["display_name"] == "Claude Sonnet 4.5"
    extra = {
        "data": [
            {"id": "m", "created_at": "garbage", "max_input_tokens": 200000, "max_tokens": 64000},
            {"no": "id"},
        ]
    }
    (model,) = ADAPTER.parse_models(HttpResponse(200, {}, json.dumps(extra).encode()))
    assert (model.created, model.context_window, model.max_output_tokens) == (None, 200000, 64000)

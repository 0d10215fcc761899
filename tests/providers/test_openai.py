"""The OpenAI provider: request bodies, stream decoding, refusals, errors and rate limits."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from support import decode_all_ways, fixture_bytes, same_content

import llmx
from llmx import (
    Event,
    EventType,
    FinishReason,
    Message,
    ReasoningOptions,
    Request,
    Tool,
    ToolCall,
    accumulate,
)
from llmx._sse import SSEDecoder
from llmx.adapter import HttpResponse
from llmx.providers.openai import OpenAIAdapter, create_adapter

REQUEST = Request(model="gpt-4.1", messages=[Message.user("hi")])


def adapter() -> OpenAIAdapter:
    return create_adapter()


def body_of(request: Request, *, stream: bool = False) -> dict[str, Any]:
    body = adapter().build_request(request, stream=stream).body
    assert body is not None
    return body


def fixture_json(name: str) -> Any:
    return json.loads(fixture_bytes("openai", name))


def headers_blocks() -> list[dict[str, str]]:
    """The header blocks of rate_limit_headers.txt, lower-cased, one per HTTP status line."""
    blocks: list[dict[str, str]] = []
    for line in fixture_bytes("openai", "rate_limit_headers.txt").decode().splitlines():
        if line.startswith("HTTP/"):
            blocks.append({})
        elif ": " in line and not line.startswith("#") and blocks:
            name, value = line.split(": ", 1)
            blocks[-1][name.lower()] = value.strip()
    return blocks


def decode_until_error(data: bytes) -> tuple[list[Event], Exception]:
    """Feed a transcript whole; return the events delivered before the decoder raised."""
    decoder = adapter().stream_decoder(REQUEST)
    events: list[Event] = []
    try:
        for frame in SSEDecoder().feed(data):
            events += decoder.feed(frame)
        events += decoder.close()
    except llmx.LLMXError as exc:
        return events, exc
    raise AssertionError("the transcript decoded without an error")


# -- provider spec and registration -----------------------------------------------------------


def test_spec_names_endpoint_and_environment() -> None:
    spec = adapter().spec
    assert (spec.name, spec.default_base_url) == ("openai", "https://api.openai.com/v1")
    assert (spec.api_key_env, spec.base_url_env) == ("OPENAI_API_KEY", "OPENAI_BASE_URL")
    assert spec.key_required and spec.framing == "sse"


def test_client_resolves_openai_through_the_registry() -> None:
    client = llmx.Client("openai", model="gpt-4.1", api_key="k")
    assert "base_url='https://api.openai.com/v1'" in repr(client)
    assert isinstance(client._core.adapter, OpenAIAdapter)


def test_missing_key_names_openai_api_key() -> None:
    with pytest.raises(llmx.MissingAPIKeyError) as info:
        llmx.Client("openai", model="gpt-4.1")
    assert info.value.env_var == "OPENAI_API_KEY"
    assert "OPENAI_API_KEY" in str(info.value)


def test_base_url_env_moves_the_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "https://gateway.example/v1")
    client = llmx.Client("openai", model="gpt-4.1", api_key="k")
    assert "base_url='https://gateway.example/v1'" in repr(client)


def test_organization_and_project_headers_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_ORG_ID", "org-1")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-1")
    headers = dict(create_adapter().spec.default_headers)
    assert headers == {"openai-organization": "org-1", "openai-project": "proj-1"}
    monkeypatch.delenv("OPENAI_ORG_ID")
    monkeypatch.delenv("OPENAI_PROJECT_ID")
    assert dict(create_adapter().spec.default_headers) == {}


# -- request bodies ---------------------------------------------------------------------------


def test_body_matches_the_request_example() -> None:
    call = ToolCall.from_raw("call_ExampleAAAAAAAAAAAAAAAA1", "get_weather", '{"city": "Paris"}')
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    }
    request = Request(
        model="gpt-4.1",
        messages=[
            Message(role="developer", content="You are terse."),
            Message.user("Weather in Paris?"),
            Message.assistant(tool_calls=[call]),
            Message.tool(call.id, "18C"),
        ],
        tools=[
            Tool(name="get_weather", description="Current weather", parameters=schema, strict=True)
        ],
        tool_choice="auto",
        parallel_tool_calls=True,
        max_tokens=1024,
        reasoning=ReasoningOptions(effort="low"),
    )
    assert body_of(request, stream=True) == fixture_json("request_example.json")


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "whole"])
def test_max_tokens_is_sent_as_max_completion_tokens(stream: bool) -> None:
    body = body_of(REQUEST.model_copy(update={"max_tokens": 50}), stream=stream)
    assert body["max_completion_tokens"] == 50
    assert "max_tokens" not in body


def test_include_usage_only_on_streams() -> None:
    assert body_of(REQUEST, stream=True)["stream_options"] == {"include_usage": True}
    whole = body_of(REQUEST)
    assert "stream_options" not in whole and "stream" not in whole


@pytest.mark.parametrize(
    ("role", "sent"),
    [("system", "system"), ("developer", "developer")],
    ids=["system-kept", "developer-kept"],
)
def test_system_and_developer_roles_are_sent_as_given(role: str, sent: str) -> None:
    request = REQUEST.model_copy(update={"messages": [Message(role=role, content="be brief")]})  # type: ignore[arg-type]
    assert body_of(request)["messages"][0]["role"] == sent


@pytest.mark.parametrize(
    ("effort", "sent"),
    [("low", "low"), ("none", "none"), ("minimal", "minimal"), ("default", None)],
    ids=["low", "none", "minimal", "default-not-sent"],
)
def test_reasoning_effort(effort: str, sent: str | None) -> None:
    request = REQUEST.model_copy(update={"reasoning": ReasoningOptions(effort=effort)})  # type: ignore[arg-type]
    assert body_of(request).get("reasoning_effort") == sent
    assert adapter().warnings(request) == []


@pytest.mark.parametrize(
    ("reasoning", "fragment"),
    [
        (ReasoningOptions(budget_tokens=1000), "budget_tokens is not supported"),
        (ReasoningOptions(include=True), "does not return reasoning text"),
    ],
    ids=["budget", "include"],
)
def test_reasoning_settings_openai_cannot_express_warn(
    reasoning: ReasoningOptions, fragment: str
) -> None:
    request = REQUEST.model_copy(update={"reasoning": reasoning})
    warnings = adapter().warnings(request)
    assert len(warnings) == 1 and fragment in warnings[0]
    events = decode_all_ways(adapter(), request, fixture_bytes("openai", "usage_stream.sse"))
    assert accumulate(events).warnings == warnings


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"service_tier": "flex"}, {"service_tier": "flex"}),
        ({"store": True, "metadata": {"team": "a"}}, {"store": True, "metadata": {"team": "a"}}),
        ({"logprobs": True, "top_logprobs": 3}, {"logprobs": True, "top_logprobs": 3}),
        ({"logit_bias": {50256: -100, "13": 5}}, {"logit_bias": {"50256": -100, "13": 5}}),
        (
            {"prediction": {"type": "content", "content": "x = 1"}},
            {"prediction": {"type": "content", "content": "x = 1"}},
        ),
        ({"reasoning_effort": "xhigh"}, {"reasoning_effort": "xhigh"}),
        (
            {"verbosity": "low", "prompt_cache_key": "k"},
            {"verbosity": "low", "prompt_cache_key": "k"},
        ),
        (
            {"extra_body": {"temperature": 0.5, "new_field": 1}},
            {"temperature": 0.5, "new_field": 1},
        ),
    ],
    ids=[
        "service_tier",
        "store-metadata",
        "logprobs",
        "logit_bias",
        "prediction",
        "xhigh",
        "verbosity",
        "extra_body",
    ],
)
def test_provider_options_are_sent(options: dict[str, Any], expected: dict[str, Any]) -> None:
    request = REQUEST.model_copy(
        update={"provider_options": {"openai": options}, "temperature": 1.0}
    )
    body = body_of(request)
    assert {key: body[key] for key in expected} == expected


@pytest.mark.parametrize(
    "options",
    [
        {"servce_tier": "flex"},
        {"service_tier": "premium"},
        {"top_logprobs": 3},
        {"top_logprobs": 21, "logprobs": True},
        {"logit_bias": {"1": 101}},
        {"metadata": {str(i): "v" for i in range(17)}},
        {"metadata": {"k": "v" * 513}},
    ],
    ids=[
        "typo",
        "bad-tier",
        "top-without-logprobs",
        "top-too-many",
        "bias-range",
        "metadata-count",
        "metadata-long",
    ],
)
def test_invalid_provider_options_fail_before_sending(options: dict[str, Any]) -> None:
    request = REQUEST.model_copy(update={"provider_options": {"openai": options}})
    with pytest.raises(llmx.InvalidInputError, match=r"provider_options\['openai'\]"):
        body_of(request)


def test_options_of_other_providers_are_not_sent() -> None:
    request = REQUEST.model_copy(update={"provider_options": {"groq": {"reasoning_format": "raw"}}})
    assert "reasoning_format" not in body_of(request)


# -- stream decoding ----------------------------------------------------------------------------

STREAMS = {
    "tool_stream.sse": {
        "text": "",
        "reason": FinishReason.TOOL_CALLS,
        "raw": "tool_calls",
        "usage": (149, 60, 209),
        "calls": [
            ("call_ExampleAAAAAAAAAAAAAAAA1", "get_weather", {"city": "Edinburgh", "units": "c"}),
            ("call_ExampleBBBBBBBBBBBBBBBB2", "get_stock_price", {"ticker": "AAPL"}),
        ],
    },
    "usage_stream.sse": {
        "text": "The capital of France is Paris.",
        "reason": FinishReason.STOP,
        "raw": "stop",
        "usage": (1234, 8, 1242),
        "calls": [],
    },
    "refusal_stream.sse": {
        "text": "",
        "reason": FinishReason.CONTENT_FILTER,
        "raw": "stop",
        "usage": (79, 11, 90),
        "calls": [],
    },
    "reasoning_length_stream.sse": {
        "text": "42",
        "reason": FinishReason.LENGTH,
        "raw": "length",
        "usage": (30, 256, 286),
        "calls": [],
    },
}


@pytest.mark.parametrize("name", list(STREAMS), ids=list(STREAMS))
def test_stream_fixture_decodes(name: str) -> None:
    expected = STREAMS[name]
    events = decode_all_ways(adapter(), REQUEST, fixture_bytes("openai", name))
    assert events[0].type is EventType.RESPONSE_START
    assert events[-1].type is EventType.FINISH
    response = accumulate(events)
    assert response.provider == "openai" and response.id and response.id.startswith("chatcmpl-")
    assert response.text == expected["text"]
    assert response.finish_reason is expected["reason"]
    assert response.raw_finish_reason == expected["raw"]
    assert response.usage is not None
    usage = response.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == expected["usage"]
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == expected["calls"]
    assert response.reasoning is None  # Chat Completions never streams OpenAI reasoning text


@pytest.mark.parametrize("name", list(STREAMS), ids=list(STREAMS))
def test_trailing_usage_chunk_is_counted_once(name: str) -> None:
    events = decode_all_ways(adapter(), REQUEST, fixture_bytes("openai", name))
    usage_events = [e for e in events if e.type is EventType.USAGE]
    assert len(usage_events) == 1
    assert events[-2] is usage_events[0]  # just before finish, although it came after it
    finish = events[-1]
    assert finish.type is EventType.FINISH and finish.usage == usage_events[0].usage  # type: ignore[union-attr]


def test_usage_details_cached_and_reasoning_tokens() -> None:
    events = decode_all_ways(adapter(), REQUEST, fixture_bytes("openai", "usage_stream.sse"))
    usage = accumulate(events).usage
    assert usage is not None and (usage.cached_tokens, usage.reasoning_tokens) == (1024, 0)
    events = decode_all_ways(
        adapter(), REQUEST, fixture_bytes("openai", "reasoning_length_stream.sse")
    )
    usage = accumulate(events).usage
    assert usage is not None and (usage.cached_tokens, usage.reasoning_tokens) == (0, 192)


def test_usage_chunk_without_usage_key_on_ordinary_chunks() -> None:
    # the 2024 recording omits "usage": null on ordinary chunks; the 2025 one sends it
    data = fixture_bytes("openai", "tool_stream.sse")
    assert b'"usage":null' not in data
    assert accumulate(decode_all_ways(adapter(), REQUEST, data)).usage is not None


def test_cache_write_tokens_are_read() -> None:
    body = fixture_json("usage_response.json")
    body["usage"]["prompt_tokens_details"]["cache_write_tokens"] = 200
    usage = (
        adapter().parse_response(HttpResponse(200, {}, json.dumps(body).encode()), REQUEST).usage
    )
    assert usage is not None and usage.cache_creation_tokens == 200


def test_refusal_is_metadata_and_content_filter() -> None:
    events = decode_all_ways(adapter(), REQUEST, fixture_bytes("openai", "refusal_stream.sse"))
    assert not [e for e in events if e.type is EventType.TEXT_DELTA]
    finish = events[-1]
    assert finish.type is EventType.FINISH
    assert finish.reason is FinishReason.CONTENT_FILTER and finish.raw_reason == "stop"  # type: ignore[union-attr]
    response = accumulate(events)
    assert response.provider_metadata == {
        "openai": {
            "refusal": "I'm sorry, I can't help with that.",
            "system_fingerprint": "fp_5050236cbd",
        }
    }
    assert response.text == ""


def test_stream_metadata_keeps_service_tier_and_fingerprint() -> None:
    events = decode_all_ways(adapter(), REQUEST, fixture_bytes("openai", "usage_stream.sse"))
    assert accumulate(events).provider_metadata == {
        "openai": {"service_tier": "default", "system_fingerprint": "fp_0000example1"}
    }


def test_logprobs_are_collected_from_chunks() -> None:
    chunks = [
        {
            "id": "c",
            "choices": [
                {
                    "index": 0,
                    "delta": {"content": "Hi"},
                    "logprobs": {"content": [{"token": "Hi", "logprob": -0.1}]},
                }
            ],
        },
        {
            "id": "c",
            "choices": [
                {
                    "index": 0,
                    "delta": {"content": "!"},
                    "logprobs": {"content": [{"token": "!", "logprob": -0.2}]},
                    "finish_reason": "stop",
                }
            ],
        },
    ]
    data = (
        b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"
    )
    response = accumulate(decode_all_ways(adapter(), REQUEST, data))
    assert response.text == "Hi!"
    assert response.provider_metadata == {
        "openai": {"logprobs": [{"token": "Hi", "logprob": -0.1}, {"token": "!", "logprob": -0.2}]}
    }


# -- the stream-accumulation invariant ----------------------------------------------------------

PAIRS = [
    ("tool_stream.sse", "tool_response.json"),
    ("usage_stream.sse", "usage_response.json"),
    ("refusal_stream.sse", "refusal_response.json"),
    ("reasoning_length_stream.sse", "reasoning_length_response.json"),
]


@pytest.mark.parametrize(("stream", "whole"), PAIRS, ids=[p[0].split("_stream")[0] for p in PAIRS])
def test_streamed_and_whole_responses_agree(stream: str, whole: str) -> None:
    streamed = accumulate(decode_all_ways(adapter(), REQUEST, fixture_bytes("openai", stream)))
    response = adapter().parse_response(
        HttpResponse(200, {}, fixture_bytes("openai", whole)), REQUEST
    )
    same_content(streamed, response)
    assert streamed.provider_metadata == response.provider_metadata
    assert (streamed.id, streamed.model) == (response.id, response.model)


# -- errors ---------------------------------------------------------------------------------------


def error_of(status: int, name: str, headers: dict[str, str] | None = None) -> llmx.ProviderError:
    return adapter().parse_error(HttpResponse(status, headers or {}, fixture_bytes("openai", name)))


def test_context_length_exceeded_is_a_context_length_error() -> None:
    error = error_of(400, "error_response_400.json", {"x-request-id": "req_1"})
    assert isinstance(error, llmx.ContextLengthError)
    assert (error.code, error.error_type, error.request_id) == (
        "context_length_exceeded",
        "invalid_request_error",
        "req_1",
    )
    assert error.body["error"]["param"] == "messages"
    assert not error.is_retryable


@pytest.mark.parametrize(
    ("headers", "retry_after"),
    [
        ({"retry-after-ms": "1850", "retry-after": "2"}, 1.85),
        ({"retry-after": "2"}, 2.0),
        ({}, 2.0),  # "Please try again in 2s." in the message
    ],
    ids=["retry-after-ms-first", "retry-after", "from-message"],
)
def test_rate_limit_error_carries_retry_after(headers: dict[str, str], retry_after: float) -> None:
    error = error_of(429, "error_response_429.json", headers)
    assert isinstance(error, llmx.RateLimitError)
    assert error.retry_after == pytest.approx(retry_after)
    assert error.code == "rate_limit_exceeded" and error.is_retryable


def test_retry_after_ms_of_the_captured_429() -> None:
    headers = headers_blocks()[1]
    error = error_of(429, "error_response_429.json", headers)
    assert error.retry_after == pytest.approx(1.85)


def test_insufficient_quota_is_a_rate_limit_error_not_worth_retrying() -> None:
    error = error_of(429, "error_response_429_quota.json", {"retry-after": "1"})
    assert isinstance(error, llmx.RateLimitError)
    assert error.code == "insufficient_quota"
    assert not error.is_retryable


@pytest.mark.parametrize(
    ("status", "body", "cls", "retryable"),
    [
        (
            401,
            {
                "error": {
                    "message": "Incorrect API key provided",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                    "param": None,
                }
            },
            llmx.AuthenticationError,
            False,
        ),
        (
            404,
            {
                "error": {
                    "message": "The model `gpt-9` does not exist",
                    "type": "invalid_request_error",
                    "code": "model_not_found",
                    "param": None,
                }
            },
            llmx.InvalidRequestError,
            False,
        ),
        (
            500,
            {
                "error": {
                    "message": "The server had an error",
                    "type": "server_error",
                    "code": None,
                    "param": None,
                }
            },
            llmx.ServerError,
            True,
        ),
        (503, "<html>Service Unavailable</html>", llmx.ServerError, True),
    ],
    ids=["401", "404", "500", "503-html"],
)
def test_error_statuses(
    status: int, body: Any, cls: type[llmx.ProviderError], retryable: bool
) -> None:
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    error = adapter().parse_error(HttpResponse(status, {}, raw))
    assert type(error) is cls
    assert error.status_code == status and error.provider == "openai"
    assert error.is_retryable is retryable


def test_midstream_error_raises_after_the_partial_output() -> None:
    events, error = decode_until_error(fixture_bytes("openai", "error_midstream.sse"))
    assert isinstance(error, llmx.ServerError)
    assert error.error_type == "server_error" and "had an error" in str(error)
    assert "".join(e.delta for e in events if e.type is EventType.TEXT_DELTA) == "Partial"  # type: ignore[union-attr]


# -- rate-limit headers -------------------------------------------------------------------------


def test_rate_limit_headers() -> None:
    limit = adapter().rate_limit(headers_blocks()[0])
    assert limit is not None
    assert (limit.limit_requests, limit.remaining_requests) == (5000, 4999)
    assert (limit.limit_tokens, limit.remaining_tokens) == (160000, 159976)
    assert limit.reset_requests == pytest.approx(0.012)
    assert limit.reset_tokens == pytest.approx(0.009)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("6m0s", 360.0), ("20ms", 0.02), ("1.85s", 1.85), ("1h2m3s", 3723.0), ("7", 7.0)],
    ids=["6m0s", "20ms", "1.85s", "1h2m3s", "bare"],
)
def test_rate_limit_reset_durations(value: str, seconds: float) -> None:
    headers = {"x-ratelimit-limit-tokens": "100", "x-ratelimit-reset-tokens": value}
    limit = adapter().rate_limit(headers)
    assert limit is not None and limit.reset_tokens == pytest.approx(seconds)


# -- through the client ---------------------------------------------------------------------------


def mock_client(handler: Any, **kwargs: Any) -> llmx.Client:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return llmx.Client("openai", model="gpt-4.1", api_key="sk-test", http_client=http, **kwargs)


def test_client_posts_to_chat_completions_and_reads_rate_limits() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            headers={**headers_blocks()[0], "content-type": "application/json"},
            content=fixture_bytes("openai", "usage_response.json"),
        )

    with mock_client(handler) as client:
        response = client.chat("What is the capital of France?")
    (request,) = seen
    assert str(request.url) == "https://api.openai.com/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert json.loads(request.content)["model"] == "gpt-4.1"
    assert response.text == "The capital of France is Paris."
    assert response.request_id == "req_0123456789abcdef0123456789abcdef"
    assert response.rate_limit is not None and response.rate_limit.remaining_requests == 4999


def test_client_stream_keeps_partial_output_on_a_midstream_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
        return httpx.Response(
            200,
            headers={"content-type": "text/event-stream"},
            content=fixture_bytes("openai", "error_midstream.sse"),
        )

    with mock_client(handler, max_retries=0) as client, pytest.raises(llmx.ServerError) as info:
        with client.stream("Tell me a story") as stream:
            for _ in stream:
                pass
    assert info.value.partial is not None and info.value.partial.text == "Partial"


def test_client_raises_rate_limit_error_with_retry_after_ms() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            429,
            headers={"retry-after-ms": "1850", "content-type": "application/json"},
            content=fixture_bytes("openai", "error_response_429.json"),
        )

    with mock_client(handler, max_retries=0) as client, pytest.raises(llmx.RateLimitError) as info:
        client.chat("hi")
    assert info.value.retry_after == pytest.approx(1.85)
    assert "sk-test" not in str(info.value)

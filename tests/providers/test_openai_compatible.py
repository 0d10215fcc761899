"""The generic OpenAI-compatible adapter: request bodies and the streams and errors of other
servers (DeepSeek, vLLM, llama.cpp, Mistral, OpenRouter, xAI, Ollama /v1, Gemini's endpoint).

Fixtures: tests/fixtures/openai_compatible (see its SOURCES.md).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from support import chunkings, decode, decode_all_ways, fixture_bytes, same_content
from test_groq_stream import check_order

from llmx import (
    ContextLengthError,
    Event,
    EventType,
    FinishReason,
    InvalidRequestError,
    LLMXError,
    Message,
    ProviderError,
    ReasoningOptions,
    Request,
    ServerError,
    StreamError,
    Tool,
    ToolCall,
    UsageEvent,
    accumulate,
)
from llmx.adapter import HttpResponse
from llmx.providers.openai_compatible import (
    OpenAICompatibleAdapter,
    OpenAICompatibleConfig,
    create_adapter,
)

ADAPTER = create_adapter()
PLAIN = Request(model="m", messages=[Message.user("hi")])
SPLIT = PLAIN.model_copy(update={"reasoning": ReasoningOptions(parse_think_tags=True)})


def sse(name: str) -> bytes:
    return fixture_bytes("openai_compatible", name)


def decoded(name: str, request: Request = PLAIN) -> list[Event]:
    events = decode_all_ways(ADAPTER, request, sse(name))
    check_order(events)
    return events


# -- requests ----------------------------------------------------------------------------------


def test_generic_body_and_spec() -> None:
    assert ADAPTER.spec.name == "openai_compatible"
    assert ADAPTER.spec.key_required is False
    assert ADAPTER.spec.default_base_url is None
    request = Request(
        model="qwen3:8b",
        messages=[Message(role="developer", content="rules", name="ops"), Message.user("hi")],
        max_tokens=100,
        frequency_penalty=0.5,
        presence_penalty=0.25,
        reasoning=ReasoningOptions(effort="low", include=False),
        provider_options={"openai_compatible": {"top_k": 20}, "groq": {"service_tier": "flex"}},
    )
    http = ADAPTER.build_request(request, stream=True)
    assert (http.method, http.path) == ("POST", "/chat/completions")
    assert http.body == {
        "model": "qwen3:8b",
        "messages": [
            {"role": "system", "content": "rules", "name": "ops"},
            {"role": "user", "content": "hi"},
        ],
        "stream": True,
        "stream_options": {"include_usage": True},
        "frequency_penalty": 0.5,
        "presence_penalty": 0.25,
        "max_tokens": 100,
        "reasoning_effort": "low",
        "top_k": 20,
    }


def test_config_knobs() -> None:
    adapter = OpenAICompatibleAdapter(
        OpenAICompatibleConfig(
            name="deepseek",
            max_tokens_field="max_completion_tokens",
            include_usage=False,
            assistant_reasoning_field="reasoning_content",
            reasoning_effort=False,
            send_names=False,
            developer_role=True,
            chat_path="/v1/chat/completions",
        )
    )
    request = Request(
        model="deepseek-reasoner",
        messages=[
            Message(role="developer", content="rules"),
            Message(role="user", content="q", name="alice"),
            Message.assistant("a", reasoning="earlier thought"),
            Message.user("q2"),
        ],
        max_tokens=10,
        reasoning=ReasoningOptions(effort="high"),
    )
    http = adapter.build_request(request, stream=True)
    assert http.path == "/v1/chat/completions"
    assert http.body == {
        "model": "deepseek-reasoner",
        "messages": [
            {"role": "developer", "content": "rules"},
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": "a", "reasoning_content": "earlier thought"},
            {"role": "user", "content": "q2"},
        ],
        "stream": True,
        "max_completion_tokens": 10,
    }


def test_tool_round_trip_and_tool_names() -> None:
    call = ToolCall.from_raw("call_1", "get_weather", '{"city":"Paris"}')
    request = Request(
        model="m",
        messages=[
            Message.user("weather?"),
            Message.assistant(tool_calls=[call]),
            Message.tool("call_1", {"temp_c": 21}, name="get_weather"),
        ],
        tools=[Tool(name="get_weather")],
    )
    body = ADAPTER.build_request(request, stream=False).body
    assert body is not None
    assert body["messages"][1:] == [
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        # tool results carry no name (OpenAI rejects it there)
        {"role": "tool", "content": '{"temp_c": 21}', "tool_call_id": "call_1"},
    ]


# -- streams of other servers ------------------------------------------------------------------

Expected = tuple[str, str | None, list[tuple[str, str, dict[str, Any]]], FinishReason, int | None]

STREAMS: dict[str, Expected] = {
    "deepseek_reasoning_stream.sse": (
        "There are 3.",
        "We need to count the r's.",
        [],
        FinishReason.STOP,
        237,
    ),
    "deepseek_tool_stream.sse": (
        "",
        "Call the weather tool.",
        [("call_00_ExampleDsTool0001", "weather", {"location": "San Francisco"})],
        FinishReason.TOOL_CALLS,
        422,
    ),
    "groq_tool_stream.sse": (
        "",
        None,
        [("tk85n1k4m", "weather", {"location": "Paris"})],
        FinishReason.TOOL_CALLS,
        225,
    ),
    "llamacpp_reasoning_stream.sse": ("Hi!", "Thinking briefly.", [], FinishReason.STOP, 23),
    "mistral_thinking_stream.sse": (
        "2 + 2 = 4",
        "The user is asking for 2+2. That is 4.",
        [],
        FinishReason.STOP,
        56,
    ),
    "mistral_tool_stream.sse": (
        "",
        None,
        [("gSIMJiOkT", "weather", {"location": "San Francisco"})],
        FinishReason.TOOL_CALLS,
        146,
    ),
    "ollama_v1_tool_stream.sse": (
        "",
        "User wants weather; call get_weather.",
        [("call_k3x9q2ab", "get_weather", {"city": "Paris"})],
        FinishReason.TOOL_CALLS,
        213,
    ),
    "openrouter_reasoning_stream.sse": ("2 + 2 = 4.", "Check the math.", [], FinishReason.STOP, 74),
    "vllm_reasoning_stream.sse": ("4.", "Simple arithmetic. 2+2=4.", [], FinishReason.STOP, 40),
    "xai_tool_stream.sse": (
        "",
        "First, the user wants weather.",
        [("call_55117580", "weather", {"location": "San Francisco"})],
        FinishReason.TOOL_CALLS,
        513,
    ),
    "openai_fragmented_tool_calls.sse": (
        "",
        None,
        [
            ("call_Ex4mpleWeather01", "get_weather", {"city": "Paris", "unit": None}),
            ("call_Ex4mpleTime0002", "get_time", {"tz": "Europe/Paris"}),
        ],
        FinishReason.TOOL_CALLS,
        123,
    ),
    "tool_calls_empty_arguments.sse": (
        "",
        None,
        [
            ("call_null01", "get_time_utc", {}),
            ("call_empty02", "list_files", {}),
            ("call_braces03", "ping", {}),
        ],
        FinishReason.TOOL_CALLS,
        90,
    ),
    "gemini_same_index_tool_calls.sse": (
        "",
        None,
        [
            ("call_2048146", "read_file", {"path": "a.md"}),
            ("call_2048154", "read_file", {"path": "b.md"}),
            ("call_2048158", "read_file", {"path": "c.md"}),
        ],
        FinishReason.TOOL_CALLS,
        165,
    ),
    "llamacpp_raw_think_stream.sse": (
        "<think>\nTwo plus two is four.\n</think>\n\n4< 5",
        None,
        [],
        FinishReason.STOP,
        29,
    ),
    "usage_repeated.sse": ("One two three", None, [], FinishReason.STOP, 13),
}


@pytest.mark.parametrize("name", list(STREAMS))
def test_server_streams(name: str) -> None:
    text, reasoning, calls, reason, total = STREAMS[name]
    events = decoded(name)
    response = accumulate(events)
    assert response.text == text
    assert response.reasoning == reasoning
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == calls
    assert response.finish_reason is reason
    assert response.provider == "openai_compatible"
    if total is None:
        assert response.usage is None
    else:
        assert response.usage is not None and response.usage.total_tokens == total
    first = json.loads(sse(name).split(b"data: ", 1)[1].split(b"\n", 1)[0])
    assert (response.id, response.model) == (first.get("id"), first.get("model"))


def test_fragmented_arguments_arrive_as_deltas_keyed_by_index() -> None:
    events = decoded("openai_fragmented_tool_calls.sse")
    deltas: dict[int, list[str]] = {}
    for event in events:
        if event.type is EventType.TOOL_CALL_DELTA:
            deltas.setdefault(event.index, []).append(event.arguments_delta)  # type: ignore[union-attr]
    # the "null" fragment is a JSON value inside the arguments, not "no arguments"
    assert deltas == {
        0: ['{"ci', 'ty": "Pa', 'ris", "un', 'it": ', "null", "}"],
        1: ['{"tz', '": "Europe/', 'Paris"}'],
    }
    ends = [e for e in events if e.type is EventType.TOOL_CALL_END]
    assert [e.raw_arguments for e in ends] == [
        '{"city": "Paris", "unit": null}',
        '{"tz": "Europe/Paris"}',
    ]  # type: ignore[union-attr]


def test_zero_argument_calls_end_with_empty_objects() -> None:
    events = decoded("tool_calls_empty_arguments.sse")
    ends = [e for e in events if e.type is EventType.TOOL_CALL_END]
    assert [(e.arguments, e.raw_arguments) for e in ends] == [({}, "{}")] * 3  # type: ignore[union-attr]
    # "null" and "" produce no argument deltas at all
    assert [e.arguments_delta for e in events if e.type is EventType.TOOL_CALL_DELTA] == ["{}"]  # type: ignore[union-attr]


def test_fragments_without_index_continue_the_last_call() -> None:
    def chunk(delta: dict[str, Any], reason: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": reason}
        return "data: " + json.dumps({"id": "x", "model": "m", "choices": [choice]}) + "\n\n"

    data = (
        chunk({"tool_calls": [{"id": "call_a", "function": {"name": "f", "arguments": '{"a":'}}]})
        + chunk({"tool_calls": [{"function": {"arguments": " 1}"}}]})
        + chunk({"tool_calls": [{"id": "call_b", "function": {"name": "g", "arguments": "{}"}}]})
        + chunk({"tool_calls": [{"id": "call_b", "function": {"arguments": ""}}]})
        + chunk({}, "tool_calls")
        + "data: [DONE]\n\n"
    ).encode()
    events = decode_all_ways(ADAPTER, PLAIN, data)
    check_order(events)
    response = accumulate(events)
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        ("call_a", "f", {"a": 1}),
        ("call_b", "g", {}),
    ]


def test_stop_with_tool_calls_is_reported_as_tool_calls() -> None:
    response = accumulate(decoded("gemini_same_index_tool_calls.sse"))
    assert response.finish_reason is FinishReason.TOOL_CALLS
    assert response.raw_finish_reason == "stop"


def test_repeated_usage_is_never_added_up() -> None:
    events = decoded("usage_repeated.sse")
    usages = [e for e in events if isinstance(e, UsageEvent)]
    assert len(usages) == 1
    assert (usages[0].usage.prompt_tokens, usages[0].usage.completion_tokens) == (9, 4)


def test_usage_details_of_other_servers() -> None:
    deepseek = accumulate(decoded("deepseek_tool_stream.sse")).usage
    assert deepseek is not None and (deepseek.cached_tokens, deepseek.reasoning_tokens) == (320, 39)
    xai = accumulate(decoded("xai_tool_stream.sse")).usage
    assert xai is not None and (xai.cached_tokens, xai.reasoning_tokens) == (290, 196)
    vllm = accumulate(decoded("vllm_reasoning_stream.sse")).usage
    assert vllm is not None and vllm.cached_tokens is None  # "prompt_tokens_details": null


def test_raw_think_split_across_chunks() -> None:
    response = accumulate(decoded("llamacpp_raw_think_stream.sse", SPLIT))
    assert response.reasoning == "Two plus two is four.\n"
    # "<" alone might have begun a tag: it is held back, then released with " 5"
    assert response.text == "4< 5"
    kinds = [e.type for e in decoded("llamacpp_raw_think_stream.sse", SPLIT)]
    assert kinds.index(EventType.REASONING_END) < kinds.index(EventType.TEXT_START)


def test_reasoning_field_and_content_parts_agree_with_parse_think_tags() -> None:
    # parse_think_tags never changes streams that carry no tags
    for name in STREAMS:
        if name != "llamacpp_raw_think_stream.sse":
            same_content(accumulate(decoded(name)), accumulate(decoded(name, SPLIT)))


# -- in-stream errors ----------------------------------------------------------------------


def raises_everywhere(name: str, cls: type[LLMXError]) -> LLMXError:
    caught: LLMXError | None = None
    for chunking, chunks in chunkings(sse(name)):
        with pytest.raises(cls) as info:
            decode(ADAPTER, PLAIN, chunks)
        assert caught is None or str(info.value) == str(caught), chunking
        caught = info.value
    assert caught is not None
    return caught


def test_openrouter_midstream_error_chunk() -> None:
    err = raises_everywhere("openrouter_midstream_error.sse", ServerError)
    assert isinstance(err, ProviderError)
    assert err.code == "server_error"
    assert "Provider disconnected unexpectedly" in err.message
    assert err.is_retryable


def test_openai_style_error_data_without_event_name() -> None:
    err = raises_everywhere("midstream_error_data.sse", ServerError)
    assert isinstance(err, ProviderError)
    assert "The server had an error while processing your request" in err.message
    assert err.error_type == "server_error"


def test_vllm_error_object_mid_stream() -> None:
    err = raises_everywhere("vllm_midstream_error_object.sse", ServerError)
    assert isinstance(err, ProviderError)
    assert err.status_code == 500
    assert "out of KV cache blocks" in err.message


def test_llamacpp_legacy_error_line_is_a_typed_error() -> None:
    # 2025 llama.cpp builds send a non-standard `error: {...}` line, then `data: [DONE]`
    err = raises_everywhere("llamacpp_legacy_midstream_error.sse", ContextLengthError)
    assert isinstance(err, ContextLengthError)
    assert err.status_code == 400
    assert "exceeds the available context size" in err.message


def test_done_without_a_finish_reason_is_not_a_success() -> None:
    data = (
        b'data: {"id":"x","model":"m","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n'
        b"data: [DONE]\n\n"
    )
    with pytest.raises(StreamError, match="without a finish_reason"):
        decode_all_ways(ADAPTER, PLAIN, data)


def test_named_error_event_from_any_server() -> None:
    data = (
        b'data: {"id":"x","model":"m","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n'
        b"event: error\n"
        b'data: {"error":{"message":"overloaded","type":"server_error","code":503}}\n\n'
    )
    with pytest.raises(ServerError, match="overloaded") as caught:
        decode_all_ways(ADAPTER, PLAIN, data)
    assert caught.value.status_code == 503


def test_error_event_with_plain_text_data() -> None:
    data = b"event: error\ndata: upstream timed out\n\n"
    with pytest.raises(ServerError, match="upstream timed out"):
        decode_all_ways(ADAPTER, PLAIN, data)


def test_empty_stream_is_a_stream_error() -> None:
    # llama-cpp-python answers tool_choice "auto" + stream with an empty 200 body
    with pytest.raises(StreamError, match="ended without"):
        decode_all_ways(ADAPTER, PLAIN, b"")


# -- non-streaming responses and errors ---------------------------------------------------------


def parse(payload: dict[str, Any], request: Request = PLAIN) -> Any:
    return ADAPTER.parse_response(HttpResponse(200, {}, json.dumps(payload).encode()), request)


def completion(message: dict[str, Any], finish: str = "stop", **extra: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "m",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        **extra,
    }


def test_reasoning_content_in_a_non_streaming_body() -> None:
    response = parse(
        completion(
            {"role": "assistant", "content": "There are 3.", "reasoning_content": "Count them."},
            usage={"prompt_tokens": 18, "completion_tokens": 20, "total_tokens": 38},
        )
    )
    assert (response.text, response.reasoning) == ("There are 3.", "Count them.")
    assert response.usage.total_tokens == 38


def test_mistral_content_parts_in_a_non_streaming_body() -> None:
    response = parse(
        completion(
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": [{"type": "text", "text": "2+2 is 4."}]},
                    {"type": "text", "text": "2 + 2 = 4"},
                ],
            }
        )
    )
    assert (response.text, response.reasoning) == ("2 + 2 = 4", "2+2 is 4.")


def test_arguments_sent_as_an_object() -> None:
    response = parse(
        completion(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "f", "arguments": {"a": 1}},
                    }
                ],
            },
            "tool_calls",
        )
    )
    assert response.tool_calls[0].arguments == {"a": 1}
    assert json.loads(response.tool_calls[0].raw_arguments) == {"a": 1}


@pytest.mark.parametrize(
    "name", ["vllm_error_body_legacy.json", "vllm_error_body_new.json"], ids=["legacy", "new"]
)
def test_vllm_error_bodies(name: str) -> None:
    err = ADAPTER.parse_error(HttpResponse(400, {"x-request-id": "r-1"}, sse(name)))
    assert isinstance(err, ContextLengthError)
    assert isinstance(err, InvalidRequestError)
    assert (err.status_code, err.request_id, err.is_retryable) == (400, "r-1", False)
    assert "maximum context length is 32768 tokens" in err.message
    assert err.body == json.loads(sse(name))


def test_vllm_error_object_in_a_200_body_is_raised() -> None:
    with pytest.raises(ContextLengthError, match="maximum context length"):
        ADAPTER.parse_response(HttpResponse(200, {}, sse("vllm_error_body_legacy.json")), PLAIN)


@pytest.mark.parametrize(
    ("status", "payload", "cls"),
    [
        (404, {"detail": "Not Found"}, InvalidRequestError),
        (405, {"detail": "Method Not Allowed"}, InvalidRequestError),
        (
            500,
            {
                "error": {
                    "message": "",
                    "type": "internal_server_error",
                    "param": None,
                    "code": None,
                }
            },
            ServerError,
        ),
        (400, {"error": "model 'qwen9' not found"}, InvalidRequestError),
    ],
    ids=["fastapi_404", "fastapi_405", "empty_message", "string_error"],
)
def test_error_shapes_of_local_servers(status: int, payload: Any, cls: type[ProviderError]) -> None:
    err = ADAPTER.parse_error(HttpResponse(status, {}, json.dumps(payload).encode()))
    assert type(err) is cls
    assert err.status_code == status
    assert f"HTTP {status}" in err.message

"""Groq streaming: every recorded transcript in every chunking, event order, usage, in-stream
errors, and the stream-accumulation invariant on matched stream / non-stream pairs."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from support import chunkings, decode, decode_all_ways, fixture_bytes, same_content

from llmx import (
    Event,
    EventType,
    Finish,
    FinishReason,
    LLMXError,
    Message,
    ReasoningOptions,
    Request,
    ResponseStart,
    StreamError,
    ToolCallEnd,
    ToolUseFailedError,
    UsageEvent,
    accumulate,
)
from llmx.adapter import HttpResponse, ServerSentEvent
from llmx.providers.groq import create_adapter

GROQ = create_adapter()
PLAIN = Request(model="openai/gpt-oss-120b", messages=[Message.user("hi")])
SPLIT = PLAIN.model_copy(update={"reasoning": ReasoningOptions(parse_think_tags=True)})


def sse(name: str) -> bytes:
    return fixture_bytes("groq", name)


_KIND = {
    EventType.TEXT_START: ("text", "start"),
    EventType.TEXT_DELTA: ("text", "delta"),
    EventType.TEXT_END: ("text", "end"),
    EventType.REASONING_START: ("reasoning", "start"),
    EventType.REASONING_DELTA: ("reasoning", "delta"),
    EventType.REASONING_END: ("reasoning", "end"),
    EventType.TOOL_CALL_START: ("tool", "start"),
    EventType.TOOL_CALL_DELTA: ("tool", "delta"),
    EventType.TOOL_CALL_END: ("tool", "end"),
}


def check_order(events: list[Event]) -> None:
    """The event-order rules every adapter's streams follow."""
    assert isinstance(events[0], ResponseStart), "response-start comes first"
    assert isinstance(events[-1], Finish), "finish comes last"
    counts = Counter(type(e) for e in events)
    assert counts[ResponseStart] == 1 and counts[Finish] == 1
    assert counts[UsageEvent] <= 1, "usage is reported once, never added up"
    finish = events[-1]
    usages = [e for e in events if isinstance(e, UsageEvent)]
    if usages:
        assert finish.usage == usages[0].usage
        assert events[-2] is usages[0]
    else:
        assert finish.usage is None
    state: dict[int, tuple[str, str]] = {}  # index -> (kind, "open"/"closed")
    arguments: dict[int, list[str]] = {}
    next_index = 0
    open_prose: int | None = None  # at most one text/reasoning part open at a time
    for event in events[1:-1]:
        if isinstance(event, UsageEvent):
            continue
        kind, step = _KIND[event.type]
        index = event.index  # type: ignore[union-attr]
        if step == "start":
            assert index == next_index, "indices are assigned in order, from 0"
            next_index += 1
            state[index] = (kind, "open")
            if kind != "tool":
                assert open_prose is None, "a text/reasoning part starts while another is open"
                open_prose = index
            else:
                arguments[index] = []
                assert open_prose is None, "a tool call starts while text/reasoning is open"
        else:
            assert state.get(index) == (kind, "open"), f"{event} outside its start/end"
            if step == "delta":
                delta = event.arguments_delta if kind == "tool" else event.delta  # type: ignore[union-attr]
                assert isinstance(delta, str) and delta, "deltas are non-empty strings"
                if kind == "tool":
                    arguments[index].append(delta)
            else:
                state[index] = (kind, "closed")
                if kind != "tool":
                    open_prose = None
                else:
                    assert isinstance(event, ToolCallEnd)
                    raw = "".join(arguments[index])
                    assert event.raw_arguments == (raw or "{}")
    assert all(step == "closed" for _, step in state.values()), "every part is ended"


def decoded(name: str, request: Request = PLAIN) -> list[Event]:
    events = decode_all_ways(GROQ, request, sse(name))
    check_order(events)
    return events


# -- recorded streams ----------------------------------------------------------------------


def test_text_with_reasoning_stream() -> None:
    events = decoded("stream_text_reasoning.sse")
    start = events[0]
    assert isinstance(start, ResponseStart)
    assert (start.id, start.model, start.provider, start.warnings) == (
        "chatcmpl-935610b8-ec6a-4b1d-8a58-84b34ab0590e",
        "openai/gpt-oss-120b",
        "groq",
        (),
    )
    assert [e.type for e in events[1:3]] == [EventType.REASONING_START, EventType.REASONING_DELTA]
    response = accumulate(events)
    assert response.text == "The tool returned the expected result for the valid call."
    assert response.reasoning is not None
    assert response.reasoning.startswith("The user wants to test error handling")
    assert response.finish_reason is FinishReason.STOP
    assert response.usage is not None
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (339, 58)
    assert response.usage.reasoning_tokens == 38
    assert response.usage.total_time == pytest.approx(0.142982269)
    finish = events[-1]
    assert isinstance(finish, Finish)
    assert finish.provider_metadata == {
        "groq": {
            "x_groq_id": "req_01khrvt3cxe8dt0makxnbdgqz6",
            "system_fingerprint": "fp_c82faf3ca0",
        }
    }


def test_whole_tool_call_in_one_delta() -> None:
    events = decoded("stream_tool_call.sse")
    starts = [e for e in events if e.type is EventType.TOOL_CALL_START]
    deltas = [e for e in events if e.type is EventType.TOOL_CALL_DELTA]
    assert len(starts) == len(deltas) == 1
    assert deltas[0].arguments_delta == '{"name":"example"}'  # type: ignore[union-attr]
    response = accumulate(events)
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        ("fc_bfb39741-3748-4def-9886-a93fc9c64a90", "get_something_by_name", {"name": "example"})
    ]
    assert response.message.content is None
    assert response.reasoning is not None and response.reasoning.startswith("We need to call")
    assert response.finish_reason is FinishReason.TOOL_CALLS
    assert response.usage is not None and response.usage.total_tokens == 353


def test_raw_think_stream_left_alone_by_default() -> None:
    response = accumulate(decoded("stream_raw_think_deepseek.sse"))
    assert response.text == "<think>\nOkay, so I want to make Uruguores!"
    assert response.reasoning is None
    assert response.usage is not None and response.usage.total_tokens == 1009  # x_groq.usage only


def test_raw_think_stream_split_when_asked() -> None:
    response = accumulate(decoded("stream_raw_think_deepseek.sse", SPLIT))
    # the excerpt ends inside the thought: everything after <think> is reasoning
    assert response.reasoning == "Okay, so I want to make Uruguores!"
    assert response.text == ""


def test_compound_stream() -> None:
    events = decoded("stream_compound.sse")
    start = events[0]
    assert isinstance(start, ResponseStart)
    assert start.id == "chatcmpl-03ea1ed2-c2dc-4f8d-ba51-54e08ca9287c"  # ids differ per chunk
    assert start.model == "groq/compound"
    response = accumulate(events)
    assert response.text.startswith("The weather in San Francisco today is partly cloudy")
    assert response.reasoning is not None
    assert response.reasoning.startswith("<think>\nTo find the current weather")
    finish = events[-1]
    assert isinstance(finish, Finish)
    metadata = (finish.provider_metadata or {})["groq"]
    assert "x_groq_id" not in metadata  # the final chunk's id is "stub" and x_groq has none
    (tool,) = metadata["executed_tools"]
    assert (tool["index"], tool["type"]) == (0, "search")
    assert tool["arguments"] == '{"query": "What is the weather in San Francisco today?"}'
    assert tool["output"].startswith("Title: Weather in San Francisco")  # from the 2nd delta
    assert len(tool["search_results"]["results"]) == 2
    assert [m["model"] for m in metadata["usage_breakdown"]["models"]]
    assert response.usage is not None and response.usage.total_tokens == 5362


def test_compound_think_tags_split_across_chunks_are_removed_when_asked() -> None:
    response = accumulate(decoded("stream_compound.sse", SPLIT))
    reasoning = response.reasoning or ""
    # "<th" "ink" ">\n" ... "</" "think" ">\n\n" arrive as separate deltas
    assert reasoning.startswith("To find the current weather in San Francisco")
    assert "<think>" not in reasoning and "</think>" not in reasoning
    assert "think>" not in reasoning and "<th" not in reasoning
    assert "<tool>\nsearch(What is the weather in San Francisco today?)\n" in reasoning
    # what follows </think> in the reasoning field is still reasoning, not answer text
    assert reasoning.endswith("I can see that the current weather in San Francisco")
    assert response.text.startswith("The weather in San Francisco today")


@pytest.mark.parametrize(
    ("name", "message", "failed_generation", "reasoning"),
    [
        (
            "stream_error_tool_use_failed.sse",
            "parameters for tool get_something_by_name did not match schema",
            '{"name": "get_something_by_name", "arguments": {\n  "invalid_param": "value"\n}}',
            "We need to call",
        ),
        (
            "stream_error_tool_choice_required.sse",
            "Tool choice is required, but model did not call a tool",
            "",
            None,
        ),
    ],
    ids=["tool_use_failed", "tool_choice_required"],
)
def test_error_event_raises_tool_use_failed(
    name: str, message: str, failed_generation: str, reasoning: str | None
) -> None:
    data = sse(name)
    for chunking, chunks in chunkings(data):
        with pytest.raises(ToolUseFailedError) as caught:
            decode(GROQ, PLAIN, chunks)
        err = caught.value
        assert message in err.message, chunking
        assert err.failed_generation == failed_generation
        assert (err.status_code, err.code, err.provider) == (400, "tool_use_failed", "groq")
        assert err.error_type == "invalid_request_error"
        assert err.body["error"]["status_code"] == 400
    # everything before the error event was delivered as events
    decoder = GROQ.stream_decoder(PLAIN)
    blocks = data.decode().split("\n\n")
    seen: list[Event] = []
    with pytest.raises(ToolUseFailedError):
        for block in blocks:
            lines = block.splitlines()
            if not lines:
                continue
            event = "error" if lines[0] == "event: error" else "message"
            seen += decoder.feed(ServerSentEvent(event=event, data=lines[-1][len("data: ") :]))
    assert isinstance(seen[0], ResponseStart)
    if reasoning:
        assert accumulate(seen).reasoning.startswith(reasoning)  # type: ignore[union-attr]


# -- the stream-accumulation invariant ------------------------------------------------------

PAIRS = [
    "text",
    "reasoning",
    "tool_call",
    "tool_calls_parallel",
    "tool_call_null_arguments",
    "json_object",
    "raw_think",
    "compound",
]


@pytest.mark.parametrize("split", [False, True], ids=["raw", "parse_think_tags"])
@pytest.mark.parametrize("name", PAIRS)
def test_stream_accumulates_to_the_non_streaming_response(name: str, split: bool) -> None:
    request = SPLIT if split else PLAIN
    events = decoded(f"pair_{name}.sse", request)
    streamed = accumulate(events)
    whole = GROQ.parse_response(
        HttpResponse(200, {"content-type": "application/json"}, sse(f"pair_{name}.json")), request
    )
    same_content(streamed, whole)
    assert streamed.model == whole.model
    assert streamed.provider == whole.provider == "groq"
    if name != "compound":  # compound chunk ids differ from chunk to chunk; the body says "stub"
        assert streamed.id == whole.id
    assert [c.raw_arguments for c in streamed.tool_calls] == [
        c.raw_arguments if c.raw_arguments != "null" else "{}" for c in whole.tool_calls
    ]
    stream_meta = (streamed.provider_metadata or {}).get("groq", {})
    whole_meta = (whole.provider_metadata or {}).get("groq", {})
    for key in ("executed_tools", "usage_breakdown", "x_groq_id", "system_fingerprint"):
        assert stream_meta.get(key) == whole_meta.get(key), key


def test_the_pairs_cover_what_they_claim() -> None:
    def whole(name: str, request: Request = PLAIN) -> Any:
        return GROQ.parse_response(HttpResponse(200, {}, sse(f"pair_{name}.json")), request)

    assert whole("text").text == "Hello! How can I assist you today?"
    assert whole("reasoning").reasoning
    assert len(whole("tool_call").tool_calls) == 1
    assert len(whole("tool_calls_parallel").tool_calls) == 2
    assert whole("tool_call_null_arguments").tool_calls[0].raw_arguments == "null"
    assert json.loads(whole("json_object").text) == {"city": "Mexico City", "country": "Mexico"}
    assert whole("raw_think").text.startswith("<think>")
    assert whole("raw_think", SPLIT).text == "4"
    assert whole("compound").provider_metadata["groq"]["executed_tools"]
    # the raw-think stream really splits the tags across chunks
    raw = sse("pair_raw_think.sse")
    assert b'"content":"\\u003cth"' in raw and b'"content":"ink"' in raw
    assert b'"content":"\\u003c/"' in raw and b'"content":"think"' in raw


# -- usage wherever it appears ---------------------------------------------------------------

FINAL_USAGE = {
    "queue_time": 0.1,
    "prompt_tokens": 48,
    "prompt_time": 0.002,
    "completion_tokens": 8,
    "completion_time": 0.029,
    "total_tokens": 56,
    "total_time": 0.031,
}


def chunk(delta: dict[str, Any] | None, reason: str | None = None, **extra: Any) -> str:
    """One Groq chunk; ``delta=None`` gives ``choices: []`` (a usage-only chunk)."""
    choices = (
        []
        if delta is None
        else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}]
    )
    payload = {
        "id": "chatcmpl-7586b6a9-fb4b-4ec7-86a0-59f0a77844cf",
        "object": "chat.completion.chunk",
        "created": 1744043573,
        "model": "llama-3.3-70b-versatile",
        "system_fingerprint": "fp_72a5dc99ee",
        "choices": choices,
        **extra,
    }
    return "data: " + json.dumps(payload) + "\n\n"


def stream_of(*parts: str, done: bool = True) -> bytes:
    return ("".join(parts) + ("data: [DONE]\n\n" if done else "")).encode()


@pytest.mark.parametrize(
    "tail",
    [
        [chunk({}, "stop", x_groq={"id": "req_1", "usage": FINAL_USAGE})],
        [chunk({}, "stop", x_groq={"id": "req_1", "usage": FINAL_USAGE}, usage=FINAL_USAGE)],
        [chunk({}, "stop", usage=FINAL_USAGE)],
        # stream_options.include_usage: a separate chunk with choices: [] after the finish chunk
        [
            chunk({}, "stop", x_groq={"id": "req_1"}),
            chunk(None, usage=FINAL_USAGE, service_tier="on_demand"),
        ],
        # an early x_groq.usage with cache counters only is not the final usage
        [
            chunk({}, x_groq={"usage": {"dram_cached_tokens": 0, "sram_cached_tokens": 0}}),
            chunk({}, "stop", x_groq={"id": "req_1", "usage": FINAL_USAGE}),
        ],
    ],
    ids=["x_groq_usage", "both", "top_level", "separate_usage_chunk", "cache_counters_first"],
)
def test_usage_wherever_it_appears_is_reported_once(tail: list[str]) -> None:
    data = stream_of(
        chunk({"role": "assistant", "content": ""}, x_groq={"id": "req_1"}),
        chunk({"content": "Hello!"}),
        *tail,
    )
    events = decode_all_ways(GROQ, PLAIN, data)
    check_order(events)
    usages = [e for e in events if isinstance(e, UsageEvent)]
    assert len(usages) == 1
    usage = usages[0].usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (48, 8, 56)
    assert usage.queue_time == 0.1
    assert accumulate(events).usage == usage


def test_stream_without_usage() -> None:
    events = decode_all_ways(GROQ, PLAIN, stream_of(chunk({"content": "Hi"}), chunk({}, "stop")))
    check_order(events)
    assert accumulate(events).usage is None


# -- broken streams --------------------------------------------------------------------------


def test_stream_cut_before_finish_is_a_stream_error() -> None:
    data = sse("stream_text_reasoning.sse")
    cut_at = data.index(b'"finish_reason":"stop"')
    cut_at = data.rindex(b"data: ", 0, cut_at)
    for where in (cut_at, cut_at + 40, len(data) // 2, 0):
        for chunking, chunks in chunkings(data[:where], seeds=1):
            with pytest.raises(StreamError, match="groq stream: the stream ended") as caught:
                decode(GROQ, PLAIN, chunks)
            assert caught.value.provider == "groq", chunking


def test_missing_done_after_finish_reason_is_tolerated() -> None:
    data = sse("stream_text_reasoning.sse")
    assert data.endswith(b"data: [DONE]\n\n")
    assert decode_all_ways(GROQ, PLAIN, data[: -len(b"data: [DONE]\n\n")]) == decoded(
        "stream_text_reasoning.sse"
    )


def test_done_without_any_finish_reason_is_a_stream_error() -> None:
    data = stream_of(chunk({"role": "assistant", "content": ""}), chunk({"content": "Hel"}))
    with pytest.raises(StreamError, match="without a finish_reason"):
        decode_all_ways(GROQ, PLAIN, data)


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        (b"data: {not json}\n\n", "not JSON"),
        (b"data: <html>502 Bad Gateway</html>\n\n", "not JSON"),
        (b"data: [1, 2]\n\n", "not a JSON object"),
        (b'data: "text"\n\n', "not a JSON object"),
    ],
    ids=["broken_json", "html", "array", "string"],
)
def test_non_json_data_line_is_a_stream_error(line: bytes, complaint: str) -> None:
    data = stream_of(chunk({"content": "Hi"}), line.decode(), chunk({}, "stop"))
    with pytest.raises(StreamError, match=complaint):
        decode_all_ways(GROQ, PLAIN, data)


def test_comments_and_empty_data_are_ignored() -> None:
    data = stream_of(": keep-alive\n\n", chunk({"content": "Hi"}), "data: \n\n", chunk({}, "stop"))
    assert accumulate(decode_all_ways(GROQ, PLAIN, data)).text == "Hi"


def test_x_groq_error_stops_the_stream() -> None:
    data = stream_of(
        chunk({"content": "Hi"}),
        chunk({}, x_groq={"id": "req_1", "error": "internal error: the model stopped early"}),
    )
    with pytest.raises(LLMXError, match="stopped early"):
        decode_all_ways(GROQ, PLAIN, data)


def test_unnamed_error_data_is_raised_as_a_typed_error() -> None:
    error = {
        "error": {
            "message": "Rate limit reached",
            "type": "tokens",
            "code": "rate_limit_exceeded",
            "status_code": 429,
        }
    }
    data = stream_of(chunk({"content": "Hi"}), "data: " + json.dumps(error) + "\n\n", done=False)
    with pytest.raises(LLMXError) as caught:
        decode_all_ways(GROQ, PLAIN, data)
    assert type(caught.value).__name__ == "RateLimitError"
    assert caught.value.status_code == 429  # type: ignore[attr-defined]


def test_warnings_ride_on_response_start() -> None:
    request = PLAIN.model_copy(update={"frequency_penalty": 0.5})
    events = decode_all_ways(GROQ, request, sse("pair_text.sse"))
    start = events[0]
    assert isinstance(start, ResponseStart)
    assert len(start.warnings) == 1 and "frequency_penalty" in start.warnings[0]
    assert accumulate(events).warnings == list(start.warnings)

"""J: chunk- and body-level JSON quirks (reliability.md §4 J1-J11), over a loopback socket."""

from __future__ import annotations

import json
from typing import Any

import pytest
from reliability_support import CANARY, MODEL, make_client, sse_chunk

import llmx
from llmx._errors import UnexpectedResponseError
from llmx.testing import Emulator, Reply

ROLE = {
    "id": "c1",
    "object": "chat.completion.chunk",
    "model": MODEL,
    "choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}],
}
USAGE = {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}


def streamed(emu: Emulator, events: list[Any], **kwargs: Any) -> llmx.Response:
    emu.set_default(Reply.sse(events))
    with make_client(emu, **kwargs) as client:
        return client.stream("hi").response()


def calls(*deltas: dict[str, Any], finish: str = "tool_calls") -> list[Any]:
    chunks = [
        sse_chunk(None)
        | {"choices": [{"index": 0, "delta": {"tool_calls": [d]}, "finish_reason": None}]}
        for d in deltas
    ]
    return [ROLE, *chunks, sse_chunk(None, finish=finish), "[DONE]"]


def test_J1_empty_choices_chunks_and_usage_only_last_chunk(emu: Emulator) -> None:
    first = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "model": MODEL,
        "choices": [],
        "prompt_annotations": [{"prompt_index": 0}],
    }
    last = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "model": MODEL,
        "choices": [],
        "usage": USAGE,
    }
    events = [first, ROLE, sse_chunk("hi"), sse_chunk(None, finish="stop"), last, "[DONE]"]
    response = streamed(emu, events)
    assert response.text == "hi" and response.usage is not None
    assert response.usage.total_tokens == 6


def test_J2_null_and_missing_deltas_are_empty(emu: Emulator) -> None:
    odd = [
        sse_chunk(None) | {"choices": [{"index": 0, "delta": None, "finish_reason": None}]},
        sse_chunk(None) | {"choices": [{"index": 0, "finish_reason": None}]},
        sse_chunk(None) | {"choices": [{"index": 0, "delta": {"content": None}}]},
        sse_chunk(None) | {"choices": [{"index": 0, "delta": {"role": "assistant"}}]},
    ]
    response = streamed(emu, [*odd, sse_chunk("ok"), sse_chunk(None, finish="stop"), "[DONE]"])
    assert response.text == "ok"


def test_J3_tool_call_deltas_without_index_or_sharing_one(emu: Emulator) -> None:
    no_index = calls(
        {"id": "a", "function": {"name": "f", "arguments": '{"x":'}},
        {"function": {"arguments": " 1}"}},
    )
    (call,) = streamed(emu, no_index).tool_calls
    assert (call.id, call.name, call.arguments) == ("a", "f", {"x": 1})
    same_index = calls(
        {"index": 0, "id": "a", "function": {"name": "f", "arguments": "{}"}},
        {"index": 0, "id": "b", "function": {"name": "g", "arguments": "{}"}},
    )
    assert [c.id for c in streamed(emu, same_index).tool_calls] == ["a", "b"]
    interleaved = calls(
        {"index": 0, "id": "a", "function": {"name": "f", "arguments": '{"n":'}},
        {"index": 1, "id": "b", "function": {"name": "g", "arguments": '{"m":'}},
        {"index": 0, "function": {"arguments": "1}"}},
        {"index": 1, "function": {"arguments": "2}"}},
    )
    got = streamed(emu, interleaved).tool_calls
    assert [(c.name, c.arguments) for c in got] == [("f", {"n": 1}), ("g", {"m": 2})]


def test_J4_missing_id_is_synthesized_and_late_name_is_kept(emu: Emulator) -> None:
    events = calls(
        {"index": 0, "function": {"arguments": '{"q": '}},
        {"index": 0, "function": {"name": "search", "arguments": '"x"}'}},
    )
    (call,) = streamed(emu, events).tool_calls
    assert call.id == "call_0" and call.arguments == {"q": "x"}


ARGS = '{"city": "Z\\u00fcrich", "note": "a \\"quoted\\" word"}'


@pytest.mark.parametrize("split", range(1, len(ARGS)))
def test_J5_arguments_split_at_every_position_parse_once(emu: Emulator, split: int) -> None:
    events = calls(
        {"index": 0, "id": "a", "function": {"name": "f", "arguments": ARGS[:split]}},
        {"index": 0, "function": {"arguments": ARGS[split:]}},
    )
    (call,) = streamed(emu, events).tool_calls
    assert call.arguments == json.loads(ARGS) and call.raw_arguments == ARGS


def test_J5_invalid_final_arguments_are_marked_not_repaired(emu: Emulator) -> None:
    events = calls({"index": 0, "id": "a", "function": {"name": "f", "arguments": '{"x": 1'}})
    (call,) = streamed(emu, events).tool_calls
    assert call.raw_arguments == '{"x": 1'  # kept as sent, not repaired
    assert call.arguments == {}
    assert call.arguments_error is not None and "not valid JSON" in call.arguments_error
    good = calls({"index": 0, "id": "a", "function": {"name": "f", "arguments": ARGS}})
    assert streamed(emu, good).tool_calls[0].arguments_error is None


def test_J6_length_cut_tool_call_is_reported_as_truncated(emu: Emulator) -> None:
    events = calls(
        {"index": 0, "id": "a", "function": {"name": "f", "arguments": '{"x": "ab'}},
        finish="length",
    )
    response = streamed(emu, events)
    assert response.finish_reason is llmx.FinishReason.LENGTH
    assert response.tool_calls[0].raw_arguments == '{"x": "ab'


@pytest.mark.parametrize("junk", ["data: keep-alive\n\n", "data: : OPENROUTER PROCESSING\n\n"])
def test_J7_known_keepalive_data_lines_are_skipped(emu: Emulator, junk: str) -> None:
    events = [ROLE, junk, sse_chunk("ok"), junk, sse_chunk(None, finish="stop"), "[DONE]"]
    assert streamed(emu, events).text == "ok"


def test_J7_other_non_json_data_is_a_stream_error_with_a_short_snippet(emu: Emulator) -> None:
    junk = "data: <html>" + "y" * 5000 + "\n\n"
    emu.set_default(Reply.sse([ROLE, sse_chunk("ok"), junk]))
    with make_client(emu) as client, pytest.raises(llmx.StreamError) as info:
        list(client.stream("hi"))
    assert not isinstance(info.value, json.JSONDecodeError)
    assert len(str(info.value)) < 400
    assert info.value.partial is not None and info.value.partial.text == "ok"


def test_J8_usage_sources(emu: Emulator) -> None:
    in_x_groq = [
        ROLE,
        sse_chunk("a"),
        sse_chunk(None, finish="stop", x_groq={"usage": USAGE}),
        "[DONE]",
    ]
    usage = streamed(emu, in_x_groq).usage
    assert usage is not None and usage.total_tokens == 6
    assert (
        streamed(emu, [ROLE, sse_chunk("a"), sse_chunk(None, finish="stop"), "[DONE]"]).usage
        is None
    )
    repeated = (
        [ROLE]
        + [
            sse_chunk("a", usage={**USAGE, "completion_tokens": n, "total_tokens": 4 + n})
            for n in (1, 2, 3)
        ]
        + [sse_chunk(None, finish="stop"), "[DONE]"]
    )
    last = streamed(emu, repeated).usage
    assert last is not None and (last.completion_tokens, last.total_tokens) == (3, 7)


def test_J8_include_usage_is_requested_where_the_wire_needs_it(emu: Emulator) -> None:
    base = emu.base_url_for("openai")
    with llmx.Client("openai", api_key=CANARY, base_url=base, model="gpt-4.1") as client:
        client.stream("hi").response()
    body = emu.chat_requests[-1].json if emu.chat_requests else emu.requests[-1].json
    assert body["stream_options"] == {"include_usage": True}


def test_J9_extra_fields_are_accepted(emu: Emulator) -> None:
    extra = {
        "x_groq": {"id": "req_1"},
        "service_tier": "on_demand",
        "obfuscation": "zz",
        "system_fingerprint": None,
    }
    events = [
        ROLE | extra,
        sse_chunk("ok") | extra,
        sse_chunk(None, finish="stop") | extra,
        "[DONE]",
    ]
    assert streamed(emu, events).text == "ok"


def test_J10_body_without_choices_is_an_unexpected_response(emu: Emulator) -> None:
    emu.set_default(Reply.json({"id": "c1", "object": "chat.completion", "model": MODEL}))
    with make_client(emu) as client, pytest.raises(UnexpectedResponseError) as info:
        client.chat("hi")
    assert "choices" in str(info.value) and len(emu.requests) == 1


def test_J11_deeply_nested_json_fails_cleanly(emu: Emulator) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    emu.set_default(Reply.raw(200, deep))
    with make_client(emu) as client:
        with pytest.raises(UnexpectedResponseError):
            client.chat("hi")
        emu.set_default(Reply.sse([ROLE, "data: " + deep + "\n\n"]))
        with pytest.raises(llmx.StreamError):
            list(client.stream("hi"))


def test_J11_huge_body_is_bounded(emu: Emulator) -> None:
    emu.set_default(Reply.raw(200, b"[" + b"1," * (25 * 1024 * 1024) + b"1]"))  # 50 MB
    with make_client(emu) as client, pytest.raises(UnexpectedResponseError):
        client.chat("hi")  # read (under the 64 MiB cap) and rejected: not a completion
    with make_client(emu, max_response_bytes=1024 * 1024) as client:
        with pytest.raises(UnexpectedResponseError) as info:
            client.chat("hi")
    assert "max_response_bytes" in str(info.value)

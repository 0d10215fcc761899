"""S: SSE-level faults (reliability.md §4 S1-S13), over a loopback socket.

The WHATWG/WPT conformance table itself (55 cases, every chunking, hypothesis properties) runs
sans-IO in tests/core/test_sse.py; here the same decoder is driven through real sockets.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from reliability_support import CANARY, make_client, sse_chunk, wait_until

import llmx
from llmx._errors import UnexpectedResponseError
from llmx.testing import Emulator, Reply

ROLE = sse_chunk(None) | {
    "choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]
}
TEXT = "héllo 你好 🌍 wörld"


def wire(events: list[Any], *, crlf: bool = False, cr: bool = False, bom: bool = False) -> bytes:
    out = []
    for event in events:
        block = event if isinstance(event, str) else f"data: {json.dumps(event)}\n\n"
        if crlf:
            block = block.replace("\n", "\r\n")
        elif cr:
            block = block.replace("\n", "\r")
        out.append(block)
    data = "".join(out).encode()
    return (b"\xef\xbb\xbf" + data) if bom else data


def text_stream(text: str = TEXT) -> list[Any]:
    pieces = [text[i : i + 3] for i in range(0, len(text), 3)]
    usage = {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8}
    return [
        ROLE,
        *[sse_chunk(p) for p in pieces],
        sse_chunk(None, finish="stop", usage=usage),
        "data: [DONE]\n\n",
    ]


def stream_text(emu: Emulator, reply: Reply, **kwargs: Any) -> llmx.Response:
    emu.set_default(reply)
    with make_client(emu, **kwargs) as client:
        return client.stream("hi").response()


@pytest.mark.parametrize("split", [1, 2, 3, 7, None])
@pytest.mark.parametrize("style", ["lf", "crlf", "cr", "bom"])
def test_S1_framing_survives_any_chunking_over_the_socket(
    emu: Emulator, split: int | None, style: str
) -> None:
    body = wire(text_stream(), crlf=style == "crlf", cr=style == "cr", bom=style == "bom")
    faults: dict[str, Any] = {"split_bytes": split} if split else {}
    reply = Reply.raw(200, [body], content_type="text/event-stream", **faults)
    response = stream_text(emu, reply)
    assert response.text == TEXT  # multi-byte characters split across chunks decode whole
    assert response.usage is not None and response.usage.total_tokens == 8


def test_S2_ids_retry_fields_and_ping_comments_make_no_events(emu: Emulator) -> None:
    events: list[Any] = []
    for n, event in enumerate(text_stream()[:-1]):
        events += [f"id: {n}\n", f"data: {json.dumps(event)}\n\n", ": ping\n\n", "retry: 3000\n\n"]
    events.append("id: 99\ndata: [DONE]\n\n")
    response = stream_text(emu, Reply.sse(events))
    assert response.text == TEXT


def test_S3_empty_data_keepalives_are_skipped(emu: Emulator) -> None:
    events: list[Any] = []
    for event in text_stream():
        events += ["data:\n\n", "data: \n\n", event]
    assert stream_text(emu, Reply.sse(events)).text == TEXT


def test_S4_comments_before_the_first_token_neither_count_nor_break(emu: Emulator) -> None:
    comments = [": OPENROUTER PROCESSING\n\n"] * 8
    reply = Reply.sse([*comments, *text_stream()], trickle=0.1)
    patient = llmx.Timeout(first_event=5.0)
    assert stream_text(emu, reply, timeout=patient).text == TEXT
    emu.set_default(reply)
    with make_client(emu, max_retries=0) as client, pytest.raises(llmx.RequestTimeout) as info:
        list(client.stream("hi", timeout=llmx.Timeout(first_event=0.4)))
    assert info.value.phase == "first_event"  # eight comments in 0.7 s did not count


def test_S5_eof_without_done_or_finish_reason_is_an_error(emu: Emulator) -> None:
    events = [ROLE, sse_chunk("one "), sse_chunk("two "), sse_chunk("three")]
    emu.set_default(Reply.sse(events))
    with make_client(emu) as client, pytest.raises(llmx.StreamError) as info:
        list(client.stream("hi"))
    assert info.value.partial is not None
    assert info.value.partial.text == "one two three" and info.value.partial.usage is None
    assert len(emu.requests) == 1  # events had been delivered: not retried


def test_S5_finish_reason_without_done_is_complete(emu: Emulator) -> None:
    events = text_stream()[:-1]
    assert stream_text(emu, Reply.sse(events)).text == TEXT


def test_S5_anthropic_without_message_stop_is_an_error(emu: Emulator) -> None:
    events = [
        "event: message_start\ndata: "
        + json.dumps(
            {
                "type": "message_start",
                "message": {
                    "id": "msg_1",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude",
                    "content": [],
                    "usage": {"input_tokens": 3, "output_tokens": 0},
                },
            }
        )
        + "\n\n",
        "event: content_block_start\ndata: "
        + json.dumps(
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            }
        )
        + "\n\n",
        "event: content_block_delta\ndata: "
        + json.dumps(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "partial"},
            }
        )
        + "\n\n",
    ]
    emu.set_default(Reply.sse(events))
    base = emu.base_url_for("anthropic")
    with llmx.Client("anthropic", api_key=CANARY, base_url=base, model="claude") as client:
        with pytest.raises(llmx.StreamError) as info:
            list(client.stream("hi"))
    assert info.value.partial is not None and info.value.partial.text == "partial"


def test_S5_ollama_eof_before_done_is_an_error(emu: Emulator) -> None:
    lines = [
        json.dumps(
            {"model": "m", "message": {"role": "assistant", "content": w}, "done": False}
        ).encode()
        + b"\n"
        for w in ("a", "b")
    ]
    emu.set_default(Reply.raw(200, lines, content_type="application/x-ndjson"))
    with llmx.Client("ollama", base_url=emu.base_url_for("ollama"), model="m") as client:
        with pytest.raises(llmx.StreamError) as info:
            list(client.stream("hi"))
    assert info.value.partial is not None and info.value.partial.text == "ab"


@pytest.mark.parametrize("done", ["data: [DONE]\n\n", "data:[DONE]\n\n", "data: [DONE]\r\n\r\n"])
def test_S6_done_ends_the_stream_even_if_the_socket_stays_open(emu: Emulator, done: str) -> None:
    events = [*text_stream()[:-1], done]
    reply = Reply.sse(events, stall_after=len(events))  # then hang, connection open
    started = time.monotonic()
    assert stream_text(emu, reply).text == TEXT
    assert time.monotonic() - started < 10  # not the 60 s read timeout
    assert wait_until(lambda: emu.active_connections == 0)  # we closed it


def test_S7_in_band_error_chunk_raises_with_the_partial_output(emu: Emulator) -> None:
    error = {"error": {"message": "boom", "type": "server_error"}}
    emu.set_default(Reply.sse([ROLE, sse_chunk("so far"), error]))
    with make_client(emu) as client, pytest.raises(llmx.ProviderError) as info:
        list(client.stream("hi"))
    assert "boom" in str(info.value) and len(emu.requests) == 1
    assert info.value.partial is not None and info.value.partial.text == "so far"


def test_S7_error_event_raises_the_typed_provider_error(emu: Emulator) -> None:
    emu.set_default(Reply.stream_error(3, text="Partial answer ", failed_generation="<bad>"))
    with make_client(emu) as client, pytest.raises(llmx.ToolUseFailedError) as info:
        list(client.stream("hi"))
    assert info.value.failed_generation == "<bad>" and len(emu.requests) == 1
    assert info.value.partial is not None and info.value.partial.text.startswith("Partial")


def test_S7_x_groq_error_is_a_stream_error(emu: Emulator) -> None:
    final = sse_chunk(None, finish="stop", x_groq={"id": "req_1", "error": "over capacity"})
    emu.set_default(Reply.sse([ROLE, sse_chunk("cut"), final, "[DONE]"]))
    with make_client(emu) as client, pytest.raises(llmx.StreamError) as info:
        list(client.stream("hi"))
    assert "over capacity" in str(info.value)
    assert info.value.partial is not None and info.value.partial.text == "cut"


def _anthropic(kind: str, payload: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **payload})}\n\n"


OVERLOADED = _anthropic("error", {"error": {"type": "overloaded_error", "message": "Overloaded"}})
START = _anthropic(
    "message_start",
    {
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude",
            "content": [],
            "usage": {"input_tokens": 3, "output_tokens": 0},
        }
    },
)


def test_S8_overloaded_before_any_event_is_retried_after_a_delta_is_not(emu: Emulator) -> None:
    block = {"type": "text", "text": ""}
    delta = {"type": "text_delta", "text": "hi"}
    good = [
        START,
        _anthropic("content_block_start", {"index": 0, "content_block": block}),
        _anthropic("content_block_delta", {"index": 0, "delta": delta}),
        _anthropic("content_block_stop", {"index": 0}),
        _anthropic("message_delta", {"delta": {"stop_reason": "end_turn"}, "usage": {}}),
        _anthropic("message_stop", {}),
    ]
    base = emu.base_url_for("anthropic")
    policy = llmx.RetryPolicy(initial_backoff=0.01)
    with llmx.Client(
        "anthropic", api_key=CANARY, base_url=base, model="claude", retry_policy=policy
    ) as client:
        emu.script(Reply.sse([OVERLOADED]), Reply.sse(good))
        assert client.stream("hi").response().text == "hi"
        assert len(emu.requests) == 2
        emu.script(Reply.sse([*good[:3], OVERLOADED]))
        with pytest.raises(llmx.ServerError) as info:
            list(client.stream("hi"))
        assert len(emu.requests) == 3 and info.value.status_code == 529
        assert info.value.partial is not None and info.value.partial.text == "hi"


def test_S9_unknown_events_and_fields_are_ignored(emu: Emulator) -> None:
    events: list[Any] = ['event: span.foo\ndata: {"x": 1}\n\n', "event: ping\ndata: {}\n\n"]
    for event in text_stream():
        if isinstance(event, dict):
            event = {**event, "obfuscation": "abc", "brand_new_field": {"nested": [1, 2]}}
        events.append(event)
    # an unknown event type with non-JSON data is still an event type the adapter ignores
    assert stream_text(emu, Reply.sse(events)).text == TEXT


def test_S10_large_events_parse_and_the_cap_is_enforced(emu: Emulator) -> None:
    big = "x" * (5 * 1024 * 1024)
    events = [ROLE, sse_chunk(big), *text_stream()[-2:]]
    assert stream_text(emu, Reply.sse(events)).text == big
    emu.set_default(Reply.sse(events))
    with make_client(emu, max_event_bytes=1024 * 1024) as client:
        with pytest.raises(llmx.StreamError) as info:
            list(client.stream("hi"))
    assert "max_event_bytes" in str(info.value)


def test_S11_ndjson_lines_split_across_chunks(emu: Emulator) -> None:
    def line(content: str, done: bool = False) -> bytes:
        doc: dict[str, Any] = {
            "model": "m",
            "message": {"role": "assistant", "content": content},
            "done": done,
        }
        if done:
            doc |= {"done_reason": "stop", "prompt_eval_count": 1, "eval_count": 2}
        return json.dumps(doc).encode()

    one, two, three = line("alpha "), line("beta "), line("", done=True)
    parts = [one[:10], one[10:20], one[20:] + b"\n" + two + b"\n", three]  # no final newline
    emu.set_default(Reply.raw(200, parts, content_type="application/x-ndjson"))
    with llmx.Client("ollama", base_url=emu.base_url_for("ollama"), model="m") as client:
        assert client.stream("hi").response().text == "alpha beta "


def test_S12_ollama_error_line_in_a_200_stream(emu: Emulator) -> None:
    lines = [
        json.dumps(
            {"model": "m", "message": {"role": "assistant", "content": "x"}, "done": False}
        ).encode()
        + b"\n",
        b'{"error":"an error was encountered while running the model"}\n',
    ]
    emu.set_default(Reply.raw(200, lines, content_type="application/x-ndjson"))
    with llmx.Client("ollama", base_url=emu.base_url_for("ollama"), model="m") as client:
        with pytest.raises(llmx.LLMXError) as info:
            list(client.stream("hi"))
    assert "error was encountered" in str(info.value)
    assert info.value.partial is not None and info.value.partial.text == "x"


@pytest.mark.parametrize("content_type", ["text/plain", "text/html"])
def test_S13_wrong_content_type_is_an_unexpected_response(emu: Emulator, content_type: str) -> None:
    emu.set_default(Reply.raw(200, [b"data: hello\n\n"], content_type=content_type))
    with make_client(emu) as client, pytest.raises(UnexpectedResponseError) as info:
        list(client.stream("hi"))
    assert info.value.content_type == content_type and len(emu.requests) == 1


@pytest.mark.parametrize(
    "content_type", ["text/event-stream;", "text/event-stream; charset=utf-8", None]
)
def test_S13_event_stream_with_parameters_or_no_content_type_is_read(
    emu: Emulator, content_type: str | None
) -> None:
    headers = {"content-type": content_type}  # None removes the header: the body is sniffed
    reply = Reply.raw(200, [wire(text_stream())], headers=headers)
    assert stream_text(emu, reply).text == TEXT

"""The Groq emulator over a real socket, driven with plain httpx."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from llmx.testing import Emulator, RecordedRequest, Reply

GO_DURATION = re.compile(r"^(\d+h)?(\d+m)?(\d+(\.\d+)?(ms|s))$")
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                    "days": {"type": "integer", "minimum": 1},
                },
                "required": ["city", "unit"],
                "additionalProperties": False,
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "search",
            "parameters": {"type": "object", "properties": {"query": {"type": "string"}}},
        },
    },
]


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as server:
        yield server


def client(emu: Emulator, **kwargs: Any) -> httpx.Client:
    kwargs.setdefault("timeout", 10.0)
    headers = {"authorization": f"Bearer {emu.api_key}"}
    return httpx.Client(base_url=emu.base_url, headers=headers, **kwargs)


def chat(
    text: str = "Hello there",
    *,
    stream: bool = False,
    model: str = "llama-3.3-70b-versatile",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "model": model,
        "messages": [{"role": "user", "content": text}],
        "stream": stream,
        **extra,
    }


def parse_sse(text: str) -> list[tuple[str | None, str]]:
    """(event, data) pairs; comment-only blocks are dropped."""
    events: list[tuple[str | None, str]] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        event, data, seen = None, [], False
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                event, seen = value, True
            elif name == "data":
                data.append(value)
                seen = True
        if seen:
            events.append((event, "\n".join(data)))
    return events


def chunks(text: str) -> list[dict[str, Any]]:
    return [json.loads(d) for e, d in parse_sse(text) if e is None and d != "[DONE]"]


def streamed_text(text: str, key: str = "content") -> str:
    return "".join(c["choices"][0]["delta"].get(key, "") for c in chunks(text) if c["choices"])


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


# --- lifecycle, auth, recording ---------------------------------------------------------------


def test_lifecycle_base_url_and_stop() -> None:
    emu = Emulator()
    with pytest.raises(RuntimeError):
        _ = emu.base_url
    with emu:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/openai/v1", emu.base_url)
        assert emu.api_key == "gsk_test_emulator"
        port = emu.port
        with client(emu) as c:
            assert c.get("/models").status_code == 200
    with pytest.raises(RuntimeError):
        _ = emu.base_url
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
    emu.stop()  # idempotent


def test_auth_rejects_missing_or_wrong_key_with_groq_body(emu: Emulator) -> None:
    emu.script(Reply.text("scripted"))
    expected = {
        "error": {
            "message": "Invalid API Key",
            "type": "invalid_request_error",
            "code": "invalid_api_key",
        }
    }
    with httpx.Client(base_url=emu.base_url) as c:
        r = c.post("/chat/completions", json=chat())
        assert (r.status_code, r.json()) == (401, expected)
        r = c.get("/models", headers={"authorization": "Bearer gsk_wrong"})
        assert (r.status_code, r.json()) == (401, expected)
    assert emu.pending == 1  # auth failures do not consume scripted replies
    with client(emu) as c:
        assert (
            c.post("/chat/completions", json=chat()).json()["choices"][0]["message"]["content"]
            == "scripted"
        )


def test_no_auth_check_when_api_key_is_none() -> None:
    with Emulator(api_key=None) as emu, httpx.Client(base_url=emu.base_url) as c:
        assert c.post("/chat/completions", json=chat()).status_code == 200


def test_requests_are_recorded(emu: Emulator) -> None:
    with client(emu) as c:
        c.post("/chat/completions?x=1", json=chat("hi"), headers={"X-Custom": "Yes"})
        c.get("/models")
    requests = emu.wait_for_requests(2)
    first = requests[0]
    assert isinstance(first, RecordedRequest)
    assert (first.method, first.path, first.query) == ("POST", "/openai/v1/chat/completions", "x=1")
    assert first.headers["x-custom"] == "Yes"
    assert first.headers["authorization"] == "Bearer gsk_test_emulator"
    assert json.loads(first.body) == first.json == chat("hi")
    assert first.is_chat and not requests[1].is_chat
    assert requests[1].json is None and requests[1].body == b""
    assert [r.path for r in emu.chat_requests] == ["/openai/v1/chat/completions"]
    assert requests[0].received_at <= requests[1].received_at
    emu.requests.clear()  # a copy
    assert len(emu.requests) == 2
    emu.script(Reply.text("x"))
    emu.reset()
    assert emu.requests == [] and emu.pending == 0


def test_keep_alive_connection_is_reused(emu: Emulator) -> None:
    emu.script(Reply.text("one"), Reply.text("two three", trickle=0.01), Reply.error(429))
    with client(emu) as c:
        assert c.post("/chat/completions", json=chat()).status_code == 200
        with c.stream("POST", "/chat/completions", json=chat(stream=True)) as r:
            assert streamed_text(r.read().decode()) == "two three"
        assert c.post("/chat/completions", json=chat()).status_code == 429
        assert c.get("/models").status_code == 200
    assert emu.total_connections == 1


def test_script_is_fifo_then_falls_back_to_default(emu: Emulator) -> None:
    emu.script(Reply.text("first"), Reply.text("second"))
    with client(emu) as c:
        texts = [
            c.post("/chat/completions", json=chat("echo me")).json()["choices"][0]["message"][
                "content"
            ]
            for _ in range(3)
        ]
    assert texts[:2] == ["first", "second"]
    assert "echo me" in texts[2] and "llama-3.3-70b-versatile" in texts[2]
    emu.set_default(Reply.error(503))
    with client(emu) as c:
        assert [c.post("/chat/completions", json=chat()).status_code for _ in range(2)] == [503] * 2
    emu.set_default(None)
    with client(emu) as c:
        assert c.post("/chat/completions", json=chat()).status_code == 200


# --- Reply.text / tool_calls wire shapes ------------------------------------------------------


def test_text_non_stream_shape_usage_and_headers(emu: Emulator) -> None:
    emu.script(Reply.text("Hello!"))
    with client(emu) as c:
        r = c.post("/chat/completions", json=chat("What is up?"))
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert int(r.headers["content-length"]) == len(r.content)
    body = r.json()
    assert body["object"] == "chat.completion"
    assert re.fullmatch(r"chatcmpl-[0-9a-f-]{36}", body["id"])
    assert body["model"] == "llama-3.3-70b-versatile"
    assert body["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello!"},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["completion_tokens"] == 2  # "Hello", "!"
    assert usage["total_time"] == pytest.approx(usage["prompt_time"] + usage["completion_time"])
    assert usage["queue_time"] > 0
    assert body["system_fingerprint"].startswith("fp_")
    assert body["service_tier"] == "on_demand" and body["usage_breakdown"] is None
    assert re.fullmatch(r"req_01[0-9a-z]{24}", body["x_groq"]["id"])
    assert r.headers["x-request-id"] == body["x_groq"]["id"]
    for kind in ("requests", "tokens"):
        assert int(r.headers[f"x-ratelimit-limit-{kind}"]) >= int(
            r.headers[f"x-ratelimit-remaining-{kind}"]
        )
        assert GO_DURATION.match(r.headers[f"x-ratelimit-reset-{kind}"])


def test_usage_is_deterministic_and_counts_the_prompt() -> None:
    def run() -> list[dict[str, Any]]:
        with Emulator(seed=7) as emu, client(emu) as c:
            return [
                c.post("/chat/completions", json=chat(text)).json()
                for text in ("short", "a much longer prompt with many more words in it", "你好世界")
            ]

    first, second = run(), run()
    assert [b["usage"] for b in first] == [b["usage"] for b in second]
    assert [b["id"] for b in first] == [b["id"] for b in second]
    assert first[1]["usage"]["prompt_tokens"] > first[0]["usage"]["prompt_tokens"]
    assert first[2]["usage"]["prompt_tokens"] == first[0]["usage"]["prompt_tokens"] + 3


def test_text_stream_matches_groq_sequence(emu: Emulator) -> None:
    emu.script(
        Reply.text("The answer is 4.", reasoning="Two plus two.", model="openai/gpt-oss-20b")
    )
    with client(emu) as c, c.stream("POST", "/chat/completions", json=chat(stream=True)) as r:
        assert r.headers["content-type"] == "text/event-stream"
        assert r.headers["transfer-encoding"] == "chunked"
        assert r.headers["cache-control"] == "no-cache"
        raw = r.read().decode()
    events = parse_sse(raw)
    assert events[-1] == (None, "[DONE]")
    data = chunks(raw)
    first, last = data[0], data[-1]
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert set(first["x_groq"]) == {"id", "seed"} and "usage" not in first
    assert {c["id"] for c in data} == {first["id"]}
    assert all(c["object"] == "chat.completion.chunk" for c in data)
    middle = data[1:-1]
    assert all("x_groq" not in c and "usage" not in c for c in middle)
    reasoning = [
        c["choices"][0]["delta"] for c in middle if "reasoning" in c["choices"][0]["delta"]
    ]
    assert all(d["channel"] == "analysis" for d in reasoning)
    assert streamed_text(raw, "reasoning") == "Two plus two."
    assert streamed_text(raw) == "The answer is 4."
    assert [c["choices"][0]["delta"]["content"] for c in middle[len(reasoning) :]] == [
        "The",
        " answer",
        " is",
        " 4",
        ".",
    ]
    assert last["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "stop",
    }
    assert last["usage"] == last["x_groq"]["usage"]
    assert last["usage"]["completion_tokens_details"] == {"reasoning_tokens": 4}
    assert last["model"] == "openai/gpt-oss-20b"


def test_text_chunk_size_and_usage_override(emu: Emulator) -> None:
    emu.script(
        Reply.text("abcdefg", chunk_size=3, usage={"prompt_tokens": 10, "completion_tokens": 5})
    )
    with client(emu) as c:
        raw = c.post("/chat/completions", json=chat(stream=True)).text
    pieces = [c["choices"][0]["delta"].get("content") for c in chunks(raw)[1:-1]]
    assert pieces == ["abc", "def", "g"]
    assert chunks(raw)[-1]["usage"]["total_tokens"] == 15


def test_tool_calls_whole_fragmented_and_non_stream(emu: Emulator) -> None:
    calls = [
        {"name": "get_weather", "arguments": {"city": "Paris"}},
        {"name": "search", "arguments": {"query": "天气"}},
    ]
    emu.script(
        Reply.tool_calls(calls),
        Reply.tool_calls(calls, fragmented=True, fragment_size=4),
        Reply.tool_calls(calls[:1], text="Let me check."),
    )
    with client(emu) as c:
        whole = chunks(c.post("/chat/completions", json=chat(stream=True)).text)
        fragmented = chunks(c.post("/chat/completions", json=chat(stream=True)).text)
        body = c.post("/chat/completions", json=chat()).json()
    deltas = [
        c["choices"][0]["delta"]["tool_calls"]
        for c in whole
        if "tool_calls" in c["choices"][0]["delta"]
    ]
    assert len(deltas) == 2
    assert deltas[0][0]["index"] == 0 and deltas[1][0]["index"] == 1
    assert re.fullmatch(r"fc_[0-9a-f-]{36}", deltas[0][0]["id"])
    assert deltas[0][0]["function"] == {"name": "get_weather", "arguments": '{"city":"Paris"}'}
    assert deltas[1][0]["function"]["arguments"] == '{"query":"天气"}'
    assert whole[-1]["choices"][0]["finish_reason"] == "tool_calls"

    assembled: dict[int, dict[str, str]] = {}
    for chunk in fragmented:
        for tc in chunk["choices"][0]["delta"].get("tool_calls", []):
            slot = assembled.setdefault(tc["index"], {"id": "", "name": "", "arguments": ""})
            slot["id"] = slot["id"] or tc.get("id", "")
            slot["name"] = slot["name"] or tc.get("function", {}).get("name", "")
            slot["arguments"] += tc.get("function", {}).get("arguments", "")
    assert [json.loads(a["arguments"]) for a in assembled.values()] == [
        {"city": "Paris"},
        {"query": "天气"},
    ]
    assert sum("tool_calls" in c["choices"][0]["delta"] for c in fragmented) > 4

    message = body["choices"][0]["message"]
    assert message["content"] == "Let me check."
    assert message["tool_calls"][0]["type"] == "function"
    assert body["choices"][0]["finish_reason"] == "tool_calls"
    emu.script(Reply.tool_calls(calls[:1]))
    with client(emu) as c:
        assert (
            "content"
            not in c.post("/chat/completions", json=chat()).json()["choices"][0]["message"]
        )


# --- errors -----------------------------------------------------------------------------------


def test_error_replies(emu: Emulator) -> None:
    html = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    emu.script(
        Reply.error(429, headers={"retry-after": "1", "retry-after-ms": "250"}),
        Reply.error(400, message="bad", code="tool_use_failed", failed_generation='{"x": 1}'),
        Reply.error(502, body=html),
        Reply.error(498),
        Reply.error(500, body={"detail": "odd"}),
        Reply.error(404),
    )
    with client(emu) as c:
        results = [c.post("/chat/completions", json=chat(model="my-model")) for _ in range(6)]
    r429, r400, r502, r498, r500, r404 = results
    assert r429.status_code == 429
    assert r429.headers["retry-after"] == "1" and r429.headers["retry-after-ms"] == "250"
    error = r429.json()["error"]
    assert (error["type"], error["code"]) == ("tokens", "rate_limit_exceeded")
    assert "my-model" in error["message"] and "Please try again in" in error["message"]
    assert "x-ratelimit-limit-requests" in r429.headers
    assert r400.json() == {
        "error": {
            "message": "bad",
            "type": "invalid_request_error",
            "code": "tool_use_failed",
            "failed_generation": '{"x": 1}',
        }
    }
    assert r502.status_code == 502 and r502.text == html
    assert r502.headers["content-type"].startswith("text/html")
    assert r498.json()["error"]["code"] == "capacity_exceeded"
    assert r500.json() == {"detail": "odd"}
    assert r404.json()["error"]["message"] == (
        "The model `my-model` does not exist or you do not have access to it."
    )


def test_stream_error_event_like_groq(emu: Emulator) -> None:
    emu.script(
        Reply.stream_error(3, message="Tool call validation failed", failed_generation=""),
        Reply.stream_error(0, message="boom", code=None, status_code=503, type="server_error"),
        Reply.stream_error(2, message="nope"),
    )
    with client(emu) as c:
        r = c.post("/chat/completions", json=chat(stream=True))
        first = c.post("/chat/completions", json=chat(stream=True))
        plain = c.post("/chat/completions", json=chat())
    assert r.status_code == 200 and r.headers["content-type"] == "text/event-stream"
    events = parse_sse(r.text)
    assert [e for e, _ in events] == [None, None, None, "error"]
    assert json.loads(events[0][1])["choices"][0]["delta"]["role"] == "assistant"
    assert json.loads(events[-1][1]) == {
        "error": {
            "message": "Tool call validation failed",
            "type": "invalid_request_error",
            "code": "tool_use_failed",
            "failed_generation": "",
            "status_code": 400,
        }
    }
    assert "[DONE]" not in r.text
    assert parse_sse(first.text) == [
        ("error", '{"error":{"message":"boom","type":"server_error","status_code":503}}')
    ]
    assert plain.status_code == 400 and plain.json()["error"]["message"] == "nope"


# --- verbatim replays -------------------------------------------------------------------------

RECORDED = (
    'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m",'
    '"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,'
    '"finish_reason":null}]}\n\n'
    'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m",'
    '"choices":[{"index":0,"delta":{"content":"Hi"},"logprobs":null,"finish_reason":null}]}\n\n'
    "event: error\n"
    'data: {"error":{"message":"m","type":"invalid_request_error","status_code":400}}\n\n'
)


def test_raw_sse_and_file_replays(emu: Emulator, tmp_path: Path) -> None:
    sse_path = tmp_path / "rec.sse"
    sse_path.write_text(RECORDED)
    json_path = tmp_path / "rec.json"
    json_path.write_text(json.dumps({"request": {}, "response": {"status": 404, "body": {"a": 1}}}))
    emu.script(
        Reply.raw(200, b'{"exact": true}'),
        Reply.raw(
            200, [b'data: {"a"', b":1}\n\n", b"data: [DONE]\n\n"], content_type="text/event-stream"
        ),
        Reply.sse([{"x": 1}, ": comment\n\n", "event: ping", "[DONE]"]),
        Reply.sse_file(sse_path),
        Reply.sse_file(sse_path, stall_after=2),
        Reply.json_file(json_path),
        Reply.json({"any": ["json"]}, status=201),
    )
    with client(emu, timeout=httpx.Timeout(5, read=0.5)) as c:
        exact = c.post("/chat/completions", json=chat(stream=True))
        assert (exact.headers["content-type"], exact.content) == (
            "application/json",
            b'{"exact": true}',
        )
        pieces = c.post("/chat/completions", json=chat())
        assert pieces.headers["transfer-encoding"] == "chunked"
        assert pieces.text == 'data: {"a":1}\n\ndata: [DONE]\n\n'
        assert c.post("/chat/completions", json=chat()).text == (
            'data: {"x":1}\n\n: comment\n\nevent: ping\n\ndata: [DONE]\n\n'
        )
        assert c.post("/chat/completions", json=chat(stream=True)).text == RECORDED
        with c.stream("POST", "/chat/completions", json=chat(stream=True)) as r:
            got = ""
            with pytest.raises(httpx.ReadTimeout):
                for text in r.iter_text():
                    got += text
        assert got == "\n\n".join(RECORDED.split("\n\n", 2)[:2]) + "\n\n"
        replay = c.post("/chat/completions", json=chat())
        assert (replay.status_code, replay.json()) == (404, {"a": 1})
        assert c.post("/chat/completions", json=chat()).status_code == 201


# --- fault injection --------------------------------------------------------------------------


def test_delay_before_status_line(emu: Emulator) -> None:
    emu.script(Reply.text("late", delay=30), Reply.text("on time", delay=0.05))
    with client(emu, timeout=httpx.Timeout(5, read=0.3)) as c:
        with pytest.raises(httpx.ReadTimeout):
            c.post("/chat/completions", json=chat())
        assert (
            c.post("/chat/completions", json=chat()).json()["choices"][0]["message"]["content"]
            == "on time"
        )
    wait_until(lambda: emu.active_connections == 0)


def test_extra_and_removed_headers(emu: Emulator) -> None:
    emu.script(
        Reply.text(
            "x",
            headers={
                "X-Should-Retry": "false",
                "x-ratelimit-limit-tokens": "1",
                "x-request-id": None,
            },
        )
    )
    with client(emu) as c:
        r = c.post("/chat/completions", json=chat())
    assert r.headers["x-should-retry"] == "false"
    assert r.headers["x-ratelimit-limit-tokens"] == "1"
    assert "x-request-id" not in r.headers


def test_stall_after_keeps_the_connection_open(emu: Emulator) -> None:
    emu.script(Reply.text("one two three", stall_after=2))
    with client(emu, timeout=httpx.Timeout(5, read=0.4)) as c:
        with c.stream("POST", "/chat/completions", json=chat(stream=True)) as r:
            lines: list[str] = []
            with pytest.raises(httpx.ReadTimeout):
                lines.extend(line for line in r.iter_lines() if line)
    assert len(lines) == 2 and "one" in lines[1]
    wait_until(lambda: emu.active_connections == 0)  # the server noticed the client leaving


def test_stall_with_keepalive_comments(emu: Emulator) -> None:
    emu.script(Reply.text("x", stall_after=0, keepalive=0.02))
    with client(emu) as c, c.stream("POST", "/chat/completions", json=chat(stream=True)) as r:
        seen = 0
        for line in r.iter_lines():
            assert line in (": keep-alive", "")
            seen += line == ": keep-alive"
            if seen == 3:
                break
    wait_until(lambda: emu.active_connections == 0)


def test_trickle_and_keepalive_between_events(emu: Emulator) -> None:
    emu.script(Reply.text("a b", trickle=1.0, keepalive=0.1), Reply.text("a b c", trickle=0.02))
    with client(emu, timeout=httpx.Timeout(5, read=0.5)) as c:
        with c.stream("POST", "/chat/completions", json=chat(stream=True)) as r:
            lines = []
            for line in r.iter_lines():
                lines.append(line)
                if line == ": keep-alive":
                    break  # a keep-alive arrived during the 1 s pause; read timeout never fired
        raw = c.post("/chat/completions", json=chat(stream=True)).text
    assert streamed_text(raw) == "a b c"


def test_disconnect_after_drops_mid_stream(emu: Emulator) -> None:
    emu.script(Reply.text("one two three four", disconnect_after=3), Reply.text("ok"))
    with client(emu) as c:
        with c.stream("POST", "/chat/completions", json=chat(stream=True)) as r:
            lines: list[str] = []
            with pytest.raises(httpx.RemoteProtocolError):
                lines.extend(line for line in r.iter_lines() if line)
        assert len(lines) == 3
        assert c.post("/chat/completions", json=chat()).status_code == 200  # new connection
    assert emu.total_connections == 2


def test_truncated_json_body_and_reset(emu: Emulator) -> None:
    emu.script(
        Reply.text("hello", disconnect_after=10),  # Content-Length promised, 10 bytes sent
        Reply.drop(),
        Reply.drop(reset=True),
        Reply.text("a b c d", stream=True, disconnect_after=2, reset=True),
    )
    with client(emu) as c:
        with pytest.raises(httpx.RemoteProtocolError):
            c.post("/chat/completions", json=chat())
        with pytest.raises(httpx.RemoteProtocolError):
            c.post("/chat/completions", json=chat())
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            c.post("/chat/completions", json=chat())
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            c.post("/chat/completions", json=chat())
    assert len(emu.chat_requests) == 4


def test_malformed_omit_done_and_split_bytes(emu: Emulator) -> None:
    emu.script(
        Reply.text("a b", malformed_after=2),
        Reply.text("a b", omit_done=True),
        Reply.text("你好，世界", split_bytes=1),
        Reply.text("hello", malformed_after=20),
        Reply.text("hello", split_bytes=7, trickle=0.001),
    )
    with client(emu) as c:
        malformed = c.post("/chat/completions", json=chat(stream=True)).text
        no_done = c.post("/chat/completions", json=chat(stream=True)).text
        with c.stream("POST", "/chat/completions", json=chat(stream=True)) as r:
            pieces = list(r.iter_raw())
        truncated = c.post("/chat/completions", json=chat())
        split_json = c.post("/chat/completions", json=chat())
    datas = [d for _, d in parse_sse(malformed)]
    with pytest.raises(json.JSONDecodeError):
        json.loads(datas[2])
    assert [json.loads(d)["choices"][0]["delta"] for d in datas[:2]][1] == {"content": "a"}
    assert datas[-1] == "[DONE]"
    assert "[DONE]" not in no_done and chunks(no_done)[-1]["choices"][0]["finish_reason"] == "stop"
    assert streamed_text(b"".join(pieces).decode()) == "你好，世界"
    assert len(pieces) > 20  # 1-byte writes arrive in many reads
    assert len(truncated.content) == 20 == int(truncated.headers["content-length"])
    with pytest.raises(json.JSONDecodeError):
        truncated.json()
    assert split_json.json()["choices"][0]["message"]["content"] == "hello"


def test_content_type_and_stream_overrides(emu: Emulator) -> None:
    emu.script(
        Reply.text("json anyway", content_type="application/json"),
        Reply.text("html", content_type="text/html"),
        Reply.error(500, content_type="text/plain"),
        Reply.text("sse anyway", stream=True),
    )
    with client(emu) as c:
        as_json = c.post("/chat/completions", json=chat(stream=True))
        html = c.post("/chat/completions", json=chat())
        plain = c.post("/chat/completions", json=chat())
        sse = c.post("/chat/completions", json=chat())
    assert as_json.headers["content-type"] == "application/json"
    assert as_json.json()["object"] == "chat.completion"
    assert (
        html.headers["content-type"] == "text/html" and html.json()["object"] == "chat.completion"
    )
    assert plain.headers["content-type"] == "text/plain" and "error" in plain.json()
    assert sse.headers["content-type"] == "text/event-stream"
    assert streamed_text(sse.text) == "sse anyway"


def test_wire_garbage_and_bad_content_length(emu: Emulator) -> None:
    emu.script(
        Reply.wire(b"HTTP/1.1 2OO OK\r\n\r\n"),
        Reply.raw(200, b"x" * 200, headers={"content-length": "1000"}),
    )
    with client(emu) as c:
        with pytest.raises(httpx.RemoteProtocolError):
            c.post("/chat/completions", json=chat())
        with pytest.raises(httpx.RemoteProtocolError):
            c.post("/chat/completions", json=chat())


def test_handler_and_default_with_faults(emu: Emulator) -> None:
    seen: list[RecordedRequest] = []

    def decide(request: RecordedRequest) -> Reply:
        seen.append(request)
        if request.json["messages"][-1]["content"] == "fail":
            return Reply.error(503)
        return Reply.default(headers={"x-handled": "1"})

    def broken(request: RecordedRequest) -> Reply:
        raise ValueError("handler bug")

    emu.script(
        Reply.handler(decide),
        Reply.handler(decide),
        Reply.handler(broken),
        Reply.default(stall_after=1),
    )
    with client(emu, timeout=httpx.Timeout(5, read=0.4)) as c:
        assert c.post("/chat/completions", json=chat("fail")).status_code == 503
        ok = c.post("/chat/completions", json=chat("你好"))
        assert (
            ok.headers["x-handled"] == "1"
            and "你好" in ok.json()["choices"][0]["message"]["content"]
        )
        bad = c.post("/chat/completions", json=chat())
        assert bad.status_code == 500 and "handler bug" in bad.json()["error"]["message"]
        with pytest.raises(httpx.ReadTimeout):
            c.post("/chat/completions", json=chat(stream=True)).read()
    assert len(seen) == 2 and isinstance(emu.errors[0], ValueError)


def test_stop_does_not_hang_on_stalled_streams() -> None:
    emu = Emulator().start()
    emu.script(*[Reply.text("a b c", stall_after=1, keepalive=0.5) for _ in range(3)])
    errors: list[BaseException] = []
    started = threading.Barrier(4)

    def consume() -> None:
        try:
            with (
                client(emu, timeout=30) as c,
                c.stream("POST", "/chat/completions", json=chat(stream=True)) as r,
            ):
                started.wait(5)
                for _ in r.iter_lines():
                    pass
        except httpx.HTTPError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=consume) for _ in range(3)]
    for t in threads:
        t.start()
    started.wait(5)
    wait_until(lambda: emu.active_connections == 3)
    begun = time.monotonic()
    emu.stop()
    assert time.monotonic() - begun < 5
    for t in threads:
        t.join(5)
        assert not t.is_alive()
    assert len(errors) == 3
    assert all(isinstance(e, (httpx.RemoteProtocolError, httpx.ReadError)) for e in errors)


# --- default responder ------------------------------------------------------------------------


def test_default_text_mentions_model_and_echoes_chinese(emu: Emulator) -> None:
    with client(emu) as c:
        english = c.post("/chat/completions", json=chat("Tell me a joke")).json()
        chinese = c.post("/chat/completions", json=chat("请用一句话介绍你自己", stream=True)).text
    content = english["choices"][0]["message"]["content"]
    assert "llama-3.3-70b-versatile" in content and "Tell me a joke" in content
    text = streamed_text(chinese)
    assert "请用一句话介绍你自己" in text and "模拟器" in text
    pieces = [c["choices"][0]["delta"]["content"] for c in chunks(chinese)[1:-1]]
    assert "请" in pieces  # CJK streams one character per token


def test_default_reasoning_models(emu: Emulator) -> None:
    with client(emu) as c:
        oss = c.post("/chat/completions", json=chat("2+2?", model="openai/gpt-oss-120b")).json()
        hidden = c.post(
            "/chat/completions",
            json=chat("2+2?", model="openai/gpt-oss-120b", reasoning_format="hidden"),
        ).json()
        qwen = c.post("/chat/completions", json=chat("2+2?", model="qwen/qwen3-32b")).json()
        parsed = c.post(
            "/chat/completions",
            json=chat("2+2?", model="qwen/qwen3-32b", reasoning_format="parsed"),
        ).json()
        no_think = c.post(
            "/chat/completions", json=chat("2+2?", model="qwen/qwen3-32b", reasoning_effort="none")
        ).json()
    assert "2+2?" in oss["choices"][0]["message"]["reasoning"]
    assert oss["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0
    assert "reasoning" not in hidden["choices"][0]["message"]
    assert qwen["choices"][0]["message"]["content"].startswith("<think>\n")
    assert "reasoning" in parsed["choices"][0]["message"]
    assert "<think>" not in parsed["choices"][0]["message"]["content"]
    assert "<think>" not in no_think["choices"][0]["message"]["content"]
    assert "reasoning" not in no_think["choices"][0]["message"]


def test_default_tool_call_then_answer_from_tool_result(emu: Emulator) -> None:
    request = chat("What's the weather in San Francisco today?", tools=TOOLS)
    with client(emu) as c:
        first = c.post("/chat/completions", json=request).json()
        call = first["choices"][0]["message"]["tool_calls"][0]
        assert first["choices"][0]["finish_reason"] == "tool_calls"
        assert call["function"]["name"] == "get_weather"
        args = json.loads(call["function"]["arguments"])
        assert args == {"city": "San Francisco", "unit": "celsius"}
        request["messages"] += [
            {"role": "assistant", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": call["id"], "content": "18°C and sunny"},
        ]
        second = c.post("/chat/completions", json=request).json()
        answer = second["choices"][0]["message"]["content"]
        assert "18°C and sunny" in answer and "get_weather" in answer
        assert second["choices"][0]["finish_reason"] == "stop"
        zh = c.post("/chat/completions", json=chat("北京今天天气怎么样？", tools=TOOLS)).json()
        zh_args = json.loads(zh["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"])
        assert zh_args["city"] == "北京"
        named = chat(
            "find cats",
            tools=TOOLS,
            tool_choice={"type": "function", "function": {"name": "search"}},
        )
        found = c.post("/chat/completions", json=named).json()["choices"][0]["message"]
        assert found["tool_calls"][0]["function"] == {
            "name": "search",
            "arguments": '{"query":"find cats"}',
        }
        none = c.post("/chat/completions", json=chat("hi", tools=TOOLS, tool_choice="none")).json()
        assert none["choices"][0]["finish_reason"] == "stop"
        streamed = c.post(
            "/chat/completions", json=chat("weather in Oslo", tools=TOOLS, stream=True)
        )
        tool_chunks = [c for c in chunks(streamed.text) if "tool_calls" in c["choices"][0]["delta"]]
        assert len(tool_chunks) == 1


def test_default_json_modes(emu: Emulator) -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "country": {"type": "string"},
            "population": {"type": "integer"},
            "tags": {"type": "array", "items": {"$ref": "#/$defs/Tag"}},
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        },
        "required": ["city", "country", "population", "tags"],
        "additionalProperties": False,
        "$defs": {
            "Tag": {
                "type": "object",
                "properties": {"label": {"type": "string"}},
                "required": ["label"],
            }
        },
    }
    fmt = {"type": "json_schema", "json_schema": {"name": "City", "schema": schema, "strict": True}}
    with client(emu) as c:
        strict = c.post(
            "/chat/completions", json=chat("Largest city in Mexico?", response_format=fmt)
        ).json()
        loose = c.post(
            "/chat/completions", json=chat("Reply in JSON", response_format={"type": "json_object"})
        ).json()
    value = json.loads(strict["choices"][0]["message"]["content"])
    assert set(value) == {"city", "country", "population", "tags"}
    assert isinstance(value["population"], int) and value["tags"] == [{"label": "example"}]
    assert value["city"] == "Mexico"
    assert isinstance(json.loads(loose["choices"][0]["message"]["content"]), dict)


def test_default_length_cut_and_stop_sequences(emu: Emulator) -> None:
    with client(emu) as c:
        cut = c.post("/chat/completions", json=chat("one two three four five", max_tokens=3)).json()
        streamed = c.post(
            "/chat/completions", json=chat("x", stream=True, max_completion_tokens=2)
        ).text
        oss = c.post(
            "/chat/completions", json=chat("x", model="openai/gpt-oss-20b", max_completion_tokens=5)
        ).json()
        stopped = c.post("/chat/completions", json=chat("Tell me", stop=["emulator"])).json()
    assert cut["choices"][0]["finish_reason"] == "length"
    assert cut["usage"]["completion_tokens"] == 3
    assert cut["choices"][0]["message"]["content"] == "Hello from llama"
    assert chunks(streamed)[-1]["choices"][0]["finish_reason"] == "length"
    assert streamed_text(streamed) == "Hello from"
    assert oss["choices"][0]["message"]["content"] == ""  # the budget went to reasoning
    assert oss["usage"]["completion_tokens"] == 5
    content = stopped["choices"][0]["message"]["content"]
    assert stopped["choices"][0]["finish_reason"] == "stop" and "emulator" not in content
    assert content.endswith("(llmx ")


def test_default_validation_errors(emu: Emulator) -> None:
    with client(emu) as c:
        missing = c.post("/chat/completions", json=chat(model="llama-9-nope"))
        too_many = c.post("/chat/completions", json=chat(max_tokens=10**6))
        n2 = c.post("/chat/completions", json=chat(n=2))
        junk = chat()
        junk["messages"] = [
            {"role": "system", "content": "x", "id": "1"},
            {"role": "user", "content": "y"},
        ]
        foreign = c.post("/chat/completions", json=junk)
        invalid = c.post(
            "/chat/completions", content=b"{not json", headers={"content-type": "application/json"}
        )
        unknown = c.post("/chat/completion", json=chat())
        trailing = c.post("/chat/completions/", json=chat())
        get_chat = c.get("/chat/completions")
    assert missing.status_code == 404
    assert missing.json() == {
        "error": {
            "message": "The model `llama-9-nope` does not exist or you do not have access to it.",
            "type": "invalid_request_error",
            "code": "model_not_found",
        }
    }
    assert too_many.status_code == 400
    assert too_many.json()["error"]["message"].startswith(
        "max_tokens must be less than or equal to 32768"
    )
    assert (n2.status_code, n2.json()["error"]["message"]) == (
        400,
        "'n' : number must be at most 1",
    )
    assert foreign.status_code == 400
    assert foreign.json()["error"]["message"] == (
        "'messages.0' : for 'role:system' the following must be satisfied"
        "[('messages.0' : property 'id' is unsupported, did you mean 'name'?)]"
    )
    assert invalid.status_code == 400 and invalid.json()["error"]["type"] == "invalid_request_error"
    for r in (unknown, trailing, get_chat):
        assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_url"
    assert unknown.json()["error"]["message"].startswith(
        "Unknown request URL: POST /openai/v1/chat/completion. Please check the URL for typos"
    )
    emu.script(Reply.text("scripted"))
    with client(emu) as c:
        assert c.post("/chat/completions", json=chat(n=3)).status_code == 400
    assert emu.pending == 1  # rejected requests do not consume the script


def test_models_endpoints_and_extra_models() -> None:
    with Emulator(models=["my-org/custom-model"]) as emu, client(emu) as c:
        listing = c.get("/models").json()
        ids = [m["id"] for m in listing["data"]]
        one = c.get("/models/openai%2Fgpt-oss-120b").json()
        unencoded = c.get("/models/openai/gpt-oss-120b").json()
        gone = c.get("/models/whatever")
        custom = c.post("/chat/completions", json=chat(model="my-org/custom-model"))
    assert listing["object"] == "list"
    assert {
        "llama-3.3-70b-versatile",
        "llama-3.1-8b-instant",
        "openai/gpt-oss-120b",
        "openai/gpt-oss-20b",
        "qwen/qwen3-32b",
        "meta-llama/llama-4-scout-17b-16e-instruct",
        "groq/compound",
        "groq/compound-mini",
        "my-org/custom-model",
    } == set(ids)
    assert one == unencoded
    assert one == {
        "id": "openai/gpt-oss-120b",
        "object": "model",
        "created": 1754408224,
        "owned_by": "OpenAI",
        "active": True,
        "context_window": 131072,
        "public_apps": None,
        "max_completion_tokens": 65536,
    }
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "model_not_found"
    assert custom.status_code == 200


def test_bad_http_is_answered_not_crashed(emu: Emulator) -> None:
    for raw, status in (
        (b"GARBAGE\r\n\r\n", b"400"),
        (
            b"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            b"411",
        ),
    ):
        with socket.create_connection(("127.0.0.1", emu.port), timeout=5) as sock:
            sock.sendall(raw)
            assert sock.recv(100).split(b" ")[1] == status
    with client(emu) as c:
        assert c.get("/models").status_code == 200


# --- async use and concurrency ----------------------------------------------------------------


@pytest.mark.anyio
async def test_async_context_manager_and_concurrent_streams() -> None:
    async with Emulator() as emu:
        emu.set_default(Reply.text("alpha beta gamma", trickle=0.005))
        limits = httpx.Limits(max_connections=250, max_keepalive_connections=250)
        headers = {"authorization": f"Bearer {emu.api_key}"}
        results: list[str] = []
        async with httpx.AsyncClient(
            base_url=emu.base_url, headers=headers, limits=limits, timeout=30
        ) as c:

            async def one(i: int) -> None:
                async with c.stream(
                    "POST", "/chat/completions", json=chat(f"n{i}", stream=True)
                ) as r:
                    results.append(streamed_text((await r.aread()).decode()))

            async with anyio.create_task_group() as tg:
                for i in range(200):
                    tg.start_soon(one, i)
        assert results == ["alpha beta gamma"] * 200
        assert len(emu.chat_requests) == 200
        assert emu.total_connections > 50  # really concurrent, not serialised on one socket


def test_replies_are_immutable_and_validated() -> None:
    reply = Reply.text("hi", headers={"a": "1"})
    slower = reply.with_faults(delay=1.5, headers={"b": "2"})
    assert reply.faults.delay == 0 and slower.faults.delay == 1.5
    assert slower.faults.headers == (("a", "1"), ("b", "2"))
    with pytest.raises(AttributeError):
        reply.faults = slower.faults  # type: ignore[misc]
    with pytest.raises(TypeError, match="stal"):
        Reply.text("x", stal_after=1)  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        Reply.text("x", split_bytes=0)
    with pytest.raises(TypeError):
        Emulator().script("not a reply")  # type: ignore[arg-type]

"""``AsyncClient(..., http_backend="aiohttp")`` end to end over the emulator's loopback socket:
the same requests, responses, errors, timeouts and limits as on the default httpx backend."""

from __future__ import annotations

import asyncio  # noqa: TID251 - aiohttp runs on asyncio only
import gc
import gzip
import json
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest

import llmx
from llmx import EventType, FinishReason
from llmx._errors import UnexpectedResponseError
from llmx.testing import Emulator, Reply

MODEL = "llama-3.3-70b-versatile"
FAST = llmx.RetryPolicy(initial_backoff=0.01, max_backoff=0.02)
ROLE = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "model": MODEL,
    "choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}],
}


def chunk(content: str | None = None, *, finish: str | None = None) -> dict[str, Any]:
    delta = {} if content is None else {"content": content}
    return {**ROLE, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


EVENTS: list[Any] = [ROLE, chunk("one "), chunk("two"), chunk(None, finish="stop"), "[DONE]"]


@pytest.fixture
def anyio_backend() -> str:
    """aiohttp runs on asyncio only (the trio test asks for trio itself)."""
    return "asyncio"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


def make(emu: Emulator, backend: str = "aiohttp", **kwargs: Any) -> llmx.AsyncClient:
    kwargs.setdefault("retry_policy", FAST)
    return llmx.AsyncClient(
        "groq",
        api_key=emu.api_key,
        base_url=emu.base_url,
        model=MODEL,
        http_backend=backend,
        **kwargs,
    )


def content(response: llmx.Response) -> tuple[Any, ...]:
    """Everything a response says about the completion (not its per-request ids)."""
    calls = [(c.id, c.name, c.arguments, c.raw_arguments) for c in response.tool_calls]
    return (
        response.text,
        response.reasoning,
        calls,
        response.finish_reason,
        response.raw_finish_reason,
        response.usage,
        response.model,
    )


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def eventually(predicate: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await anyio.sleep(0.01)
    return True


# --- 1. requests and responses ---------------------------------------------------------------


@pytest.mark.anyio
async def test_chat_stream_and_list_models(emu: Emulator) -> None:
    usage = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    reply = Reply.text("hello over aiohttp", usage=usage, chunk_size=1)
    emu.script(reply, reply)
    async with make(emu) as client:
        whole = await client.chat("hi")
        async with client.stream("hi") as stream:
            events = [event async for event in stream]
            streamed = await stream.response()
        models = await client.list_models()
    assert whole.text == "hello over aiohttp" and whole.finish_reason is FinishReason.STOP
    assert whole.usage is not None and whole.usage.total_tokens == 10
    assert content(streamed) == content(whole)
    types = [event.type for event in events]
    assert types[0] is EventType.RESPONSE_START and types[-1] is EventType.FINISH
    assert types.count(EventType.FINISH) == 1
    assert types.index(EventType.TEXT_START) < types.index(EventType.TEXT_DELTA)
    assert types.count(EventType.TEXT_DELTA) >= 3  # chunk_size=1: one delta per word
    deltas = "".join(e.delta for e in events if e.type is EventType.TEXT_DELTA)
    assert deltas == "hello over aiohttp"
    assert llmx.accumulate(events).text == streamed.text
    assert {m.id for m in models} >= {MODEL}
    assert [r.path for r in emu.requests] == [
        "/openai/v1/chat/completions", "/openai/v1/chat/completions", "/openai/v1/models"
    ]  # fmt: skip


@pytest.mark.anyio
async def test_streamed_tool_call_arguments_are_reassembled(emu: Emulator) -> None:
    call = {"name": "get_weather", "arguments": {"city": "Paris", "unit": "°C"}, "id": "call_1"}
    emu.script(Reply.tool_calls([call], fragmented=True, fragment_size=3))
    async with make(emu) as client:
        async with client.stream("weather?") as stream:
            events = [event async for event in stream]
            response = await stream.response()
    deltas = [e for e in events if e.type is EventType.TOOL_CALL_DELTA]
    assert len(deltas) > 3  # the arguments really arrived in pieces
    assert response.finish_reason is FinishReason.TOOL_CALLS
    (tool_call,) = response.tool_calls
    assert (tool_call.id, tool_call.name) == ("call_1", "get_weather")
    assert tool_call.arguments == {"city": "Paris", "unit": "°C"}
    assert [e.type for e in events].count(EventType.TOOL_CALL_END) == 1


@pytest.mark.anyio
async def test_requests_carry_the_same_headers_as_on_the_default_backend(emu: Emulator) -> None:
    sent: dict[str, list[dict[str, str]]] = {}
    for backend in ("httpx", "aiohttp"):
        emu.reset()
        emu.set_default(Reply.text("ok"))
        async with make(emu, backend) as client:
            await client.chat("hi")
            await client.list_models()
        sent[backend] = [r.headers for r in emu.requests]
    chat, models = sent["aiohttp"]
    assert sent["aiohttp"] == sent["httpx"]  # chat and list_models, header for header
    assert chat["authorization"] == f"Bearer {emu.api_key}"
    assert chat["content-type"] == "application/json"
    assert chat["accept"] == "application/json"
    assert chat["user-agent"].startswith("llmx/")
    assert "aiohttp" not in chat["user-agent"].lower() and "python" not in chat["user-agent"]
    assert chat["host"] == emu.url.split("//")[1]
    assert int(chat["content-length"]) == len(emu.requests[0].body)
    assert "content-length" not in models and models["user-agent"] == chat["user-agent"]


@pytest.mark.anyio
async def test_connections_are_kept_alive_and_reused(emu: Emulator) -> None:
    emu.set_default(Reply.text("again", chunk_size=1))
    async with make(emu) as client:
        for _ in range(3):
            assert (await client.chat("hi")).text == "again"
            assert (await client.stream("hi").response()).text == "again"
    assert len(emu.chat_requests) == 6 and emu.total_connections == 1


# --- 2. the same answers on both backends ----------------------------------------------------

REPLIES = {
    "text": Reply.text("plain answer", usage={"prompt_tokens": 3, "completion_tokens": 2}),
    "unicode": Reply.text("北京今天晴，25°C 🌤", chunk_size=2),
    "reasoning": Reply.text("42", reasoning="six times seven"),
    "length": Reply.text("cut sh", finish_reason="length"),
    "tools": Reply.tool_calls(
        [
            {"name": "get_weather", "arguments": {"city": "北京"}, "id": "call_a"},
            {"name": "get_time", "arguments": {}, "id": "call_b"},
        ],
        text="checking",
    ),
}


@pytest.mark.anyio
@pytest.mark.parametrize("name", sorted(REPLIES))
async def test_both_backends_give_equal_responses(emu: Emulator, name: str) -> None:
    reply = REPLIES[name]
    results: dict[str, tuple[Any, ...]] = {}
    for backend in ("httpx", "aiohttp"):
        emu.script(reply, reply)
        async with make(emu, backend) as client:
            whole = await client.chat("same question")
            streamed = await client.stream("same question").response()
        assert content(streamed) == content(whole), backend
        results[backend] = content(whole)
    assert results["aiohttp"] == results["httpx"]
    assert emu.pending == 0 and len(emu.chat_requests) == 4


# --- 3. errors, timeouts and limits ----------------------------------------------------------


@pytest.mark.anyio
async def test_rate_limit_with_retry_after_is_retried(emu: Emulator) -> None:
    emu.script(Reply.error(429, headers={"retry-after": "0.2"}), Reply.text("after the wait"))
    async with make(emu) as client:
        assert (await client.chat("hi")).text == "after the wait"
    first, second = emu.requests
    assert "x-llmx-retry-count" not in first.headers
    assert second.headers["x-llmx-retry-count"] == "1"
    assert second.received_at - first.received_at >= 0.19


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "kind"), [(400, llmx.InvalidRequestError), (401, llmx.AuthenticationError)]
)
async def test_client_errors_are_typed_and_not_retried(
    emu: Emulator, status: int, kind: type[llmx.ProviderError]
) -> None:
    emu.set_default(Reply.error(status, message="nope"))
    async with make(emu) as client:
        with pytest.raises(kind) as info:
            await client.chat("hi")
        with pytest.raises(kind) as streamed:
            await client.stream("hi").response()
    assert info.value.status_code == streamed.value.status_code == status
    assert info.value.attempts == 1 and len(emu.requests) == 2
    assert "nope" in str(info.value)


@pytest.mark.anyio
async def test_connection_refused_is_a_connect_error() -> None:
    url = f"http://127.0.0.1:{closed_port()}/openai/v1"
    started = time.monotonic()
    async with llmx.AsyncClient("groq", api_key="k", base_url=url, model=MODEL,
                                http_backend="aiohttp", retry_policy=FAST) as client:  # fmt: skip
        with pytest.raises(llmx.ConnectError) as info:
            await client.chat("hi")
    assert info.value.sent is False and info.value.attempts == 3  # retried: nothing was sent
    assert url.rsplit("/", 2)[0] in str(info.value)
    assert time.monotonic() - started < 10


@pytest.mark.anyio
async def test_dropped_connection_before_the_answer_is_retried(emu: Emulator) -> None:
    emu.script(Reply.drop(reset=True), Reply.text("second try"))
    async with make(emu) as client:
        assert (await client.chat("hi")).text == "second try"
    assert len(emu.requests) == 2


@pytest.mark.anyio
async def test_body_shorter_than_content_length_is_a_connect_error(emu: Emulator) -> None:
    emu.set_default(Reply.raw(200, b'{"id": "x", "choices": [', headers={"content-length": "900"}))
    async with make(emu) as client:
        with pytest.raises(llmx.ConnectError) as info:
            await client.chat("hi")
    assert info.value.sent is True and "broke while reading" in str(info.value)


@pytest.mark.anyio
async def test_disconnect_mid_stream_keeps_the_partial_output(emu: Emulator) -> None:
    emu.set_default(Reply.text("one two three four five six", chunk_size=1, disconnect_after=3))
    async with make(emu) as client:
        stream = client.stream("hi")
        events: list[llmx.Event] = []
        with pytest.raises(llmx.StreamError) as info:
            async for event in stream:
                events.append(event)  # noqa: PERF401 - the list must survive the error
        assert client._transport.in_flight == 0
    partial = info.value.partial
    assert info.value.attempts == 1 and len(emu.requests) == 1  # events arrived: not repeated
    received = "".join(e.delta for e in events if e.type is EventType.TEXT_DELTA)
    assert partial is not None and partial.text == received
    assert partial.text and "one two three".startswith(partial.text)
    assert stream.partial is not None and stream.partial.text == partial.text


@pytest.mark.anyio
async def test_no_response_head_trips_the_read_timeout(emu: Emulator) -> None:
    emu.set_default(Reply.text("late", delay=30))
    started = time.monotonic()
    async with make(emu) as client:
        with pytest.raises(llmx.RequestTimeout) as info:
            await client.chat("hi", timeout=llmx.Timeout(read=0.3))
    assert info.value.phase == "read" and info.value.attempts == 3
    assert len(emu.requests) == 3
    assert time.monotonic() - started < 10


@pytest.mark.anyio
async def test_stalled_stream_trips_first_event_and_idle_timeouts(emu: Emulator) -> None:
    async with make(emu, max_retries=0) as client:
        emu.set_default(Reply.sse(EVENTS, stall_after=0))  # headers, then nothing
        started = time.monotonic()
        with pytest.raises(llmx.RequestTimeout) as info:
            await client.stream("hi", timeout=llmx.Timeout(first_event=0.3)).response()
        assert info.value.phase == "first_event"
        assert time.monotonic() - started < 10
        emu.set_default(Reply.sse(EVENTS, stall_after=2, keepalive=0.05))  # comments only
        started = time.monotonic()
        with pytest.raises(llmx.RequestTimeout) as info:
            await client.stream("hi", timeout=llmx.Timeout(idle=0.3)).response()
        assert info.value.phase == "idle"
        assert info.value.partial is not None and info.value.partial.text == "one "
        assert time.monotonic() - started < 10
        assert client._transport.in_flight == 0
    assert len(emu.requests) == 2


@pytest.mark.anyio
async def test_stalled_body_after_the_head_trips_the_read_timeout(emu: Emulator) -> None:
    body = json.dumps({"id": "c", "object": "chat.completion"}).encode()
    emu.set_default(Reply.raw(200, [body[:10], body[10:]], stall_after=1))
    started = time.monotonic()
    async with make(emu, max_retries=0) as client:
        with pytest.raises(llmx.RequestTimeout) as info:
            await client.chat("hi", timeout=llmx.Timeout(read=0.3))
    assert info.value.phase == "read" and time.monotonic() - started < 10


@pytest.mark.anyio
@pytest.mark.parametrize("stream", [True, False], ids=["stream", "chat"])
async def test_total_timeout_cuts_a_late_head_and_a_trickled_body(
    emu: Emulator, stream: bool
) -> None:
    words = " ".join(f"w{i}" for i in range(400))
    async with make(emu) as client:
        for reply in (Reply.text("late", delay=30), Reply.text(words, split_bytes=1, trickle=0.02)):
            emu.set_default(reply)
            started = time.monotonic()
            with pytest.raises(llmx.RequestTimeout) as info:
                if stream:
                    await client.stream("hi", timeout=llmx.Timeout(total=0.5)).response()
                else:
                    await client.chat("hi", timeout=llmx.Timeout(total=0.5))
            assert info.value.phase == "total" and time.monotonic() - started < 5
            assert client._transport.in_flight == 0
        emu.set_default(Reply.text("still fine"))
        assert (await client.chat("hi")).text == "still fine"


@pytest.fixture
def blackhole() -> Iterator[str]:
    """A base URL whose connects hang: a listener with a full accept queue."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(5):
        filler = socket.socket()
        filler.setblocking(False)
        try:
            filler.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(filler)
    yield f"http://127.0.0.1:{port}/openai/v1"
    for s in [*fillers, server]:
        s.close()


@pytest.mark.anyio
async def test_blackholed_connect_trips_the_connect_timeout(blackhole: str) -> None:
    started = time.monotonic()
    async with llmx.AsyncClient("groq", api_key="k", base_url=blackhole, model=MODEL,
                                http_backend="aiohttp", retry_policy=FAST) as client:  # fmt: skip
        with pytest.raises(llmx.RequestTimeout) as info:
            await client.chat("hi", timeout=llmx.Timeout(connect=0.3))
    assert info.value.phase == "connect" and info.value.attempts == 3
    assert info.value.sent is False and time.monotonic() - started < 10


GARBAGE = {
    "status-line": b"NOT HTTP AT ALL\r\n\r\n",
    "chunked": b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nZZZZ\r\nnot a chunk\r\n",
}


@pytest.mark.anyio
@pytest.mark.parametrize("garbage", sorted(GARBAGE))
async def test_malformed_http_is_a_retried_connect_error(emu: Emulator, garbage: str) -> None:
    emu.script(Reply.wire(GARBAGE[garbage]), Reply.text("ok"))
    async with make(emu) as client:
        assert (await client.chat("hi")).text == "ok"  # mapped, retried
        emu.set_default(Reply.wire(GARBAGE[garbage]))
        with pytest.raises(llmx.ConnectError) as info:
            await client.chat("hi")
        assert info.value.attempts == 3 and client._transport.in_flight == 0
    assert emu.url in str(info.value)  # the failure names the origin


@pytest.mark.anyio
@pytest.mark.parametrize("garbage", sorted(GARBAGE))
async def test_malformed_http_error_names_the_origin_not_the_path(
    emu: Emulator, garbage: str
) -> None:
    emu.set_default(Reply.wire(GARBAGE[garbage]))
    async with make(emu, max_retries=0) as client:
        with pytest.raises(llmx.ConnectError) as info:
            await client.chat("hi")
    assert "/openai/v1" not in str(info.value)


@pytest.mark.anyio
async def test_redirects_are_not_followed_by_default(emu: Emulator) -> None:
    with Emulator(api_key=None) as other:
        emu.set_default(
            Reply.raw(307, b"", headers={"location": other.base_url + "/chat/completions"})
        )
        async with make(emu) as client:
            with pytest.raises(llmx.ProviderError) as info:
                await client.chat("hi")
        assert info.value.status_code == 307 and "not followed" in str(info.value)
        assert other.requests == []


@pytest.mark.anyio
async def test_followed_redirect_drops_credentials(emu: Emulator) -> None:
    with Emulator(api_key=None) as other:
        emu.set_default(
            Reply.raw(307, b"", headers={"location": other.base_url + "/chat/completions"})
        )
        async with make(emu, follow_redirects=True) as client:
            assert (await client.chat("hi")).text  # the other server's default answer
        (request,) = other.requests
    assert "authorization" not in request.headers
    assert request.json is not None and request.json["messages"][0]["content"] == "hi"


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[str]:
    """An HTTPS listener with a self-signed certificate (the handshake fails on verify)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a self-signed certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            raw.settimeout(5)
            try:
                with context.wrap_socket(raw, server_side=True) as conn:
                    conn.recv(65536)
            except (OSError, ssl.SSLError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{port}/openai/v1"
    stop.set()
    thread.join(5)
    listener.close()


@pytest.mark.anyio
async def test_self_signed_certificate_fails_once_and_clearly(tls_server: str) -> None:
    async with llmx.AsyncClient("groq", api_key="k", base_url=tls_server, model=MODEL,
                                http_backend="aiohttp", retry_policy=FAST) as client:  # fmt: skip
        with pytest.raises(llmx.ConnectError) as info:
            await client.chat("hi")
    assert info.value.attempts == 1 and info.value.retryable is False  # not transient
    assert "TLS certificate verification failed" in str(info.value)


def _completion(text: str) -> bytes:
    return json.dumps({
        "id": "chatcmpl-z", "object": "chat.completion", "model": MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "finish_reason": "stop"}],
    }).encode()  # fmt: skip


@pytest.mark.anyio
async def test_gzip_encoded_reply_is_decoded(emu: Emulator) -> None:
    zipped = gzip.compress(_completion("unzipped ✓"))
    emu.set_default(Reply.raw(200, zipped, headers={"content-encoding": "gzip"}))
    async with make(emu) as client:
        response = await client.chat("hi")
    assert response.text == "unzipped ✓" and response.finish_reason is FinishReason.STOP
    assert "gzip" in emu.requests[0].headers["accept-encoding"]


@pytest.mark.anyio
async def test_max_response_bytes_is_enforced(emu: Emulator) -> None:
    big = _completion("x" * (2 * 1024 * 1024))
    async with make(emu, max_response_bytes=1024 * 1024) as client:
        emu.set_default(Reply.raw(200, big))
        with pytest.raises(UnexpectedResponseError) as info:
            await client.chat("hi")
        assert "max_response_bytes" in str(info.value)
        # the limit counts decoded bytes: a small gzip body that inflates past it is refused
        zipped = gzip.compress(big)
        assert len(zipped) < 1024 * 1024
        emu.set_default(Reply.raw(200, zipped, headers={"content-encoding": "gzip"}))
        with pytest.raises(UnexpectedResponseError) as info:
            await client.chat("hi")
        assert "max_response_bytes" in str(info.value)
        emu.set_default(Reply.raw(200, _completion("small")))
        assert (await client.chat("hi")).text == "small"  # the client is still usable
        assert client._transport.in_flight == 0


# --- 4. concurrency ----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_many_concurrent_streams_complete(emu: Emulator) -> None:
    emu.set_default(Reply.text("alpha beta gamma delta", chunk_size=1))
    texts: dict[int, str] = {}
    async with make(emu, max_retries=0) as client:

        async def one(n: int) -> None:
            async with client.stream(f"stream {n}") as stream:
                texts[n] = (await stream.response()).text

        with anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                for n in range(50):
                    group.start_soon(one, n)
        assert client._transport.in_flight == 0
    assert texts == dict.fromkeys(range(50), "alpha beta gamma delta")
    prompts = sorted(r.json["messages"][0]["content"] for r in emu.chat_requests)
    assert prompts == sorted(f"stream {n}" for n in range(50))


@pytest.mark.anyio
async def test_max_connections_is_respected(emu: Emulator) -> None:
    emu.set_default(Reply.text("a b c", chunk_size=1, trickle=0.01))
    peak = 0
    results: list[str] = []
    async with make(emu, max_connections=4, max_retries=0) as client:

        async def one() -> None:
            nonlocal peak
            async with client.stream("hi") as stream:
                async for _ in stream:
                    peak = max(peak, client._transport.in_flight)
                results.append((await stream.response()).text)

        with anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                for _ in range(20):
                    group.start_soon(one)
    assert results == ["a b c"] * 20 and len(emu.chat_requests) == 20
    assert 1 <= peak <= 4 and emu.total_connections <= 4


@pytest.mark.anyio
async def test_cancelling_a_stream_closes_its_connection(emu: Emulator) -> None:
    emu.set_default(Reply.text("one two three four five six", chunk_size=1, trickle=0.05))
    async with make(emu) as client:
        with anyio.CancelScope() as scope:
            async for _event in client.stream("hi"):
                scope.cancel()
        assert scope.cancelled_caught
        await anyio.lowlevel.checkpoint()
        assert client._transport.in_flight == 0
        assert await eventually(lambda: emu.active_connections == 0)  # the server saw it
        emu.set_default(Reply.text("fine"))
        assert (await client.chat("hi")).text == "fine"


@pytest.mark.anyio
async def test_leaving_a_stream_early_releases_its_connection(emu: Emulator) -> None:
    emu.set_default(Reply.text("one two three four five six", chunk_size=1, trickle=0.05))
    async with make(emu) as client:
        async with client.stream("hi") as stream:
            async for event in stream:
                assert event.type is EventType.RESPONSE_START
                break
        assert client._transport.in_flight == 0
        assert await eventually(lambda: emu.active_connections == 0)  # unfinished: closed
        emu.set_default(Reply.text("next"))
        assert (await client.chat("hi")).text == "next"


@pytest.mark.anyio
async def test_idle_connections_follow_the_documented_keepalive_rules(emu: Emulator) -> None:
    """aiohttp caps idle connections only by max_connections (documented); none are kept with
    max_keepalive_connections=0."""
    emu.set_default(Reply.text("a b c", chunk_size=1, trickle=0.05))
    for keepalive, idle in ((2, 8), (0, 0)):
        async with make(emu, max_connections=8, max_keepalive_connections=keepalive) as client:
            before = emu.total_connections
            async with anyio.create_task_group() as group:
                for _ in range(8):
                    group.start_soon(client.chat, "hi")
            assert emu.total_connections - before == 8
            assert await eventually(lambda: emu.active_connections == idle, 2)  # noqa: B023
        assert await eventually(lambda: emu.active_connections == 0, 2)


# --- 5. configuration errors -----------------------------------------------------------------


def test_sync_client_refuses_the_aiohttp_backend(emu: Emulator) -> None:
    with pytest.raises(llmx.ConfigurationError, match="AsyncClient"):
        llmx.Client("groq", api_key=emu.api_key, base_url=emu.base_url, model=MODEL,
                    http_backend="aiohttp")  # fmt: skip
    assert emu.requests == []


@pytest.mark.anyio
async def test_aiohttp_backend_and_an_http_client_are_exclusive(emu: Emulator) -> None:
    async with httpx.AsyncClient() as http_client:
        with pytest.raises(llmx.ConfigurationError, match="http_client|httpx client"):
            make(emu, http_client=http_client)


@pytest.mark.parametrize("anyio_backend", ["trio"])
@pytest.mark.anyio
async def test_first_request_under_trio_says_asyncio_only(emu: Emulator) -> None:
    async with make(emu) as client:
        with pytest.raises(llmx.ConfigurationError, match="asyncio only") as info:
            await client.chat("hi")
        with pytest.raises(llmx.ConfigurationError, match="asyncio only"):
            await client.stream("hi").response()
    assert "http_backend='httpx'" in str(info.value)
    assert emu.requests == []


def test_a_client_is_bound_to_the_event_loop_of_its_first_request(emu: Emulator) -> None:
    emu.set_default(Reply.text("first loop"))
    client = make(emu)

    async def ask() -> str:
        return (await client.chat("hi")).text

    first = asyncio.new_event_loop()  # kept open so the client can be closed in it
    try:
        assert first.run_until_complete(ask()) == "first loop"
        with pytest.raises(llmx.ConfigurationError, match="bound to the event loop"):
            asyncio.run(ask())
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            first.run_until_complete(client.aclose())
            gc.collect()
    finally:
        first.close()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert len(emu.requests) == 1  # the second loop's request was refused before sending


def test_two_asyncio_runs_second_is_refused_and_client_closes_cleanly(emu: Emulator) -> None:
    # without keep-alive no socket outlives the first loop, so the client closes cleanly later
    # (with keep-alive the pooled socket of a finished loop can never be closed: see report)
    emu.set_default(Reply.text("first loop"))
    client = make(emu, max_keepalive_connections=0)

    async def ask() -> str:
        return (await client.chat("hi")).text

    async def ask_then_close() -> None:
        try:
            with pytest.raises(llmx.ConfigurationError, match="one client per event loop"):
                await ask()
        finally:
            await client.aclose()

    assert asyncio.run(ask()) == "first loop"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio.run(ask_then_close())
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert len(emu.requests) == 1


def test_missing_aiohttp_says_how_to_install_it(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "aiohttp", None)
    with pytest.raises(llmx.ConfigurationError) as info:
        make(emu)
    assert "pip install 'llmx-ai[aiohttp]'" in str(info.value)


def test_unknown_backend_is_invalid_input(emu: Emulator) -> None:
    with pytest.raises(llmx.InvalidInputError, match="http_backend"):
        make(emu, backend="curl")


# --- 6. closed clients -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_closed_client_refuses_requests(emu: Emulator) -> None:
    emu.set_default(Reply.text("open"))
    client = make(emu)
    assert (await client.chat("hi")).text == "open"
    await client.aclose()
    with pytest.raises(llmx.TransportError, match="the client is closed") as info:
        await client.chat("hi")
    with pytest.raises(llmx.TransportError, match="the client is closed"):
        await client.stream("hi").response()
    assert info.value.attempts == 1 and len(emu.requests) == 1
    await client.aclose()  # closing twice is fine

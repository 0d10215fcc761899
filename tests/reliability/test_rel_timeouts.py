"""T: timeouts and hangs (reliability.md §4 T1-T7), sync and async, over a loopback socket.

Bounds are generous: they prove that a timeout fired (instead of the 60 s read timeout or a
hang), never how fast.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from reliability_support import MODEL, make_async, make_client, sse_chunk

import llmx
from llmx.testing import Emulator, Reply

pytestmark = pytest.mark.filterwarnings("error")
ROLE = sse_chunk(None) | {
    "choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]
}
EVENTS = [ROLE, sse_chunk("one "), sse_chunk("two"), sse_chunk(None, finish="stop"), "[DONE]"]


def sse_bytes(events: list[Any]) -> bytes:
    return b"".join(
        (e if isinstance(e, str) and e.startswith("data") else
         f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n").encode()
        for e in events
    )  # fmt: skip


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


def test_T1_no_response_head_times_out_and_is_retried(emu: Emulator) -> None:
    emu.set_default(Reply.text("late", delay=60))
    with make_client(emu) as client, pytest.raises(llmx.RequestTimeout) as info:
        client.chat("hi", timeout=llmx.Timeout(read=0.3))
    assert info.value.phase == "read" and info.value.attempts == 3
    assert len(emu.requests) == 3


def test_T1_the_whole_call_stays_within_the_total_timeout(emu: Emulator) -> None:
    emu.set_default(Reply.text("late", delay=60))
    started = time.monotonic()
    with make_client(emu) as client, pytest.raises(llmx.RequestTimeout):
        client.chat("hi", timeout=llmx.Timeout(read=0.3, total=0.8))
    assert time.monotonic() - started < 0.8 + 1.0


@pytest.mark.anyio
async def test_T1_async_no_response_head_times_out(emu: Emulator) -> None:
    emu.set_default(Reply.text("late", delay=60))
    async with make_async(emu) as client:
        with pytest.raises(llmx.RequestTimeout) as info:
            await client.chat("hi", timeout=llmx.Timeout(read=0.3))
        assert info.value.attempts == 3
        with pytest.raises(llmx.RequestTimeout) as info:
            await client.stream("hi", timeout=llmx.Timeout(first_event=0.3)).response()
        assert info.value.phase == "first_event"


def test_T2_blackholed_connect_times_out_and_is_retried(blackhole: str) -> None:
    client = llmx.Client("groq", api_key="k", base_url=blackhole, model=MODEL,
                         retry_policy=llmx.RetryPolicy(initial_backoff=0.01))  # fmt: skip
    with client, pytest.raises(llmx.RequestTimeout) as info:
        client.chat("hi", timeout=llmx.Timeout(connect=0.3))
    assert info.value.phase == "connect" and info.value.attempts == 3
    assert info.value.sent is False


def test_T3_first_event_timeout_after_headers(emu: Emulator) -> None:
    emu.set_default(Reply.sse(EVENTS, stall_after=0))  # headers, then nothing
    started = time.monotonic()
    with make_client(emu, max_retries=0) as client, pytest.raises(llmx.RequestTimeout) as info:
        list(client.stream("hi", timeout=llmx.Timeout(first_event=0.5, idle=5)))
    assert info.value.phase == "first_event"
    assert 0.45 <= time.monotonic() - started < 10


@pytest.mark.anyio
async def test_T3_first_event_may_take_longer_than_the_idle_window(emu: Emulator) -> None:
    reply = Reply.sse([": thinking\n\n", sse_bytes(EVENTS)], trickle=0.6)
    emu.set_default(reply)
    patient = llmx.Timeout(first_event=3.0, idle=0.3)
    async with make_async(emu, max_retries=0) as client:
        assert (await client.stream("hi", timeout=patient).response()).text == "one two"
        emu.set_default(Reply.sse(EVENTS, stall_after=0))
        with pytest.raises(llmx.RequestTimeout) as info:
            await client.stream("hi", timeout=llmx.Timeout(first_event=0.4)).response()
        assert info.value.phase == "first_event"
    with make_client(emu, max_retries=0) as sync_client:
        emu.set_default(reply)
        assert sync_client.stream("hi", timeout=patient).response().text == "one two"


def test_T4_keepalive_comments_do_not_keep_a_dead_stream_alive(emu: Emulator) -> None:
    emu.set_default(Reply.sse(EVENTS, stall_after=2, keepalive=0.1))
    with make_client(emu) as client, pytest.raises(llmx.RequestTimeout) as info:
        list(client.stream("hi", timeout=llmx.Timeout(idle=0.6)))
    assert info.value.phase == "idle" and len(emu.requests) == 1
    assert info.value.partial is not None and info.value.partial.text == "one "


@pytest.mark.anyio
async def test_T4_async_keepalives_and_silence(emu: Emulator) -> None:
    async with make_async(emu, max_retries=0) as client:
        for faults in ({"keepalive": 0.1}, {}):  # comments, then plain silence
            emu.set_default(Reply.sse(EVENTS, stall_after=2, **faults))  # type: ignore[arg-type]
            with pytest.raises(llmx.RequestTimeout) as info:
                await client.stream("hi", timeout=llmx.Timeout(idle=0.5)).response()
            assert info.value.phase == "idle"


def test_T4_sync_silence_after_the_first_event(emu: Emulator) -> None:
    emu.set_default(Reply.sse(EVENTS, stall_after=2))  # no bytes at all: the watchdog acts
    started = time.monotonic()
    with make_client(emu) as client, pytest.raises(llmx.RequestTimeout) as info:
        list(client.stream("hi", timeout=llmx.Timeout(idle=0.5)))
    assert info.value.phase == "idle" and time.monotonic() - started < 10


LONG = " ".join(f"w{i}" for i in range(400))


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "chat"])
def test_T5_trickled_body_hits_the_total_timeout(emu: Emulator, stream: bool) -> None:
    emu.set_default(Reply.text(LONG, split_bytes=1, trickle=0.02))
    started = time.monotonic()
    with make_client(emu) as client, pytest.raises(llmx.RequestTimeout) as info:
        if stream:
            list(client.stream("hi", timeout=llmx.Timeout(total=0.8)))
        else:
            client.chat("hi", timeout=llmx.Timeout(total=0.8))
    assert info.value.phase == "total"
    assert 0.75 <= time.monotonic() - started < 5


@pytest.mark.anyio
@pytest.mark.parametrize("stream", [True, False], ids=["stream", "chat"])
async def test_T5_async_trickled_body_hits_the_total_timeout(emu: Emulator, stream: bool) -> None:
    emu.set_default(Reply.text(LONG, split_bytes=1, trickle=0.02))
    async with make_async(emu) as client:
        with pytest.raises(llmx.RequestTimeout) as info:
            if stream:
                await client.stream("hi", timeout=llmx.Timeout(total=0.8)).response()
            else:
                await client.chat("hi", timeout=llmx.Timeout(total=0.8))
        assert info.value.phase == "total"


def test_T6_retries_stop_when_the_next_wait_would_pass_the_deadline(emu: Emulator) -> None:
    emu.set_default(Reply.error(429, headers={"retry-after": "0.4"}))
    policy = llmx.RetryPolicy(max_retries=10)
    started = time.monotonic()
    with make_client(emu, retry_policy=policy) as client:
        with pytest.raises(llmx.RateLimitError) as info:
            client.chat("hi", timeout=llmx.Timeout(total=1.0))
    assert time.monotonic() - started < 1.0 + 0.5
    assert info.value.attempts == len(emu.requests) == 3
    assert "would pass the total timeout" in str(info.value)


def test_T7_total_timeout_shorter_than_connect_timeout_wins(blackhole: str) -> None:
    started = time.monotonic()
    with llmx.Client("groq", api_key="k", base_url=blackhole, model=MODEL) as client:
        with pytest.raises(llmx.RequestTimeout):
            client.chat("hi", timeout=llmx.Timeout(connect=5.0, total=0.5))
    assert time.monotonic() - started < 3.0

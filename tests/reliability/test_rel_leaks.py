"""L: resource leaks (reliability.md §4 L1-L3): thousands of streams opened and abandoned,
clients created and dropped, every error path; checked with /proc/self/fd, httpx's pool and
the emulator's connection count."""

from __future__ import annotations

import contextlib
import gc
import warnings
from typing import Any

import anyio
import pytest
from reliability_support import (
    assert_released,
    eventually,
    make_async,
    make_client,
    open_fds,
    wait_until,
)

import llmx
from llmx.testing import Emulator, Reply

WORDS = Reply.text("alpha beta gamma delta epsilon", chunk_size=1)


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0  # pragma: no cover


def test_L1_thousands_of_sync_streams_half_abandoned(emu: Emulator) -> None:
    emu.set_default(WORDS)
    with make_client(emu) as client:
        for _ in range(50):  # warm up: imports, caches, the first connections
            client.stream("hi").response()
        fds, rss = open_fds(), rss_mb()
        for n in range(4000):
            stream = client.stream("hi")
            if n % 2:
                next(stream)  # abandoned after one event, dropped without close()
            else:
                for _ in stream:
                    pass
            del stream
        assert_released(client, emu)
        assert open_fds() <= fds + 2
        assert rss_mb() - rss < 20
    assert wait_until(lambda: emu.active_connections == 0)


@pytest.mark.anyio
async def test_L1_thousands_of_async_streams_half_abandoned(emu: Emulator) -> None:
    emu.set_default(WORDS)
    async with make_async(emu) as client:
        await client.stream("hi").response()
        fds = open_fds()
        for n in range(1500):
            async with client.stream("hi") as stream:
                async for _ in stream:
                    if n % 2:
                        break
        assert_released(client, emu)
        assert open_fds() <= fds + 2


@pytest.mark.anyio
async def test_L1_streams_dropped_without_closing_are_collected(
    emu: Emulator, anyio_backend: str
) -> None:
    emu.set_default(WORDS)
    # trio additionally says so: a ResourceWarning per async generator dropped unfinished
    dropped = (
        pytest.warns(ResourceWarning, match="garbage collected before it had been exhausted")
        if anyio_backend == "trio"
        else contextlib.nullcontext()
    )
    async with make_async(emu) as client:
        fds = open_fds()
        with dropped:
            for _ in range(300):
                stream = client.stream("hi")
                await stream.__anext__()
                del stream
            gc.collect()
        assert await eventually(lambda: client._transport.in_flight == 0)
        assert_released(client, emu)
        assert open_fds() <= fds + 2


def test_L2_clients_created_and_closed_leave_nothing(emu: Emulator) -> None:
    with make_client(emu) as warm:
        warm.chat("hi")
    fds, rss = open_fds(), rss_mb()
    for n in range(1000):
        with make_client(emu) as client:
            if n % 50 == 0:
                client.chat("hi")
    gc.collect()
    assert open_fds() <= fds + 2
    assert rss_mb() - rss < 20


def test_L2_an_unclosed_client_with_a_connection_warns(emu: Emulator) -> None:
    client = make_client(emu)
    client.chat("hi")
    with pytest.warns(ResourceWarning, match="unclosed"):
        del client
        gc.collect()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        closed = make_client(emu)
        closed.chat("hi")
        closed.close()
        del closed
        gc.collect()


ERRORS: dict[str, Any] = {
    "429": Reply.error(429),
    "500": Reply.error(500),
    "html-502": Reply.error(502, body="<html>Bad Gateway</html>"),
    "malformed": Reply.text("a b c d", chunk_size=1, malformed_after=2),
    "error-event": Reply.stream_error(2),
    "disconnect": Reply.text("a b c d", chunk_size=1, disconnect_after=2),
    "wrong-type": Reply.raw(200, [b"hello"], content_type="text/plain"),
    "stall": Reply.text("a b c d", chunk_size=1, stall_after=2),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_L3_every_error_path_closes_the_response(emu: Emulator, name: str) -> None:
    emu.set_default(ERRORS[name])
    timeout = llmx.Timeout(idle=0.3)
    with make_client(emu, max_retries=0) as client:
        for _ in range(3):
            with pytest.raises(llmx.LLMXError):
                list(client.stream("hi", timeout=timeout))
            if name not in ("malformed", "error-event", "disconnect", "wrong-type", "stall"):
                with pytest.raises(llmx.LLMXError):
                    client.chat("hi", timeout=timeout)
        assert_released(client, emu)


@pytest.mark.anyio
@pytest.mark.parametrize("name", list(ERRORS))
async def test_L3_async_error_paths_and_cancellation_close_the_response(
    emu: Emulator, name: str
) -> None:
    emu.set_default(ERRORS[name])
    timeout = llmx.Timeout(idle=0.3)
    async with make_async(emu, max_retries=0) as client:
        with pytest.raises(llmx.LLMXError):
            await client.stream("hi", timeout=timeout).response()
        emu.set_default(Reply.text("a b c d e f", chunk_size=1, trickle=0.05))
        with anyio.move_on_after(0.12):
            await client.stream("hi").response()
        assert_released(client, emu)

"""P: concurrency and cancellation (reliability.md §4 P1-P7), and the brief's load targets:
500 concurrent streams on one AsyncClient, one Client shared by 32 threads."""

from __future__ import annotations

import gc
import threading
import time

import anyio
import anyio.lowlevel
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

pytestmark = pytest.mark.anyio
SLOW = Reply.text("one two three four five six seven eight", chunk_size=1, trickle=0.05)


async def test_P1_500_concurrent_streams_on_one_async_client(emu: Emulator) -> None:
    emu.set_default(Reply.text("alpha beta gamma delta", chunk_size=1))
    fds = open_fds()
    texts: list[str] = []
    async with make_async(emu, max_retries=0) as client:

        async def one(n: int) -> None:
            async with client.stream(f"stream {n}") as stream:
                texts.append((await stream.response()).text)

        with anyio.fail_after(60):
            async with anyio.create_task_group() as group:
                for n in range(500):
                    group.start_soon(one, n)
        assert texts == ["alpha beta gamma delta"] * 500
        assert_released(client, emu)
    assert wait_until(lambda: emu.active_connections == 0)
    assert open_fds() <= fds + 2


async def test_P1_pool_limit_is_respected_and_waiting_is_not_an_error(emu: Emulator) -> None:
    emu.set_default(Reply.text("a b c", chunk_size=1, trickle=0.01))
    peak = 0
    async with make_async(emu, max_connections=10, max_keepalive_connections=10) as client:

        async def one() -> None:
            nonlocal peak
            async with client.stream("hi") as stream:
                async for _ in stream:
                    peak = max(peak, client._transport.in_flight)

        async with anyio.create_task_group() as group:
            for _ in range(200):
                group.start_soon(one)
    assert peak <= 10 and emu.total_connections <= 10
    assert len(emu.chat_requests) == 200


async def test_P1_pool_timeout_is_typed_and_distinct(emu: Emulator) -> None:
    emu.set_default(Reply.text("a b", stall_after=1))
    async with make_async(emu, max_connections=1) as client:
        async with client.stream("hi") as holder:
            await holder.__anext__()  # holds the only connection
            with pytest.raises(llmx.RequestTimeout) as info:
                await client.chat("hi", timeout=llmx.Timeout(read=0.3))
    assert info.value.phase == "pool" and info.value.attempts == 1


async def test_P2_cancelling_the_consumer_closes_the_connection(emu: Emulator) -> None:
    emu.set_default(SLOW)
    async with make_async(emu) as client:
        with anyio.CancelScope() as scope:
            async for _event in client.stream("hi"):
                scope.cancel()  # the cancellation arrives at the next await
        assert scope.cancelled_caught  # propagated as a cancellation, not wrapped
        await anyio.lowlevel.checkpoint()
        assert client._transport.in_flight == 0
        assert await eventually(lambda: emu.active_connections == 0, 2)  # the server saw it
        assert_released(client, emu)


async def test_P3_double_cancellation_leaks_nothing(emu: Emulator) -> None:
    emu.set_default(SLOW)
    async with make_async(emu, max_connections=10) as client:
        scopes = [anyio.CancelScope() for _ in range(20)]
        started = anyio.Event()
        count = 0

        async def consume(scope: anyio.CancelScope) -> None:
            nonlocal count
            with scope:
                async with client.stream("hi") as stream:
                    async for _ in stream:
                        count += 1
                        if count >= 10:
                            started.set()

        async with anyio.create_task_group() as group:
            for scope in scopes:
                group.start_soon(consume, scope)
            await started.wait()
            for scope in scopes:
                scope.cancel()
                await anyio.lowlevel.checkpoint()
                scope.cancel()
        assert_released(client, emu)
        emu.set_default(Reply.text("fine"))
        with anyio.fail_after(5):
            assert (await client.chat("hi")).text == "fine"


async def test_P4_cancel_during_backoff_stops_retrying(emu: Emulator) -> None:
    emu.set_default(Reply.error(503, headers={"retry-after": "5"}))
    async with make_async(emu) as client:
        with anyio.move_on_after(0.5) as scope:
            await client.chat("hi")
        assert scope.cancelled_caught
        await anyio.sleep(0.2)
    assert len(emu.requests) == 1


async def test_P5_the_event_loop_keeps_running(emu: Emulator) -> None:
    gaps: list[float] = []
    big = "x" * (4 * 1024 * 1024)
    emu.script(Reply.error(503, headers={"retry-after": "1.2"}), Reply.text(big))
    async with make_async(emu) as client:

        async def ticker() -> None:
            last = time.monotonic()
            while True:
                await anyio.sleep(0.01)
                now = time.monotonic()
                gaps.append(now - last)
                last = now

        async with anyio.create_task_group() as group:
            group.start_soon(ticker)
            response = await client.stream("hi").response()
            group.cancel_scope.cancel()
    assert response.text == big
    assert max(gaps) < 1.0  # a blocking 1.2 s sleep in the retry would show here


def test_P6_one_client_shared_by_32_threads(emu: Emulator) -> None:
    errors: list[BaseException] = []
    mixed: list[str] = []
    with make_client(emu, max_connections=8, max_keepalive_connections=8) as client:

        def work(n: int) -> None:
            try:
                for i in range(4):
                    prompt = f"thread {n} call {i}"
                    if i % 2:
                        text = client.stream(prompt).response().text
                    else:
                        text = client.chat(prompt).text
                    if prompt not in text:
                        mixed.append(text)
            except BaseException as exc:  # collected for the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(32)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not any(t.is_alive() for t in threads)
        assert errors == [] and mixed == []
        assert emu.total_connections <= 8
        assert_released(client, emu)


def test_P7_sync_break_without_a_context_manager(emu: Emulator) -> None:
    emu.set_default(SLOW)
    with make_client(emu) as client:
        stream = client.stream("hi")
        for _ in stream:
            break
        assert client._transport.in_flight == 1
        del stream  # no cycle: collected (and closed) at once
        assert client._transport.in_flight == 0
        with client.stream("hi") as stream:
            next(stream)
        assert client._transport.in_flight == 0
        assert_released(client, emu)


@pytest.mark.filterwarnings("ignore::ResourceWarning")  # trio: "garbage collected before ..."
async def test_P7_async_break_without_a_context_manager(emu: Emulator) -> None:
    emu.set_default(SLOW)
    async with make_async(emu) as client:
        stream = client.stream("hi")
        async for _ in stream:
            break
        assert client._transport.in_flight == 1
        del stream
        gc.collect()
        # the event loop's async-generator finalizer closes it
        assert await eventually(lambda: client._transport.in_flight == 0, 2)
        async with client.stream("hi") as stream:
            await stream.__anext__()
        assert client._transport.in_flight == 0
        assert_released(client, emu)

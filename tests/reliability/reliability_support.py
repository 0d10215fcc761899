"""Helpers for the fault-injection suite: clients aimed at a loopback emulator holding a canary
key, and checks that nothing was left open.

Case ids (H1, S7, ...) are those of reliability.md section 4; ``test_rel_cases.py`` checks that
every one of the 86 is a test here or a documented "not applicable" line in
docs/guarantees.md.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import anyio

import llmx
from llmx.testing import Emulator

CANARY = "gsk_CANARY0123456789abcdef"
MODEL = "llama-3.3-70b-versatile"
FAST = llmx.RetryPolicy(initial_backoff=0.01, max_backoff=0.02)
"""Default retry rules with near-zero backoff, for tests where the wait is not the point."""


def make_client(emu: Emulator, **kwargs: Any) -> llmx.Client:
    kwargs.setdefault("retry_policy", FAST)
    return llmx.Client("groq", api_key=CANARY, base_url=emu.base_url, model=MODEL, **kwargs)


def make_async(emu: Emulator, **kwargs: Any) -> llmx.AsyncClient:
    kwargs.setdefault("retry_policy", FAST)
    return llmx.AsyncClient("groq", api_key=CANARY, base_url=emu.base_url, model=MODEL, **kwargs)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def assert_released(client: llmx.Client | llmx.AsyncClient, emu: Emulator | None = None) -> None:
    """No response is open: no slot taken, no busy pooled connection, and (given the
    emulator) no connection of the server still busy with a response we abandoned."""
    transport = client._transport
    assert transport.in_flight == 0
    pool = transport.pool_connections()
    assert pool is not None and pool[1] == 0, pool
    if emu is not None:
        idle = pool[0]  # kept-alive connections are open on both sides, and that is fine
        assert wait_until(lambda: emu.active_connections <= idle), (emu.active_connections, idle)


def sse_chunk(content: str | None = None, *, finish: str | None = None, **extra: Any) -> Any:
    """One chat.completion.chunk as a mapping for ``Reply.sse``."""
    delta: dict[str, Any] = {} if content is None else {"content": content}
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "model": MODEL,
        "choices": [choice],
        **extra,
    }


def retry_delays(records: list[Any]) -> list[float]:
    """The backoff delays llmx logged (logger "llmx" at DEBUG), in order."""
    return [float(r.args[-1]) for r in records if r.name == "llmx" and "retrying in" in r.msg]


async def eventually(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Async ``wait_until``: poll ``predicate`` while letting the event loop run."""
    for _ in range(int(timeout / 0.01)):
        if predicate():
            return True
        await anyio.sleep(0.01)
    return predicate()

"""One client's workloads, run in a fresh process: ``python -m benchmarks._clients CLIENT MODE``.

MODE ``sync`` or ``async`` runs, in order: sequential non-streaming requests, (async only) 200
requests in flight, one long text stream, time to first text delta, and a long streamed tool
call. MODE ``concurrent`` runs only the concurrent-streams workload, alone in its process, so its
peak RSS is its own. Every response that is timed is checked against ``_wire``; a wrong one
raises ``ValidationError`` and the process exits with status 3.

The result is one JSON object on the last line of stdout. This module imports only the standard
library at the top: each client's library is imported when that client is chosen (the peers'
venv has no llmx, the project venv no SDKs).
"""

from __future__ import annotations

import argparse
import asyncio  # noqa: TID251 - the SDKs under test are asyncio-based
import gc
import json
import resource
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from importlib import metadata
from typing import Any

from . import _wire
from ._wire import API_KEY, MODEL, PROMPT, TOOL_NAME, ValidationError, check_arguments, check_text

perf = time.perf_counter
cpu = time.process_time

# -- the clients ---------------------------------------------------------------------------------
# Each has chat(n) -> text, stream_text(n) -> (time of first delta, deltas) and
# stream_tool(n) -> (name, arguments, fragment count); the async ones the same, awaited.


class LlmxClient:
    libraries = ("llmx-ai", "httpx", "httpcore", "h11", "pydantic", "anyio", "sniffio")
    options: dict[str, Any] = {}

    def __init__(self, host: str, *, is_async: bool) -> None:
        import llmx

        self.llmx = llmx
        cls = llmx.AsyncClient if is_async else llmx.Client
        self.client = cls(
            "groq", api_key=API_KEY, model=MODEL, base_url=host + "/openai/v1", **self.options
        )
        self.delta = llmx.EventType.TEXT_DELTA
        self.tool_delta = llmx.EventType.TOOL_CALL_DELTA
        self.tools = [
            llmx.Tool(
                name=TOOL_NAME,
                description=_wire.TOOL_DESCRIPTION,
                parameters=_wire.TOOL_PARAMETERS,
            )
        ]

    def chat(self, n: int) -> str:
        return self.client.chat(PROMPT, max_tokens=n).text

    def stream_text(self, n: int) -> tuple[float, list[str]]:
        pieces: list[str] = []
        first = 0.0
        delta = self.delta
        with self.client.stream(PROMPT, max_tokens=n) as s:
            for event in s:
                if event.type is delta:
                    if not pieces:
                        first = perf()
                    pieces.append(event.delta)
            text = s.response().text
        check_text("llmx Response.text", n, None, text)
        return first, pieces

    def stream_tool(self, n: int) -> tuple[str, str, int]:
        delta = self.tool_delta
        with self.client.stream(PROMPT, max_tokens=n, tools=self.tools) as s:
            pieces = [event.arguments_delta for event in s if event.type is delta]
            response = s.response()
        return self._tool_result(n, response, pieces)

    def _tool_result(self, n: int, response: Any, pieces: list[str]) -> tuple[str, str, int]:
        calls = response.tool_calls
        if len(calls) != 1:
            raise ValidationError(f"llmx: expected one tool call, got {len(calls)}")
        call = calls[0]
        arguments = "".join(pieces)
        check_arguments("llmx ToolCall.raw_arguments", n, call.name, call.raw_arguments, n)
        if call.arguments != {"values": _wire.expected_values(n)}:
            raise ValidationError("llmx: ToolCall.arguments is not the expected object")
        return call.name, arguments, len([p for p in pieces if p])

    # async
    async def achat(self, n: int) -> str:
        return (await self.client.chat(PROMPT, max_tokens=n)).text

    async def astream_text(self, n: int) -> tuple[float, list[str]]:
        pieces: list[str] = []
        first = 0.0
        delta = self.delta
        async with self.client.stream(PROMPT, max_tokens=n) as s:
            async for event in s:
                if event.type is delta:
                    if not pieces:
                        first = perf()
                    pieces.append(event.delta)
            text = (await s.response()).text
        check_text("llmx Response.text", n, None, text)
        return first, pieces

    async def aclose(self) -> None:
        await self.client.aclose()

    async def astream_tool(self, n: int) -> tuple[str, str, int]:
        delta = self.tool_delta
        async with self.client.stream(PROMPT, max_tokens=n, tools=self.tools) as s:
            pieces = [event.arguments_delta async for event in s if event.type is delta]
            response = await s.response()
        return self._tool_result(n, response, pieces)


class LlmxAiohttpClient(LlmxClient):
    """llmx's AsyncClient on its aiohttp backend (``http_backend="aiohttp"``)."""

    libraries = ("llmx-ai", "aiohttp", "httpx", "pydantic")
    options = {"http_backend": "aiohttp"}


class HttpxClient:
    """The floor llmx is held to: httpx, ``iter_lines`` and ``json.loads``, nothing else."""

    libraries = ("httpx", "httpcore", "h11", "anyio", "sniffio")

    def __init__(self, host: str, *, is_async: bool) -> None:
        import httpx

        cls = httpx.AsyncClient if is_async else httpx.Client
        self.client = cls(headers={"authorization": f"Bearer {API_KEY}"})
        self.url = host + "/openai/v1/chat/completions"
        self.headers = {"content-type": "application/json"}

    @staticmethod
    def _body(n: int, *, stream: bool, tool: bool = False) -> bytes:
        return json.dumps(_wire.request_body(n, stream=stream, tool=tool)).encode()

    def chat(self, n: int) -> str:
        r = self.client.post(self.url, content=self._body(n, stream=False), headers=self.headers)
        if r.status_code != 200:
            raise ValidationError(f"httpx: HTTP {r.status_code}")
        return json.loads(r.content)["choices"][0]["message"]["content"]  # type: ignore[no-any-return]

    def stream_text(self, n: int) -> tuple[float, list[str]]:
        pieces: list[str] = []
        first = 0.0
        body = self._body(n, stream=True)
        with self.client.stream("POST", self.url, content=body, headers=self.headers) as r:
            if r.status_code != 200:
                raise ValidationError(f"httpx: HTTP {r.status_code}")
            for line in r.iter_lines():
                if line.startswith("data: "):
                    data = line[6:]
                    if data == "[DONE]":
                        continue  # read to the end: an unread body costs the connection
                    choices = json.loads(data)["choices"]
                    if choices:
                        content = choices[0]["delta"].get("content")
                        if content:
                            if not pieces:
                                first = perf()
                            pieces.append(content)
        return first, pieces

    def stream_tool(self, n: int) -> tuple[str, str, int]:
        pieces: list[str] = []
        name = ""
        body = self._body(n, stream=True, tool=True)
        with self.client.stream("POST", self.url, content=body, headers=self.headers) as r:
            if r.status_code != 200:
                raise ValidationError(f"httpx: HTTP {r.status_code}")
            for line in r.iter_lines():
                if line.startswith("data: "):
                    data = line[6:]
                    if data == "[DONE]":
                        continue  # read to the end: an unread body costs the connection
                    choices = json.loads(data)["choices"]
                    if choices:
                        calls = choices[0]["delta"].get("tool_calls")
                        if calls:
                            function = calls[0]["function"]
                            name = function.get("name") or name
                            if function.get("arguments"):
                                pieces.append(function["arguments"])
        return name, "".join(pieces), len(pieces)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def achat(self, n: int) -> str:
        body = self._body(n, stream=False)
        r = await self.client.post(self.url, content=body, headers=self.headers)
        if r.status_code != 200:
            raise ValidationError(f"httpx: HTTP {r.status_code}")
        return json.loads(r.content)["choices"][0]["message"]["content"]  # type: ignore[no-any-return]

    async def astream_text(self, n: int) -> tuple[float, list[str]]:
        pieces: list[str] = []
        first = 0.0
        body = self._body(n, stream=True)
        async with self.client.stream("POST", self.url, content=body, headers=self.headers) as r:
            if r.status_code != 200:
                raise ValidationError(f"httpx: HTTP {r.status_code}")
            async for line in r.aiter_lines():
                if line.startswith("data: "):
                    data = line[6:]
                    if data == "[DONE]":
                        continue  # read to the end: an unread body costs the connection
                    choices = json.loads(data)["choices"]
                    if choices:
                        content = choices[0]["delta"].get("content")
                        if content:
                            if not pieces:
                                first = perf()
                            pieces.append(content)
        return first, pieces

    async def astream_tool(self, n: int) -> tuple[str, str, int]:
        pieces: list[str] = []
        name = ""
        body = self._body(n, stream=True, tool=True)
        async with self.client.stream("POST", self.url, content=body, headers=self.headers) as r:
            if r.status_code != 200:
                raise ValidationError(f"httpx: HTTP {r.status_code}")
            async for line in r.aiter_lines():
                if line.startswith("data: "):
                    data = line[6:]
                    if data == "[DONE]":
                        continue  # read to the end: an unread body costs the connection
                    choices = json.loads(data)["choices"]
                    if choices:
                        calls = choices[0]["delta"].get("tool_calls")
                        if calls:
                            function = calls[0]["function"]
                            name = function.get("name") or name
                            if function.get("arguments"):
                                pieces.append(function["arguments"])
        return name, "".join(pieces), len(pieces)


class AiohttpClient:
    """aiohttp alone (async only): what a transport below httpx could reach."""

    libraries = ("aiohttp",)

    def __init__(self, host: str, *, is_async: bool) -> None:
        import aiohttp

        if not is_async:
            raise SystemExit("aiohttp has no sync mode")
        self.aiohttp = aiohttp
        self.session: Any = None
        self.url = host + "/openai/v1/chat/completions"
        self.headers = {"authorization": f"Bearer {API_KEY}", "content-type": "application/json"}

    def _session(self) -> Any:
        if self.session is None:  # created inside the running loop
            connector = self.aiohttp.TCPConnector(limit=100)
            self.session = self.aiohttp.ClientSession(connector=connector)
        return self.session

    async def aclose(self) -> None:
        if self.session is not None:
            await self.session.close()

    async def achat(self, n: int) -> str:
        body = json.dumps(_wire.request_body(n, stream=False)).encode()
        async with self._session().post(self.url, data=body, headers=self.headers) as r:
            if r.status != 200:
                raise ValidationError(f"aiohttp: HTTP {r.status}")
            return json.loads(await r.read())["choices"][0]["message"]["content"]  # type: ignore[no-any-return]

    async def _lines(self, n: int, tool: bool) -> Any:
        body = json.dumps(_wire.request_body(n, stream=True, tool=tool)).encode()
        return self._session().post(self.url, data=body, headers=self.headers)

    async def astream_text(self, n: int) -> tuple[float, list[str]]:
        pieces: list[str] = []
        first = 0.0
        async with await self._lines(n, False) as r:
            if r.status != 200:
                raise ValidationError(f"aiohttp: HTTP {r.status}")
            async for line in r.content:
                if line.startswith(b"data: "):
                    data = line[6:].rstrip(b"\r\n")
                    if data == b"[DONE]":
                        continue  # read to the end: an unread body costs the connection
                    choices = json.loads(data)["choices"]
                    if choices:
                        content = choices[0]["delta"].get("content")
                        if content:
                            if not pieces:
                                first = perf()
                            pieces.append(content)
        return first, pieces

    async def astream_tool(self, n: int) -> tuple[str, str, int]:
        pieces: list[str] = []
        name = ""
        async with await self._lines(n, True) as r:
            if r.status != 200:
                raise ValidationError(f"aiohttp: HTTP {r.status}")
            async for line in r.content:
                if line.startswith(b"data: "):
                    data = line[6:].rstrip(b"\r\n")
                    if data == b"[DONE]":
                        continue  # read to the end: an unread body costs the connection
                    choices = json.loads(data)["choices"]
                    if choices:
                        calls = choices[0]["delta"].get("tool_calls")
                        if calls:
                            function = calls[0]["function"]
                            name = function.get("name") or name
                            if function.get("arguments"):
                                pieces.append(function["arguments"])
        return name, "".join(pieces), len(pieces)


class _SDKClient:
    """The groq and openai SDKs: the same chat.completions API."""

    libraries: tuple[str, ...] = ()
    tokens_field = "max_completion_tokens"

    def _make(self, host: str, is_async: bool) -> Any:
        raise NotImplementedError

    def __init__(self, host: str, *, is_async: bool) -> None:
        self.client = self._make(host, is_async)
        self.messages = [{"role": "user", "content": PROMPT}]
        self.tools = [_wire.openai_tool()]

    def _args(self, n: int, **more: Any) -> dict[str, Any]:
        return {"model": MODEL, "messages": self.messages, self.tokens_field: n, **more}

    def chat(self, n: int) -> str:
        return self.client.chat.completions.create(**self._args(n)).choices[0].message.content  # type: ignore[no-any-return]

    def stream_text(self, n: int) -> tuple[float, list[str]]:
        pieces: list[str] = []
        first = 0.0
        with self.client.chat.completions.create(**self._args(n, stream=True)) as stream:
            for chunk in stream:
                if chunk.choices:
                    content = chunk.choices[0].delta.content
                    if content:
                        if not pieces:
                            first = perf()
                        pieces.append(content)
        return first, pieces

    def stream_tool(self, n: int) -> tuple[str, str, int]:
        pieces: list[str] = []
        name = ""
        args = self._args(n, stream=True, tools=self.tools)
        with self.client.chat.completions.create(**args) as stream:
            for chunk in stream:
                if chunk.choices:
                    calls = chunk.choices[0].delta.tool_calls
                    if calls:
                        function = calls[0].function
                        name = function.name or name
                        if function.arguments:
                            pieces.append(function.arguments)
        return name, "".join(pieces), len(pieces)

    async def aclose(self) -> None:
        await self.client.close()

    async def achat(self, n: int) -> str:
        response = await self.client.chat.completions.create(**self._args(n))
        return response.choices[0].message.content  # type: ignore[no-any-return]

    async def astream_text(self, n: int) -> tuple[float, list[str]]:
        pieces: list[str] = []
        first = 0.0
        async with await self.client.chat.completions.create(**self._args(n, stream=True)) as s:
            async for chunk in s:
                if chunk.choices:
                    content = chunk.choices[0].delta.content
                    if content:
                        if not pieces:
                            first = perf()
                        pieces.append(content)
        return first, pieces

    async def astream_tool(self, n: int) -> tuple[str, str, int]:
        pieces: list[str] = []
        name = ""
        args = self._args(n, stream=True, tools=self.tools)
        async with await self.client.chat.completions.create(**args) as s:
            async for chunk in s:
                if chunk.choices:
                    calls = chunk.choices[0].delta.tool_calls
                    if calls:
                        function = calls[0].function
                        name = function.name or name
                        if function.arguments:
                            pieces.append(function.arguments)
        return name, "".join(pieces), len(pieces)


class GroqClient(_SDKClient):
    libraries = ("groq", "httpx", "pydantic")

    def _make(self, host: str, is_async: bool) -> Any:
        import groq

        cls = groq.AsyncGroq if is_async else groq.Groq
        return cls(api_key=API_KEY, base_url=host)  # the SDK appends /openai/v1/...


class OpenAIClient(_SDKClient):
    libraries = ("openai", "httpx", "pydantic")

    def _make(self, host: str, is_async: bool) -> Any:
        import openai

        cls = openai.AsyncOpenAI if is_async else openai.OpenAI
        return cls(api_key=API_KEY, base_url=host + "/openai/v1")


class LitellmClient(_SDKClient):
    libraries = ("litellm", "openai", "httpx", "aiohttp", "pydantic")
    tokens_field = "max_tokens"

    def _make(self, host: str, is_async: bool) -> Any:
        import litellm

        litellm.telemetry = False
        litellm.suppress_debug_info = True
        self.litellm = litellm
        self.base = host + "/openai/v1"
        return None

    def _args(self, n: int, **more: Any) -> dict[str, Any]:
        return {
            "model": "groq/" + MODEL,
            "messages": self.messages,
            "max_tokens": n,
            "api_base": self.base,
            "api_key": API_KEY,
            **more,
        }

    def chat(self, n: int) -> str:
        return self.litellm.completion(**self._args(n)).choices[0].message.content  # type: ignore[no-any-return]

    def stream_text(self, n: int) -> tuple[float, list[str]]:
        pieces: list[str] = []
        first = 0.0
        for chunk in self.litellm.completion(**self._args(n, stream=True)):
            if chunk.choices:
                content = chunk.choices[0].delta.content
                if content:
                    if not pieces:
                        first = perf()
                    pieces.append(content)
        return first, pieces

    def stream_tool(self, n: int) -> tuple[str, str, int]:
        pieces: list[str] = []
        name = ""
        for chunk in self.litellm.completion(**self._args(n, stream=True, tools=self.tools)):
            if chunk.choices:
                calls = chunk.choices[0].delta.tool_calls
                if calls:
                    function = calls[0].function
                    name = function.name or name
                    if function.arguments:
                        pieces.append(function.arguments)
        return name, "".join(pieces), len(pieces)

    async def aclose(self) -> None:
        pass

    async def achat(self, n: int) -> str:
        response = await self.litellm.acompletion(**self._args(n))
        return response.choices[0].message.content  # type: ignore[no-any-return]

    async def astream_text(self, n: int) -> tuple[float, list[str]]:
        pieces: list[str] = []
        first = 0.0
        async for chunk in await self.litellm.acompletion(**self._args(n, stream=True)):
            if chunk.choices:
                content = chunk.choices[0].delta.content
                if content:
                    if not pieces:
                        first = perf()
                    pieces.append(content)
        return first, pieces

    async def astream_tool(self, n: int) -> tuple[str, str, int]:
        pieces: list[str] = []
        name = ""
        args = self._args(n, stream=True, tools=self.tools)
        async for chunk in await self.litellm.acompletion(**args):
            if chunk.choices:
                calls = chunk.choices[0].delta.tool_calls
                if calls:
                    function = calls[0].function
                    name = function.name or name
                    if function.arguments:
                        pieces.append(function.arguments)
        return name, "".join(pieces), len(pieces)


CLIENTS: dict[str, Any] = {
    "llmx": LlmxClient,
    "llmx-aiohttp": LlmxAiohttpClient,
    "httpx": HttpxClient,
    "aiohttp": AiohttpClient,
    "groq": GroqClient,
    "openai": OpenAIClient,
    "litellm": LitellmClient,
}

# -- the workloads -------------------------------------------------------------------------------


def _check_stream(what: str, n: int, pieces: list[str]) -> None:
    check_text(what, n, pieces, "".join(pieces))


def _check_tool(what: str, n: int, result: tuple[str, str, int]) -> None:
    name, arguments, fragments = result
    check_arguments(what, n, name, arguments, fragments)


class Clock:
    """Wall and CPU time of one timed section (CPU: this process, all its threads)."""

    __slots__ = ("wall", "cpu", "_wall", "_cpu")

    def __enter__(self) -> Clock:
        self._wall, self._cpu = perf(), cpu()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = perf() - self._wall, cpu() - self._cpu


def _record(out: dict[str, float], key: str, clocks: list[Clock], scale: float) -> None:
    """``key``: median wall time, ``key`` with ``_cpu`` inserted: median CPU time; scaled."""
    cpu_key = (
        key.replace("_wall_", "_cpu_") if "_wall_" in key else key.replace("_us", "_cpu_us", 1)
    )
    out[key] = statistics.median(c.wall for c in clocks) * scale
    out[cpu_key] = statistics.median(c.cpu for c in clocks) * scale


def run_sync(c: Any, sizes: dict[str, int]) -> dict[str, float]:
    out: dict[str, float] = {}
    n_chat = sizes["chat_tokens"]
    for _ in range(sizes["warmup"]):
        check_text("warm-up chat", n_chat, None, c.chat(n_chat))
    _check_stream("warm-up stream", 50, c.stream_text(50)[1])
    _check_tool("warm-up tool call", 10, c.stream_tool(10))

    count = sizes["seq_requests"] // sizes["seq_blocks"]
    clocks = []
    for _ in range(sizes["seq_blocks"]):
        with Clock() as clock:
            for _ in range(count):
                check_text("chat", n_chat, None, c.chat(n_chat))
        clocks.append(clock)
    _record(out, "req_us", clocks, 1e6 / count)

    n = sizes["stream_chunks"]
    with Clock() as clock:
        pieces = c.stream_text(n)[1]
    _check_stream("long stream", n, pieces)
    del pieces
    _record(out, "stream_us_per_chunk", [clock], 1e6 / n)

    n = sizes["ttft_chunks"]
    firsts = []
    for _ in range(sizes["ttft_reps"]):
        start = perf()
        first, pieces = c.stream_text(n)
        firsts.append(first - start)
        _check_stream("first-delta stream", n, pieces)
    out["ttft_us"] = statistics.median(firsts) * 1e6

    n = sizes["tool_fragments"]
    clocks = []
    for _ in range(sizes["tool_reps"]):
        with Clock() as clock:
            result = c.stream_tool(n)
        clocks.append(clock)
        _check_tool("streamed tool call", n, result)
    _record(out, "tool_us_per_fragment", clocks, 1e6 / n)
    return out


async def _gather(make: Callable[[], Awaitable[Any]], count: int) -> list[Any]:
    return await asyncio.gather(*(make() for _ in range(count)))


async def run_async(c: Any, sizes: dict[str, int]) -> dict[str, float]:
    out: dict[str, float] = {}
    n_chat = sizes["chat_tokens"]
    for _ in range(sizes["warmup"]):
        check_text("warm-up chat", n_chat, None, await c.achat(n_chat))
    _check_stream("warm-up stream", 50, (await c.astream_text(50))[1])
    _check_tool("warm-up tool call", 10, await c.astream_tool(10))

    count = sizes["seq_requests"] // sizes["seq_blocks"]
    clocks = []
    for _ in range(sizes["seq_blocks"]):
        with Clock() as clock:
            for _ in range(count):
                check_text("chat", n_chat, None, await c.achat(n_chat))
        clocks.append(clock)
    _record(out, "req_us", clocks, 1e6 / count)

    inflight = sizes["inflight"]
    for text in await _gather(lambda: c.achat(n_chat), inflight):  # warm-up: open connections
        check_text("warm-up in-flight chat", n_chat, None, text)
    clocks = []
    for _ in range(sizes["inflight_batches"]):
        with Clock() as clock:
            texts = await _gather(lambda: c.achat(n_chat), inflight)
        clocks.append(clock)
        for text in texts:
            check_text("in-flight chat", n_chat, None, text)
    _record(out, "inflight_us_per_req", clocks, 1e6 / inflight)

    n = sizes["stream_chunks"]
    with Clock() as clock:
        pieces = (await c.astream_text(n))[1]
    _check_stream("long stream", n, pieces)
    del pieces
    _record(out, "stream_us_per_chunk", [clock], 1e6 / n)

    n = sizes["ttft_chunks"]
    firsts = []
    for _ in range(sizes["ttft_reps"]):
        start = perf()
        first, pieces = await c.astream_text(n)
        firsts.append(first - start)
        _check_stream("first-delta stream", n, pieces)
    out["ttft_us"] = statistics.median(firsts) * 1e6

    n = sizes["tool_fragments"]
    clocks = []
    for _ in range(sizes["tool_reps"]):
        with Clock() as clock:
            result = await c.astream_tool(n)
        clocks.append(clock)
        _check_tool("streamed tool call", n, result)
    _record(out, "tool_us_per_fragment", clocks, 1e6 / n)
    return out


async def run_concurrent(c: Any, sizes: dict[str, int]) -> dict[str, float]:
    streams, n = sizes["concurrent_streams"], sizes["concurrent_chunks"]
    for _, pieces in await _gather(lambda: c.astream_text(20), streams):  # open connections
        _check_stream("warm-up concurrent stream", 20, pieces)
    gc.collect()
    out = {"rss_before_mb": _max_rss_mb()}
    with Clock() as clock:
        results = await _gather(lambda: c.astream_text(n), streams)
    out["concurrent_rss_mb"] = _max_rss_mb()
    for _, pieces in results:
        _check_stream("concurrent stream", n, pieces)
    _record(out, "concurrent_wall_ms", [clock], 1e3)
    return out


async def _closing(
    c: Any, run: Callable[[Any, dict[str, int]], Awaitable[dict[str, float]]], sizes: dict[str, int]
) -> dict[str, float]:
    try:
        return await run(c, sizes)
    finally:
        await c.aclose()


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _versions(names: tuple[str, ...]) -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("client", choices=sorted(CLIENTS))
    parser.add_argument("mode", choices=("sync", "async", "concurrent"))
    parser.add_argument("--host", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--sizes", required=True, help="JSON object of workload sizes")
    args = parser.parse_args(argv)
    sizes = json.loads(args.sizes)
    cls = CLIENTS[args.client]
    client = cls(args.host, is_async=args.mode != "sync")
    try:
        if args.mode == "sync":
            result = run_sync(client, sizes)
        else:
            result = asyncio.run(
                _closing(client, run_async if args.mode == "async" else run_concurrent, sizes)
            )
    except ValidationError as exc:
        print(f"VALIDATION FAILED ({args.client} {args.mode}): {exc}", file=sys.stderr)
        return 3
    print(json.dumps({"result": result, "versions": _versions(cls.libraries)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

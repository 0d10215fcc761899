"""The asynchronous client: the thin request loop over httpx.AsyncClient, and its AsyncStream."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from types import TracebackType
from typing import Any

import anyio

from ._client import _remaining
from ._config import RetryPolicy, Timeout
from ._core import ClientCore, Prepared, StreamState, check_timing
from ._errors import LLMXError
from ._events import Event, EventType
from ._registry import Registry
from ._replay import events_from_response
from ._resolve import ClientFactory, resolve_core
from ._transport import AsyncTransport
from ._types import ModelInfo, Request, Response
from .adapter import Adapter, HttpResponse

__all__ = ["AsyncClient", "AsyncStream"]


class AsyncClient(ClientFactory):
    """An async client for one provider (anyio: asyncio or trio). Close it with ``aclose()``."""

    def __init__(
        self,
        provider: str | None = None,
        *,
        api_key: str | None = None,
        model: str | None = None,
        base_url: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
        retry_policy: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        defaults: Mapping[str, Any] | None = None,
        adapter: Adapter | None = None,
        registry: Registry | None = None,
        http_client: Any = None,
        **options: Any,
    ) -> None:
        self._core: ClientCore = resolve_core(
            provider,
            api_key=api_key,
            model=model,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            retry_policy=retry_policy,
            headers=headers,
            defaults=defaults,
            adapter=adapter,
            registry=registry,
            **options,
        )
        self._transport = AsyncTransport(self._core.settings, http_client)

    def __repr__(self) -> str:
        s = self._core.settings
        return f"AsyncClient(provider={s.provider!r}, model={s.model!r}, base_url={s.base_url!r})"

    @property
    def provider(self) -> str:
        return self._core.settings.provider

    @property
    def model(self) -> str | None:
        return self._core.settings.model

    async def chat(
        self,
        request: Request | str,
        *,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
        **overrides: Any,
    ) -> Response:
        """Send one request and return the whole Response."""
        core = self._core
        built = core.build_request(request, overrides)
        prepared = core.prepare(built, stream=False, timeout=timeout, max_retries=max_retries)
        status, headers, body = await self._send(prepared)
        return core.parse(status, headers, body, built)

    def stream(
        self,
        request: Request | str,
        *,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
        **overrides: Any,
    ) -> AsyncStream:
        """Start a streamed request: ``async with client.stream(...) as s: async for e in s``."""
        core = self._core
        built = core.build_request(request, overrides)
        prepared = core.prepare(built, stream=True, timeout=timeout, max_retries=max_retries)
        return AsyncStream(core, self._transport, prepared)

    async def simple_chat(self, prompt: str, **overrides: Any) -> str:
        """Ask one question, get the answer text."""
        return (await self.chat(prompt, **overrides)).text

    def simple_stream_chat(self, prompt: str, **overrides: Any) -> AsyncStream:
        """Ask one question and stream the answer's events."""
        return self.stream(prompt, **overrides)

    async def list_models(self) -> list[ModelInfo]:
        """The models the provider offers (merged with llmx's catalog where it knows more)."""
        prepared = self._core.prepare_models()
        status, headers, body = await self._send(prepared)
        return self._core.adapter.parse_models(HttpResponse(status, headers, body))

    async def _send(self, prepared: Prepared) -> tuple[int, Mapping[str, str], bytes]:
        core = self._core
        retries = 0
        while True:
            try:
                async with self._transport.open(
                    prepared.method,
                    prepared.url,
                    content=prepared.content,
                    headers=prepared.headers,
                    params=prepared.params,
                    timeout=_remaining(prepared),
                ) as body:
                    content = await body.read()
                    if body.status_code < 300:
                        return body.status_code, body.headers, content
                    raise core.error_for(body.status_code, body.headers, content)
            except LLMXError as error:
                delay = core.retry_delay(error, retries, prepared)
                if delay is None:
                    raise core.give_up(error, retries, None) from error.__cause__
                retries += 1
                await anyio.sleep(delay)

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class AsyncStream:
    """Events of one streamed response. ``async for`` it (once), then ``await response()``.

    Use ``async with`` so the connection is released even when you stop early.
    """

    def __init__(self, core: ClientCore, transport: AsyncTransport, prepared: Prepared) -> None:
        self._core = core
        self._transport = transport
        self._prepared = prepared
        self._events: AsyncIterator[Event] | None = None
        self._state: StreamState | None = None
        self._final: Response | None = None

    async def __aenter__(self) -> AsyncStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[Event]:
        return self

    async def __anext__(self) -> Event:
        if self._events is None:
            self._events = self._run()
        return await self._events.__anext__()

    async def text_stream(self) -> AsyncIterator[str]:
        """Only the text deltas."""
        async for event in self:
            if event.type is EventType.TEXT_DELTA:
                yield event.delta  # type: ignore[union-attr]

    async def response(self) -> Response:
        """The accumulated Response; reads the rest of the stream first if needed."""
        async for _ in self:
            pass
        assert self._final is not None
        return self._final

    @property
    def partial(self) -> Response | None:
        """What has arrived so far."""
        return self._state.response() if self._state is not None else None

    async def aclose(self) -> None:
        """Stop reading and release the connection."""
        events, self._events = self._events, _EMPTY
        if events is not None and events is not _EMPTY:
            await events.aclose()  # type: ignore[attr-defined]

    async def _run(self) -> AsyncIterator[Event]:
        core, prepared = self._core, self._prepared
        retries = 0
        provider = core.settings.provider
        timeout = prepared.timeout
        timed = bool(timeout.first_event or timeout.idle or prepared.deadline)
        while True:
            state: StreamState | None = None
            try:
                async with self._transport.open(
                    prepared.method,
                    prepared.url,
                    content=prepared.content,
                    headers=prepared.headers,
                    params=prepared.params,
                    timeout=_remaining(prepared),
                ) as body:
                    if body.status_code >= 300:
                        raise core.error_for(body.status_code, body.headers, await body.read())
                    if body.headers.get("content-type", "").startswith("application/json"):
                        response = core.parse(
                            body.status_code, body.headers, await body.read(), prepared.request
                        )
                        self._final = response
                        for event in events_from_response(response):
                            yield event
                        return
                    state = self._state = StreamState(core, prepared.request, body.headers)
                    started = last = time.monotonic()
                    async for chunk in body.iter_bytes():
                        events = state.feed(chunk)
                        if timed:
                            if events:
                                last = time.monotonic()
                            check_timing(
                                started,
                                last,
                                state.events_seen > 0,
                                timeout,
                                prepared.deadline,
                                provider,
                            )
                        for event in events:
                            yield event
                    for event in state.close():
                        yield event
                    self._final = state.response()
                    return
            except LLMXError as error:
                delay = core.stream_retry_delay(error, retries, prepared, state)
                if delay is None:
                    raise core.give_up(error, retries, state) from error.__cause__
                retries += 1
                await anyio.sleep(delay)


class _Empty:
    def __aiter__(self) -> _Empty:
        return self

    async def __anext__(self) -> Event:
        raise StopAsyncIteration


_EMPTY: Any = _Empty()

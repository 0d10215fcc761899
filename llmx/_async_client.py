"""The asynchronous client: the thin request loop over httpx.AsyncClient, and its AsyncStream."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._config import RetryPolicy, Timeout
from ._core import Call, ClientCore, Prepared, StreamState
from ._errors import LLMXError
from ._events import Event, TextDelta
from ._replay import events_from_response
from ._resolve import ClientFactory
from ._stream import Outcome
from ._types import ModelInfo, Request, Response
from .adapter import HttpResponse

if TYPE_CHECKING:  # httpx is imported with the first client, not with llmx
    from ._transport import AsyncTransport

__all__ = ["AsyncClient", "AsyncStream"]


class AsyncClient(ClientFactory):
    """An async client for one provider (anyio: asyncio or trio). Close it with ``aclose()``."""

    _transport: AsyncTransport

    def _open_transport(self, http_client: Any) -> None:
        from ._transport import AsyncTransport

        self._transport = AsyncTransport(
            self._core.settings, http_client, self._core.secret_headers
        )

    async def chat(
        self,
        request: Request | str,
        *,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
        retry_policy: RetryPolicy | None = None,
        **overrides: Any,
    ) -> Response:
        """Send one request and return the whole Response."""
        core = self._core
        built = core.build_request(request, overrides)
        prepared = core.prepare(
            built, stream=False, timeout=timeout, max_retries=max_retries, retry_policy=retry_policy
        )
        status, headers, body = await self._send(prepared)
        return core.parse(status, headers, body, built)

    def stream(
        self,
        request: Request | str,
        *,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
        retry_policy: RetryPolicy | None = None,
        **overrides: Any,
    ) -> AsyncStream:
        """Start a streamed request: ``async with client.stream(...) as s: async for e in s``."""
        core = self._core
        built = core.build_request(request, overrides)
        prepared = core.prepare(
            built, stream=True, timeout=timeout, max_retries=max_retries, retry_policy=retry_policy
        )
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
        import anyio  # with the first request, not with `import llmx`

        call = self._core.call(prepared, stream=False)
        while True:
            try:
                timer = call.timer()
                if timer is None:
                    return await self._attempt(call)
                with anyio.move_on_after(timer.remaining()):
                    return await self._attempt(call)
                raise timer.expired()
            except LLMXError as error:
                await anyio.sleep(call.retry(error))

    async def _attempt(self, call: Call) -> tuple[int, Mapping[str, str], bytes]:
        core, prepared = self._core, call.prepared
        settings = core.settings
        async with self._transport.open(
            prepared.method,
            prepared.url,
            content=prepared.content,
            headers=call.headers(),
            params=prepared.params,
            timeout=call.timeout(),
            attempt=call.attempt,
        ) as body:
            status, headers = body.status_code, body.headers
            if status >= 300:
                raise core.error_for(status, headers, await body.read(settings.max_error_bytes))
            content = await body.read(settings.max_response_bytes)
            if body.truncated:
                raise core.too_large(status, headers, content)
            return status, headers, content

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

    Use ``async with`` so the connection is released even when you stop early; a stream you
    drop is closed by the event loop's async-generator finalizer (trio warns about that).
    """

    def __init__(self, core: ClientCore, transport: AsyncTransport, prepared: Prepared) -> None:
        self._outcome = Outcome()
        self._events = _run(core, transport, prepared, self._outcome)

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
        return await self._events.__anext__()

    async def text_stream(self) -> AsyncIterator[str]:
        """Only the text deltas."""
        async for event in self:
            if isinstance(event, TextDelta):
                yield event.delta

    async def response(self) -> Response:
        """The accumulated Response; reads the rest of the stream first if needed."""
        async for _ in self:
            pass
        return self._outcome.result()

    @property
    def partial(self) -> Response | None:
        """What has arrived so far."""
        return self._outcome.partial()

    async def aclose(self) -> None:
        """Stop reading and release the connection."""
        await self._events.aclose()  # type: ignore[attr-defined]


async def _run(
    core: ClientCore, transport: AsyncTransport, prepared: Prepared, outcome: Outcome
) -> AsyncIterator[Event]:
    """The events of one streamed call, with retries until the first event is delivered."""
    import anyio

    call = core.call(prepared, stream=True)
    settings = core.settings
    request = prepared.request
    while True:
        outcome.state = None
        timer = call.timer()
        try:
            async with transport.open(
                prepared.method,
                prepared.url,
                content=prepared.content,
                headers=call.headers(),
                params=prepared.params,
                timeout=call.timeout(),
                timer=timer,
                attempt=call.attempt,
            ) as body:
                status, headers = body.status_code, body.headers
                if status >= 300:
                    error_body = await body.read(settings.max_error_bytes, timer)
                    raise core.error_for(status, headers, error_body)
                kind = core.stream_kind(headers)
                first = b""
                if kind == "sniff":
                    first = await body.next_chunk(timer) or b""
                    kind = core.sniff(first)
                if kind != "frames":
                    whole = kind == "json"
                    limit = settings.max_response_bytes if whole else settings.max_error_bytes
                    content = first + await body.read(limit, timer)
                    if not whole:
                        raise core.unexpected(status, headers, content, "not an event stream")
                    if body.truncated:
                        raise core.too_large(status, headers, content)
                    response = outcome.final = core.parse(status, headers, content, request)
                    for event in events_from_response(response):
                        yield event
                    return
                state = outcome.state = StreamState(core, request, headers)
                chunk = first or await body.next_chunk(timer)
                while chunk is not None:
                    events = state.feed(chunk)
                    if timer is not None:
                        timer.tick(time.monotonic(), bool(events))
                    if events:
                        for event in events:
                            yield event
                        if state.finished:
                            break
                    chunk = await body.next_chunk(timer)
                for event in state.close():
                    yield event
                outcome.final = state.response()
                await body.finish()
                return
        except LLMXError as error:
            try:
                delay = call.retry(error, outcome.state)
            except LLMXError as final:
                outcome.error = final
                raise
            await anyio.sleep(delay)

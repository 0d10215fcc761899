"""The HTTP transport: the only module that imports httpx. Maps httpx errors to llmx errors once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx

from ._config import ClientSettings, Timeout
from ._errors import ConnectError, LLMXError, RequestTimeout, StreamError, TransportError

__all__ = ["AsyncBody", "AsyncTransport", "SyncBody", "SyncTransport"]

_PHASES: tuple[tuple[type[httpx.TimeoutException], str], ...] = (
    (httpx.ConnectTimeout, "connect"),
    (httpx.ReadTimeout, "read"),
    (httpx.WriteTimeout, "write"),
    (httpx.PoolTimeout, "pool"),
)


def _httpx_timeout(timeout: Timeout) -> httpx.Timeout:
    return httpx.Timeout(
        connect=timeout.connect, read=timeout.read, write=timeout.read, pool=timeout.read
    )


def _limits(settings: ClientSettings) -> httpx.Limits:
    return httpx.Limits(
        max_connections=settings.max_connections,
        max_keepalive_connections=settings.max_keepalive_connections,
    )


def _map(exc: Exception, provider: str, *, in_body: bool) -> LLMXError:
    """One llmx error for an httpx error; URLs are left out so nothing sensitive leaks."""
    if isinstance(exc, httpx.TimeoutException):
        phase = next((name for cls, name in _PHASES if isinstance(exc, cls)), "read")
        return RequestTimeout(
            f"{provider}: {phase} timeout expired", phase=phase, provider=provider
        )
    if in_body:
        return StreamError(
            f"{provider}: the connection broke while reading the response "
            f"({type(exc).__name__}: {exc})",
            provider=provider,
        )
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return TransportError(f"{provider}: invalid URL: {exc}", provider=provider)
    return ConnectError(
        f"{provider}: connection failed ({type(exc).__name__}: {exc}); "
        "check base_url and the network",
        provider=provider,
    )


class SyncBody:
    """A response whose body has not been read yet."""

    __slots__ = ("_response", "_provider", "status_code", "headers")

    def __init__(self, response: httpx.Response, provider: str) -> None:
        self._response = response
        self._provider = provider
        self.status_code = response.status_code
        self.headers: Mapping[str, str] = response.headers

    def read(self) -> bytes:
        try:
            return self._response.read()
        except httpx.HTTPError as exc:
            raise _map(exc, self._provider, in_body=True) from exc

    def iter_bytes(self) -> Iterator[bytes]:
        try:
            yield from self._response.iter_bytes()
        except httpx.HTTPError as exc:
            raise _map(exc, self._provider, in_body=True) from exc

    def close(self) -> None:
        self._response.close()


class AsyncBody:
    """A response whose body has not been read yet (async)."""

    __slots__ = ("_response", "_provider", "status_code", "headers")

    def __init__(self, response: httpx.Response, provider: str) -> None:
        self._response = response
        self._provider = provider
        self.status_code = response.status_code
        self.headers: Mapping[str, str] = response.headers

    async def read(self) -> bytes:
        try:
            return await self._response.aread()
        except httpx.HTTPError as exc:
            raise _map(exc, self._provider, in_body=True) from exc

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.aiter_bytes():
                yield chunk
        except httpx.HTTPError as exc:
            raise _map(exc, self._provider, in_body=True) from exc

    async def close(self) -> None:
        await self._response.aclose()


class SyncTransport:
    """httpx.Client behind the sync request loop."""

    def __init__(self, settings: ClientSettings, http_client: Any = None) -> None:
        self._provider = settings.provider
        self._client: httpx.Client = http_client or httpx.Client(
            timeout=_httpx_timeout(settings.timeout),
            limits=_limits(settings),
            follow_redirects=False,
        )

    @contextmanager
    def open(
        self,
        method: str,
        url: str,
        *,
        content: bytes | None,
        headers: Mapping[str, str],
        params: Mapping[str, str],
        timeout: Timeout,
    ) -> Iterator[SyncBody]:
        try:
            request = self._client.build_request(
                method,
                url,
                content=content,
                headers=headers,
                params=params or None,
                timeout=_httpx_timeout(timeout),
            )
            response = self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise _map(exc, self._provider, in_body=False) from exc
        try:
            yield SyncBody(response, self._provider)
        finally:
            response.close()

    def close(self) -> None:
        self._client.close()


class AsyncTransport:
    """httpx.AsyncClient behind the async request loop."""

    def __init__(self, settings: ClientSettings, http_client: Any = None) -> None:
        self._provider = settings.provider
        self._client: httpx.AsyncClient = http_client or httpx.AsyncClient(
            timeout=_httpx_timeout(settings.timeout),
            limits=_limits(settings),
            follow_redirects=False,
        )

    @asynccontextmanager
    async def open(
        self,
        method: str,
        url: str,
        *,
        content: bytes | None,
        headers: Mapping[str, str],
        params: Mapping[str, str],
        timeout: Timeout,
    ) -> AsyncIterator[AsyncBody]:
        try:
            request = self._client.build_request(
                method,
                url,
                content=content,
                headers=headers,
                params=params or None,
                timeout=_httpx_timeout(timeout),
            )
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise _map(exc, self._provider, in_body=False) from exc
        try:
            yield AsyncBody(response, self._provider)
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

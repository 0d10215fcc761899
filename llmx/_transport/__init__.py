"""The HTTP transport: the only package that imports httpx. Maps httpx errors to llmx errors once.

Each ``open()`` holds one of ``max_connections`` slots while its response is open, so extra
requests wait here, never inside httpcore's pool. Errors name the failure and the origin, never
the path, query or headers, and do not chain the httpx exception (which holds the headers).
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import anyio
import httpx

from .._body import AsyncBody, SyncBody, next_hop, socket_of
from .._config import ClientSettings, Timeout
from .._errors import LLMXError
from .._timing import Timer, pool_timeout, pool_wait
from ._base import MAX_REDIRECTS, Base, Content, httpx_timeout, map_error

__all__ = ["AsyncBody", "AsyncTransport", "SyncBody", "SyncTransport"]


class SyncTransport(Base):
    """httpx.Client behind the sync request loop."""

    def __init__(
        self,
        settings: ClientSettings,
        http_client: Any = None,
        secrets: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(settings, secrets, http_client, httpx.Client)
        self._slots = threading.BoundedSemaphore(settings.max_connections)
        self._count = threading.Lock()

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
        timer: Timer | None = None,
        attempt: int = 1,
    ) -> Iterator[SyncBody]:
        wait = pool_wait(timeout, timer)
        if not self._slots.acquire(timeout=wait):
            raise pool_timeout(self._provider, wait)
        with self._count:
            self.in_flight += 1
            shard = self._take_shard()
        try:
            self._log(method, url, attempt)
            client = self._clients[shard]
            response = self._send(client, method, url, content, headers, params, timeout, timer)
            body = SyncBody(response, httpx.HTTPError, self._body_error, socket_of(response), timer)
            try:
                yield body
            finally:
                body.close()
        finally:
            with self._count:
                self.in_flight -= 1
                self._load[shard] -= 1
            self._slots.release()

    def _send(
        self,
        client: httpx.Client,
        method: str,
        url: str,
        content: bytes | None,
        headers: Mapping[str, str],
        params: Mapping[str, str],
        timeout: Timeout,
        timer: Timer | None,
    ) -> httpx.Response:
        error: LLMXError
        limits = httpx_timeout(timeout, timer)
        try:
            if self._direct:
                first = request = self._request(method, url, content, headers, params, limits)
            else:
                first = request = client.build_request(
                    method, url, content=content, headers=headers, params=params or None,
                    extensions={"timeout": limits},
                )  # fmt: skip
            for _ in range(MAX_REDIRECTS + 1):
                if self._direct:
                    response = client._transport_for_url(request.url).handle_request(request)
                    response.request = request
                    hop = self._hop(client, request, response, first)
                else:
                    response = client.send(request, stream=True, follow_redirects=False)
                    hop = self._follow and next_hop(
                        response.next_request, response, first, self._secrets
                    )
                if not hop:
                    break
                response.close()
                request = hop
            if timer is not None:  # the body's reads get the plain read timeout
                response.request.extensions["timeout"]["read"] = timeout.read
            return response
        except httpx.HTTPError as exc:
            if timer is not None and isinstance(exc, httpx.ReadTimeout) and timer.remaining() <= 0:
                error = timer.expired()
            else:
                error = map_error(exc, self._provider, in_body=False, url=url)
        raise error

    def close(self) -> None:
        self._closed = True
        for client in self._clients:
            client.close()


class AsyncTransport(Base):
    """httpx.AsyncClient behind the async request loop."""

    def __init__(
        self,
        settings: ClientSettings,
        http_client: Any = None,
        secrets: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(settings, secrets, http_client, httpx.AsyncClient)
        self._slots: anyio.Semaphore | None = None

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
        timer: Timer | None = None,
        attempt: int = 1,
    ) -> AsyncIterator[AsyncBody]:
        slots = self._slots
        if slots is None:  # created on first use, inside the event loop
            slots = self._slots = anyio.Semaphore(self._capacity)
        wait = pool_wait(timeout, timer)
        with anyio.move_on_after(wait) as waiting:
            await slots.acquire()
        if waiting.cancelled_caught:
            raise pool_timeout(self._provider, wait)
        self.in_flight += 1
        shard = self._take_shard()
        try:
            self._log(method, url, attempt)
            response = await self._guarded_send(
                self._clients[shard],method, url, content, headers, params, timeout,
                                                timer)  # fmt: skip
            body = AsyncBody(response, httpx.HTTPError, self._body_error)
            try:
                yield body
            finally:
                await body.aclose()
        finally:
            self.in_flight -= 1
            self._load[shard] -= 1
            slots.release()

    async def _guarded_send(
        self,
        client: httpx.AsyncClient,
        method: str,
        url: str,
        content: bytes | None,
        headers: Mapping[str, str],
        params: Mapping[str, str],
        timeout: Timeout,
        timer: Timer | None,
    ) -> httpx.Response:
        if timer is None or not timer.guard:
            return await self._send(client, method, url, content, headers, params, timeout)
        with anyio.move_on_after(timer.due - time.monotonic()):
            return await self._send(client, method, url, content, headers, params, timeout)
        raise timer.expired()

    async def _send(
        self,
        client: httpx.AsyncClient,
        method: str,
        url: str,
        content: bytes | None,
        headers: Mapping[str, str],
        params: Mapping[str, str],
        timeout: Timeout,
    ) -> httpx.Response:
        error: LLMXError
        limits = httpx_timeout(timeout, None)
        try:
            if self._direct:
                first = request = self._request(method, url, content, headers, params, limits)
            else:
                first = request = client.build_request(
                    method, url, content=content, headers=headers, params=params or None,
                    extensions={"timeout": limits},
                )  # fmt: skip
            if content is not None:
                request.stream = Content(content)
            for _ in range(MAX_REDIRECTS + 1):
                if self._direct:
                    route = client._transport_for_url(request.url)
                    response = await route.handle_async_request(request)
                    response.request = request
                    hop = self._hop(client, request, response, first)
                else:
                    response = await client.send(request, stream=True, follow_redirects=False)
                    hop = self._follow and next_hop(
                        response.next_request, response, first, self._secrets
                    )
                if not hop:
                    return response
                await response.aclose()
                request = hop
            return response
        except httpx.HTTPError as exc:
            error = map_error(exc, self._provider, in_body=False, url=url)
        raise error

    async def aclose(self) -> None:
        self._closed = True
        for client in self._clients:
            await client.aclose()

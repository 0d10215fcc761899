"""The HTTP transport: the only module that imports httpx. Maps httpx errors to llmx errors once.

Each ``open()`` holds one of ``max_connections`` slots while its response is open, so extra
requests wait here, never inside httpcore's pool. Errors name the failure and the origin, never
the path, query or headers, and do not chain the httpx exception (which holds the headers).
"""

from __future__ import annotations

import os
import ssl
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import anyio
import httpx

from ._body import AsyncBody, SyncBody, next_hop, socket_of, tls_failure
from ._config import ClientSettings, Timeout
from ._errors import ConnectError, LLMXError, RequestTimeout, TransportError
from ._logging import logger, origin, safe_url
from ._timing import Timer, pool_timeout, pool_wait

__all__ = ["AsyncBody", "AsyncTransport", "SyncBody", "SyncTransport"]

CREDENTIAL_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "x-goog-api-key", "cookie"}
)
MAX_REDIRECTS = 5
SHARD_SIZE = 16
_PHASES: tuple[tuple[type[httpx.TimeoutException], str], ...] = (
    (httpx.ConnectTimeout, "connect"),
    (httpx.ReadTimeout, "read"),
    (httpx.WriteTimeout, "write"),
    (httpx.PoolTimeout, "pool"),
)


class _Content(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A request body whose async iterator is a plain object, not an async generator: an
    upload cut short by a cancellation leaves nothing unfinished for the garbage collector
    (trio warns about every abandoned async generator)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def __iter__(self) -> Iterator[bytes]:
        yield self._data

    def __aiter__(self) -> _Once:
        return _Once(self._data)


class _Once:
    __slots__ = ("_data",)

    def __init__(self, data: bytes | None) -> None:
        self._data = data

    def __aiter__(self) -> _Once:
        return self

    async def __anext__(self) -> bytes:
        data, self._data = self._data, None
        if data is None:
            raise StopAsyncIteration
        return data


def _httpx_timeout(timeout: Timeout, timer: Timer | None) -> httpx.Timeout:
    read = timeout.read
    if timer is not None:  # the wait for the response head must not outlive the phase
        left = max(timer.remaining(), 0.001)
        read = left if read is None else min(read, left)
    return httpx.Timeout(connect=timeout.connect, read=read, write=timeout.read, pool=read)


def _map(exc: Exception, provider: str, *, in_body: bool, url: str = "") -> LLMXError:
    """One llmx error for an httpx error; only the origin of the URL is shown, no headers."""
    if isinstance(exc, httpx.TimeoutException):
        phase = next((name for cls, name in _PHASES if isinstance(exc, cls)), "read")
        return RequestTimeout(
            f"{provider}: {phase} timeout expired",
            phase=phase,
            provider=provider,
            sent=phase == "read",
            retryable=phase != "pool",
        )
    detail = f"{type(exc).__name__}: {exc}"
    if in_body:
        return ConnectError(
            f"{provider}: the connection broke while reading the response ({detail})",
            provider=provider,
            sent=True,
        )
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL | httpx.LocalProtocolError):
        return TransportError(
            f"{provider}: the request could not be sent ({type(exc).__name__}); check base_url",
            provider=provider,
            retryable=False,
        )
    if tls_failure(exc):
        return ConnectError(
            f"{provider}: TLS certificate verification failed for {origin(url)} ({detail}); "
            "check base_url, or the certificate store (verify=False is insecure)",
            provider=provider,
            retryable=False,
        )
    sent = isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError)
    return ConnectError(
        f"{provider}: connection to {origin(url)} failed ({detail}); check base_url and the "
        "network",
        provider=provider,
        sent=sent,
    )


_TLS: dict[tuple[Any, ...], ssl.SSLContext] = {}
_TLS_LOCK = threading.Lock()


def _tls_context(verify: bool, trust_env: bool) -> ssl.SSLContext:
    """One TLS context per configuration, shared by every client (building one loads the CA
    bundle: ~20 ms)."""
    env = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")) if trust_env else ()
    key = (verify, trust_env, *env)
    with _TLS_LOCK:
        context = _TLS.get(key)
        if context is None:
            context = _TLS[key] = httpx.create_ssl_context(verify=verify, trust_env=trust_env)
        return context


class _Base:
    """Slots, shards and the bits both transports share.

    The pool is split into shards of at most ``SHARD_SIZE`` connections, each its own httpx
    client (sharing one TLS context): httpcore's pool does work proportional to its
    connections on every request and response, so 500 streams through one 500-connection pool
    cost several times more than through 32 small ones. A request takes the first shard with
    room, so light use stays on one shard and keeps its connections warm.
    """

    def __init__(
        self, settings: ClientSettings, secrets: frozenset[str], http_client: Any, cls: Any
    ) -> None:
        self._provider = settings.provider
        self._follow = settings.follow_redirects
        self._secrets = CREDENTIAL_HEADERS | secrets
        self._capacity = settings.max_connections
        self.in_flight = 0
        """Responses open right now (slots taken)."""
        if http_client is not None:
            self._clients: list[Any] = [http_client]
            self._shard_cap, self._shards = settings.max_connections, 1
        else:
            if not settings.verify:
                logger.warning("llmx: TLS certificate verification is OFF for %s", self._provider)
            shards = self._shards = -(-settings.max_connections // SHARD_SIZE)
            self._shard_cap = -(-settings.max_connections // shards)
            limits = httpx.Limits(
                max_connections=self._shard_cap,
                max_keepalive_connections=-(-settings.max_keepalive_connections // shards),
            )
            tls, env = _tls_context(settings.verify, settings.trust_env), settings.trust_env
            timeout = _httpx_timeout(settings.timeout, None)

            def new_client() -> Any:
                return cls(timeout=timeout, limits=limits, follow_redirects=False,
                           trust_env=env, verify=tls)  # fmt: skip

            self._new_client = new_client
            self._clients = [new_client()]
        self._load = [0] * len(self._clients)

    def _take_shard(self) -> int:
        load, cap = self._load, self._shard_cap
        for index, count in enumerate(load):
            if count < cap:
                load[index] += 1
                return index
        if len(self._clients) < self._shards:
            self._clients.append(self._new_client())
            load.append(1)
            return len(load) - 1
        index = load.index(min(load))
        load[index] += 1
        return index

    def _body_error(self, exc: Exception) -> LLMXError:
        return _map(exc, self._provider, in_body=True)

    def pool_connections(self) -> tuple[int, int] | None:
        """(connections, busy connections) in httpx's pools, if they can be inspected."""
        try:
            pools = [client._transport._pool.connections for client in self._clients]
        except AttributeError:
            return None
        return sum(map(len, pools)), sum(not c.is_idle() for p in pools for c in p)

    def _log(self, method: str, url: str, attempt: int) -> None:
        if logger.isEnabledFor(10):
            logger.debug("%s request %s %s (attempt %d)", self._provider, method, safe_url(url),
                         attempt)  # fmt: skip


class SyncTransport(_Base):
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
        try:
            first = request = client.build_request(
                method, url, content=content, headers=headers, params=params or None,
                timeout=_httpx_timeout(timeout, timer),
            )  # fmt: skip
            for _ in range(MAX_REDIRECTS + 1):
                response = client.send(request, stream=True, follow_redirects=False)
                hop = next_hop(response, first, self._secrets) if self._follow else None
                if hop is None:
                    if timer is not None:  # the body's reads get the plain read timeout
                        request.extensions["timeout"]["read"] = timeout.read
                    return response
                response.close()
                request = hop
            return response
        except httpx.HTTPError as exc:
            if timer is not None and isinstance(exc, httpx.ReadTimeout) and timer.remaining() <= 0:
                error = timer.expired()
            else:
                error = _map(exc, self._provider, in_body=False, url=url)
        raise error

    def close(self) -> None:
        for client in self._clients:
            client.close()


class AsyncTransport(_Base):
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
        try:
            first = request = client.build_request(
                method, url, content=content, headers=headers, params=params or None,
                timeout=_httpx_timeout(timeout, None),
            )  # fmt: skip
            if content is not None:
                request.stream = _Content(content)
            for _ in range(MAX_REDIRECTS + 1):
                response = await client.send(request, stream=True, follow_redirects=False)
                hop = next_hop(response, first, self._secrets) if self._follow else None
                if hop is None:
                    return response
                await response.aclose()
                request = hop
            return response
        except httpx.HTTPError as exc:
            error = _map(exc, self._provider, in_body=False, url=url)
        raise error

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()

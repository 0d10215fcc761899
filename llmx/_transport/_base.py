"""What both transports share: slots over sharded httpx clients, request building, and the
mapping of httpx errors to llmx errors."""

from __future__ import annotations

import os
import ssl
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from .._body import next_hop, tls_failure
from .._config import ClientSettings, Timeout
from .._errors import ConfigurationError, ConnectError, LLMXError, RequestTimeout, TransportError
from .._logging import logger, origin, safe_url
from .._timing import Timer

__all__ = ["Base", "Content", "httpx_timeout", "map_error"]

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


class Content(httpx.SyncByteStream, httpx.AsyncByteStream):
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


def httpx_timeout(timeout: Timeout, timer: Timer | None) -> dict[str, float | None]:
    """httpx's per-request timeout extension."""
    read = timeout.read
    if timer is not None:  # the wait for the response head must not outlive the phase
        left = max(timer.remaining(), 0.001)
        read = left if read is None else min(read, left)
    return {"connect": timeout.connect, "read": read, "write": timeout.read, "pool": read}


def map_error(exc: Exception, provider: str, *, in_body: bool, url: str = "") -> LLMXError:
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


class Base:
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
        backend = settings.http_backend
        if backend != "httpx" and (http_client is not None or cls is not httpx.AsyncClient):
            why = (
                "it replaces the httpx client, so pass either http_client or http_backend"
                if http_client is not None
                else "it is for AsyncClient only; the sync Client runs on httpx"
            )
            raise ConfigurationError(
                f"{self._provider}: http_backend={backend!r} cannot be used here: {why}",
                provider=self._provider,
            )
        if http_client is not None:
            self._clients: list[Any] = [http_client]
            self._shard_cap, self._shards = settings.max_connections, 1
        else:
            if not settings.verify:
                logger.warning("llmx: TLS certificate verification is OFF for %s", self._provider)
            # aiohttp's pool costs the same whatever its size: one shard
            shards = 1 if backend != "httpx" else -(-settings.max_connections // SHARD_SIZE)
            self._shards = shards
            self._shard_cap = -(-settings.max_connections // shards)
            keepalive = -(-settings.max_keepalive_connections // shards)
            limits = httpx.Limits(max_connections=self._shard_cap,
                                  max_keepalive_connections=keepalive)  # fmt: skip
            tls, env = _tls_context(settings.verify, settings.trust_env), settings.trust_env
            timeout = httpx.Timeout(**httpx_timeout(settings.timeout, None))

            def new_client() -> Any:
                if backend == "aiohttp":
                    from ._aiohttp import AiohttpTransport

                    transport = AiohttpTransport(tls=tls, limit=self._shard_cap,
                                                 keepalive=keepalive, trust_env=env,
                                                 provider=self._provider)  # fmt: skip
                    # the environment's proxies are aiohttp's to apply (trust_env above)
                    return cls(timeout=timeout, follow_redirects=False, trust_env=False,
                               transport=transport)  # fmt: skip
                return cls(timeout=timeout, limits=limits, follow_redirects=False,
                           trust_env=env, verify=tls)  # fmt: skip

            self._new_client = new_client
            self._clients = [new_client()]
        self._load = [0] * len(self._clients)
        self._closed = False
        self._urls: dict[str, httpx.URL] = {}
        # Our own httpx clients are driven below their cookie, auth and hook layers (none of
        # which llmx uses): straight to the transport that serves the URL. A client the user
        # passed in goes through ``send()``, with everything it was configured with.
        first = self._clients[0]
        self._direct = http_client is None and all(
            hasattr(first, name) for name in ("_transport_for_url", "_build_redirect_request")
        )
        self._defaults = {k.lower(): v for k, v in first.headers.items()}

    def _request(
        self,
        method: str,
        url: str,
        content: bytes | None,
        headers: Mapping[str, str],
        params: Mapping[str, str],
        timeout: dict[str, float | None],
    ) -> httpx.Request:
        """The httpx request, built as ``httpx.Client.build_request`` would for our clients."""
        if self._closed:
            raise TransportError(
                f"{self._provider}: the client is closed; create a new one",
                provider=self._provider,
                retryable=False,
            )
        target = self._urls.get(url)
        if target is None:
            if len(self._urls) >= 64:
                self._urls.clear()
            target = self._urls[url] = httpx.URL(url)
        if params:
            target = target.copy_merge_params(params)
        return httpx.Request(
            method,
            target,
            content=content,
            headers={**self._defaults, **headers},
            extensions={"timeout": timeout},
        )

    def _hop(self, client: Any, request: Any, response: Any, first: Any) -> Any:
        """The next request of a redirect the client must follow, or None."""
        if not (self._follow and response.has_redirect_location):
            return None
        target = client._build_redirect_request(request, response)
        return next_hop(target, response, first, self._secrets)

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
        return map_error(exc, self._provider, in_body=True)

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

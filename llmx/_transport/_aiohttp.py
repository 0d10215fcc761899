"""An httpx transport on aiohttp: ``http_backend="aiohttp"`` (AsyncClient on asyncio only).

httpx stays the interface: requests and responses are httpx objects and aiohttp's failures are
raised as the httpx exceptions the transport maps to llmx errors, so retries, timeouts, limits
and redirects behave exactly as on the default backend. Only the HTTP/1.1 machinery below it
(httpcore and h11) is replaced by aiohttp's, which costs a fraction per request and per chunk.

aiohttp is imported when the first such transport is made, never with llmx.
"""

from __future__ import annotations

import asyncio  # noqa: TID251 - aiohttp runs on asyncio only
import ssl
import urllib.request
from typing import Any

import httpx

from .._errors import ConfigurationError

__all__ = ["AiohttpTransport"]

_INSTALL = "pip install 'llmx-ai[aiohttp]'"
KEEPALIVE_EXPIRY = 5.0
"""Seconds an idle connection is kept, as httpx does. aiohttp has no cap on idle connections
besides ``max_connections``: ``max_keepalive_connections`` only tells whether any are kept."""
# NO_PROXY matching as urllib (and aiohttp's trust_env) does it; missing from typeshed
_bypass: Any = getattr(urllib.request, "proxy_bypass_environment")  # noqa: B009


def _aiohttp() -> Any:
    try:
        import aiohttp
    except ImportError:
        raise ConfigurationError(
            f"http_backend='aiohttp' needs the aiohttp package: {_INSTALL}"
        ) from None
    return aiohttp


class AiohttpTransport(httpx.AsyncBaseTransport):
    """One aiohttp session (created in the event loop of its first request) behind httpx."""

    def __init__(
        self, *, tls: ssl.SSLContext, limit: int, keepalive: int, trust_env: bool, provider: str
    ) -> None:
        self._aiohttp = _aiohttp()
        self._tls, self._limit, self._keepalive = tls, limit, keepalive
        self._provider = provider
        self._session: Any = None
        self._loop: Any = None
        self._routes: dict[str, tuple[Any, Any, Any]] = {}
        # the environment's proxies, read once like httpx does (aiohttp's own trust_env looks
        # them up in a worker thread on every request: two thread hops per request)
        self._proxies = urllib.request.getproxies_environment() if trust_env else {}
        self._timeouts: dict[tuple[float | None, float | None], Any] = {}

    def _open(self) -> Any:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise ConfigurationError(
                f"{self._provider}: http_backend='aiohttp' runs on asyncio only; under another "
                "event loop (trio) use the default http_backend='httpx'",
                provider=self._provider,
            ) from None
        if self._session is None:
            aiohttp = self._aiohttp
            connector = aiohttp.TCPConnector(
                ssl=self._tls,
                limit=self._limit,
                limit_per_host=0,
                force_close=self._keepalive == 0,
                keepalive_timeout=None if self._keepalive == 0 else KEEPALIVE_EXPIRY,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                trust_env=False,
                auto_decompress=False,  # httpx decodes, as on the default backend
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
                timeout=aiohttp.ClientTimeout(total=None),
            )
            self._loop = loop
        elif loop is not self._loop:
            raise ConfigurationError(
                f"{self._provider}: an AsyncClient with http_backend='aiohttp' is bound to the "
                "event loop of its first request; create one client per event loop",
                provider=self._provider,
            )
        return self._session

    def _timeout(self, extension: dict[str, float | None]) -> Any:
        key = (extension.get("connect"), extension.get("read"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            if len(self._timeouts) >= 64:
                self._timeouts.clear()
            timeout = self._timeouts[key] = self._aiohttp.ClientTimeout(
                total=None, sock_connect=key[0], sock_read=key[1]
            )
        return timeout

    def _route(self, url: httpx.URL) -> tuple[Any, Any, Any]:
        """aiohttp's URL, the proxy to use (or None) and the proxy's credentials."""
        text = str(url)
        route = self._routes.get(text)
        if route is None:
            if len(self._routes) >= 64:
                self._routes.clear()
            from yarl import URL  # aiohttp's own dependency

            proxy: Any = None
            auth: Any = None
            proxies = self._proxies
            if proxies and not _bypass(url.host, proxies):
                address = proxies.get(url.scheme) or proxies.get("all")
                if address:
                    proxy = URL(address)
                    if proxy.user is not None:
                        auth = self._aiohttp.BasicAuth(proxy.user, proxy.password or "")
                        proxy = proxy.with_user(None)
            route = self._routes[text] = (URL(text, encoded=True), proxy, auth)
        return route

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._open()
        aiohttp = self._aiohttp
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        target, proxy, proxy_auth = self._route(request.url)
        try:
            body = request.content
        except httpx.RequestNotRead:  # a redirect's hop carries the body as a stream
            body = await request.aread()
        try:
            response = await session.request(
                request.method,
                target,
                proxy=proxy,
                proxy_auth=proxy_auth,
                headers=headers,
                data=body or None,
                allow_redirects=False,
                timeout=self._timeout(request.extensions.get("timeout", {})),
            )
        except aiohttp.ClientError as exc:
            raise _connect_error(aiohttp, exc) from exc
        except asyncio.TimeoutError as exc:
            raise httpx.ReadTimeout(str(exc) or "timed out") from exc
        return httpx.Response(
            response.status,
            headers=list(response.raw_headers),
            stream=_Body(aiohttp, response),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": response.reason.encode()},
        )

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def _connect_error(aiohttp: Any, exc: Exception) -> httpx.HTTPError:
    """The httpx error for a failure before the response head arrived."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(str(exc) or "connect timed out")
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return httpx.ReadTimeout(str(exc) or "timed out")
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        error = httpx.ConnectError(str(exc))
        error.__cause__ = exc.certificate_error  # how llmx recognizes a TLS failure
        return error
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(str(exc))
    if isinstance(exc, aiohttp.InvalidURL):
        return httpx.UnsupportedProtocol(str(exc))
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        return httpx.RemoteProtocolError(str(exc) or "server disconnected")
    # ClientResponseError's text holds the whole URL: only its message, as errors never show
    # the path or query
    detail = exc.message if isinstance(exc, aiohttp.ClientResponseError) else exc
    return httpx.ReadError(f"{type(exc).__name__}: {detail}")


class _Body(httpx.AsyncByteStream):
    """The response body as httpx reads it: aiohttp's chunks as they arrive. A plain iterator
    object, not an async generator, so abandoning it leaves nothing to finalize."""

    def __init__(self, aiohttp: Any, response: Any) -> None:
        self._aiohttp = aiohttp
        self._response = response
        self._content = response.content

    def __aiter__(self) -> _Body:
        return self

    async def __anext__(self) -> bytes:
        try:
            chunk: bytes = await self._content.readany()
        except self._aiohttp.ClientError as exc:
            if isinstance(exc, self._aiohttp.ServerTimeoutError):
                raise httpx.ReadTimeout(str(exc) or "timed out") from exc
            raise httpx.RemoteProtocolError(f"{type(exc).__name__}: {exc}") from exc
        except asyncio.TimeoutError as exc:
            raise httpx.ReadTimeout(str(exc) or "timed out") from exc
        if not chunk:
            raise StopAsyncIteration
        return chunk

    async def aclose(self) -> None:
        self._response.release()

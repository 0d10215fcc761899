"""Response bodies as the request loops see them: chunks, bounded reads, closing.

The transport hands in the httpx response, the httpx exception types and its mapping to llmx
errors, so this module needs no httpx import. Sync bodies guard their reads with the watchdog,
async bodies with cancel scopes, both only when a :class:`~llmx._timing.Timer` asks for it.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

import anyio

from . import _watchdog
from ._errors import LLMXError, RequestTimeout
from ._timing import Timer

__all__ = ["AsyncBody", "ErrorMap", "SyncBody", "next_hop", "socket_of", "tls_failure"]

ErrorMap = Callable[[Exception], LLMXError]
"""Maps an exception raised while reading a body to the llmx error to raise."""

_DRAIN_STEPS = 64


def next_hop(target: Any, response: Any, first: Any, secrets: frozenset[str]) -> Any:
    """``target``, the request a redirect leads to (as httpx builds it), or None when it must
    not be followed; credential headers never go to another origin."""
    if target is None or target.method != response.request.method:
        return None  # 301/302/303 would turn a POST into a GET
    here, there = first.url, target.url
    if (here.scheme, here.host, here.port) != (there.scheme, there.host, there.port):
        for name in secrets:
            target.headers.pop(name, None)
    return target


def socket_of(response: Any) -> Any:
    """The socket under an HTTP/1.1 response (for the watchdog), or None."""
    if response.http_version != "HTTP/1.1":
        return None
    try:
        return response.extensions["network_stream"].get_extra_info("socket")
    except (KeyError, AttributeError, TypeError):
        return None


def tls_failure(exc: BaseException) -> bool:
    """Whether a connection failed because the server's certificate did not verify."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class SyncBody:
    """A response whose body has not been read yet."""

    __slots__ = ("_response", "_errors", "_map", "status_code", "headers", "_chunks", "_watch",
                 "_sock", "_timer", "truncated")  # fmt: skip

    def __init__(
        self,
        response: Any,
        errors: type[Exception] | tuple[type[Exception], ...],
        mapper: ErrorMap,
        sock: Any,
        timer: Timer | None,
    ) -> None:
        self._response = response
        self._errors = errors
        self._map = mapper
        self.status_code: int = response.status_code
        # one pass into a plain dict: httpx.Headers scans and decodes on every lookup
        self.headers: Mapping[str, str] = dict(response.headers.items())
        self._chunks: Iterator[bytes] | None = None
        self._watch: _watchdog.Watch | None = None
        self._sock = sock
        self._timer = timer
        self.truncated = False
        if timer is not None:
            self.guard(timer)

    def guard(self, timer: Timer) -> None:
        """Make sure a silent connection cannot outlive ``timer.due``."""
        self._timer = timer
        if self._watch is not None and self._watch.timer is timer:
            self._watch.refresh()
        elif self._sock is not None:
            if self._watch is not None:
                self._watch.close()
            self._watch = _watchdog.watch(self._sock, timer)

    def chunks(self) -> Iterator[bytes]:
        """The body's chunks (one iterator per body)."""
        if self._chunks is None:
            self._chunks = self._iterate()
        return self._chunks

    def _iterate(self) -> Iterator[bytes]:
        try:
            yield from self._response.iter_bytes()
            return
        except self._errors as exc:
            error = self._failure(exc)
        raise error

    def _failure(self, exc: Exception) -> LLMXError:
        error = self._map(exc)
        timer = self._timer
        if timer is not None and (
            (self._watch is not None and self._watch.fired)
            or (isinstance(error, RequestTimeout) and time.monotonic() >= timer.due - 0.005)
        ):
            return timer.expired()
        return error

    def read(self, limit: int) -> bytes:
        """Up to ``limit`` bytes of the rest of the body; ``truncated`` tells if there was more
        (which is then not downloaded)."""
        parts: list[bytes] = []
        size = 0
        timer = self._timer
        for chunk in self.chunks():
            parts.append(chunk)
            size += len(chunk)
            if timer is not None:
                timer.tick(time.monotonic(), False)
            if size > limit:
                self.truncated = True
                break
        return b"".join(parts)[:limit]

    def finish(self) -> None:
        """Wait briefly for the end of the body so the connection can be reused."""
        timer = Timer.for_eof()
        self.guard(timer)
        chunks = self.chunks()
        try:
            for _ in range(_DRAIN_STEPS):
                next(chunks)
        except (StopIteration, LLMXError):
            pass

    def close(self) -> None:
        if self._watch is not None:
            self._watch.close()
        self._response.close()


class AsyncBody:
    """A response whose body has not been read yet (async)."""

    __slots__ = ("_response", "_errors", "_map", "status_code", "headers", "_chunks", "_open",
                 "truncated")  # fmt: skip

    def __init__(
        self,
        response: Any,
        errors: type[Exception] | tuple[type[Exception], ...],
        mapper: ErrorMap,
    ) -> None:
        self._response = response
        self._errors = errors
        self._map = mapper
        self.status_code: int = response.status_code
        # one pass into a plain dict: httpx.Headers scans and decodes on every lookup
        self.headers: Mapping[str, str] = dict(response.headers.items())
        self._chunks: AsyncIterator[bytes] | None = None
        self._open = False  # the chunk iterator is suspended mid-body
        self.truncated = False

    async def next_chunk(self, timer: Timer | None = None) -> bytes | None:
        """The next chunk, or None at the end; bounded by ``timer.due`` when it guards."""
        chunks = self._chunks
        if chunks is None:
            chunks = self._chunks = self._response.aiter_bytes()
        error: LLMXError
        try:
            if timer is None or not timer.guard:
                self._open = True
                chunk: bytes = await chunks.__anext__()
                return chunk
            with anyio.move_on_after(timer.due - time.monotonic()):
                self._open = True
                chunk = await chunks.__anext__()
                return chunk
            self._open = False  # the cancellation ended the iterator
            error = timer.expired()
        except StopAsyncIteration:
            self._open = False
            return None
        except self._errors as exc:
            self._open = False
            error = self._map(exc)
        raise error

    async def read(self, limit: int, timer: Timer | None = None) -> bytes:
        """Up to ``limit`` bytes of the rest of the body (see ``SyncBody.read``)."""
        parts: list[bytes] = []
        size = 0
        while (chunk := await self.next_chunk(timer)) is not None:
            parts.append(chunk)
            size += len(chunk)
            if size > limit:
                self.truncated = True
                break
        return b"".join(parts)[:limit]

    async def finish(self) -> None:
        """Wait briefly for the end of the body so the connection can be reused."""
        timer = Timer.for_eof()
        try:
            for _ in range(_DRAIN_STEPS):
                if await self.next_chunk(timer) is None:
                    return
        except LLMXError:
            pass

    async def aclose(self) -> None:
        with anyio.CancelScope(shield=True):
            await self._response.aclose()
            if self._open and self._chunks is not None:
                # Run httpx's suspended generators to their end (they fail at once on the
                # closed stream) rather than leave them to the garbage collector.
                for _ in range(_DRAIN_STEPS):
                    try:
                        await self._chunks.__anext__()
                    except BaseException:  # any end will do
                        break
                self._open = False

"""Minimal HTTP/1.1 for the emulator: request parsing and fault-aware response writing."""

from __future__ import annotations

import math
import socket
import struct
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from http import HTTPStatus

import anyio
from anyio.abc import SocketAttribute, SocketStream

from ._faults import Faults
from ._render import Plan

__all__ = ["BadRequest", "Connection", "HttpRequest", "write_response"]

MAX_HEAD = 64 * 1024
KEEPALIVE_COMMENT = b": keep-alive\n\n"
MALFORMED_EVENT = b'data: {"id":"chatcmpl-malformed","choices":[{"delta":{"content":"oops\n\n'
_STREAM_ERRORS = (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError)


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class HttpRequest:
    method: str
    target: str
    version: str
    headers: dict[str, str]
    body: bytes

    @property
    def keep_alive(self) -> bool:
        tokens = {t.strip().lower() for t in self.headers.get("connection", "").split(",")}
        if self.version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class Connection:
    """One accepted TCP connection with a read buffer."""

    def __init__(self, stream: SocketStream) -> None:
        self.stream = stream
        self._buf = bytearray()
        self.eof = False
        self.closed = False

    async def _receive(self) -> bool:
        if self.eof:
            return False
        try:
            self._buf += await self.stream.receive()
        except (anyio.EndOfStream, *_STREAM_ERRORS):
            self.eof = True
            return False
        return True

    async def read_request(self, max_body: int) -> HttpRequest | None:
        """The next request, or None when the client closed the connection cleanly."""
        while True:
            while self._buf[:2] == b"\r\n":
                del self._buf[:2]
            end = self._buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(self._buf) > MAX_HEAD:
                raise BadRequest(431, "Request Header Fields Too Large")
            if not await self._receive():
                if self._buf:
                    raise BadRequest(400, "incomplete request head")
                return None
        head = bytes(self._buf[:end]).decode("latin-1")
        del self._buf[: end + 4]
        lines = head.split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise BadRequest(400, "malformed request line")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise BadRequest(400, "malformed header line")
            key, value = name.lower(), value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        if "transfer-encoding" in headers:
            raise BadRequest(411, "Length Required")
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            raise BadRequest(400, "invalid Content-Length") from None
        if length < 0:
            raise BadRequest(400, "invalid Content-Length")
        if length > max_body:
            raise BadRequest(413, "Request Entity Too Large")
        while len(self._buf) < length:
            if not await self._receive():
                raise BadRequest(400, "incomplete request body")
        body = bytes(self._buf[:length])
        del self._buf[:length]
        return HttpRequest(parts[0], parts[1], parts[2], headers, body)

    async def send(self, data: bytes) -> bool:
        """Write; False if the peer is gone."""
        if self.closed:
            return False
        try:
            await self.stream.send(data)
        except _STREAM_ERRORS:
            self.eof = True
            return False
        return True

    async def wait_eof(self) -> None:
        """Return once the peer has closed its side (data it sends meanwhile is buffered)."""
        while await self._receive():
            pass

    async def pause(self, seconds: float, keepalive: float | None = None) -> bool:
        """Sleep (``math.inf`` = until the peer leaves), sending SSE keep-alive comments every
        ``keepalive`` seconds as chunks. False if the peer went away meanwhile."""
        deadline = anyio.current_time() + seconds
        while True:
            remaining = deadline - anyio.current_time()
            if remaining <= 0:
                return True
            step = min(remaining, keepalive) if keepalive else remaining
            with anyio.move_on_after(step):
                await self.wait_eof()
                return False
            if keepalive and deadline - anyio.current_time() > 0:
                if not await self.send(_chunk(KEEPALIVE_COMMENT)):
                    return False

    async def close(self, *, reset: bool = False, graceful: bool = False) -> None:
        """Abort (default), half-close and wait briefly for the peer (``graceful``, so sent
        data drains), or send a TCP RST (``reset``)."""
        if self.closed:
            return
        try:
            if graceful and not reset and not self.eof:
                with suppress(*_STREAM_ERRORS):
                    await self.stream.send_eof()
                with anyio.move_on_after(2.0):
                    await self.wait_eof()
        finally:
            self.closed = True
            with anyio.CancelScope(shield=True):
                if reset:
                    with suppress(OSError, AttributeError, TypeError):
                        raw = self.stream.extra(SocketAttribute.raw_socket)
                        linger = struct.pack("ii", 1, 0)
                        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                with suppress(*_STREAM_ERRORS):
                    await self.stream.aclose()


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%b\r\n" % (len(data), data)


def _split(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


async def write_response(
    conn: Connection, plan: Plan, faults: Faults, headers: Sequence[tuple[str, str]]
) -> bool:
    """Write ``plan`` applying ``faults``. True if the connection can be reused."""
    if faults.delay and not await conn.pause(faults.delay):
        return False
    if plan.mode == "drop":
        await conn.close(reset=faults.reset, graceful=not faults.reset)
        return False
    if plan.mode == "wire":
        for unit in plan.units:
            if not await conn.send(unit):
                break
        await conn.close(reset=faults.reset, graceful=not faults.reset)
        return False

    units = [u for u in plan.units if u]
    if plan.sse and faults.omit_done:
        units = [u for u in units if u.strip() != b"data: [DONE]"]
    if plan.chunked:
        if plan.sse and faults.malformed_after is not None:
            units.insert(min(faults.malformed_after, len(units)), MALFORMED_EVENT)
    else:
        body = b"".join(units)
        if faults.malformed_after is not None:
            body = body[: faults.malformed_after]
        units = [body]
    lower = {name for name, _ in headers}
    declared: int | None = None
    head = [f"HTTP/1.1 {plan.status} {reason(plan.status)}"]
    head += [f"{name}: {value}" for name, value in headers]
    if plan.chunked:
        head.append("transfer-encoding: chunked")
    elif "content-length" in lower:
        declared = int(dict(headers)["content-length"])
    else:
        head.append(f"content-length: {len(units[0])}")
    if not await conn.send(("\r\n".join(head) + "\r\n\r\n").encode("latin-1")):
        return False

    cut = faults.stall_after if faults.stall_after is not None else faults.disconnect_after
    if cut is not None:
        units = units[:cut] if plan.chunked else [units[0][:cut]]
    if faults.split_bytes:
        units = _split(b"".join(units), faults.split_bytes)
    keepalive = faults.keepalive if plan.chunked and plan.sse else None
    sent = 0
    for index, unit in enumerate(u for u in units if u):
        if index and faults.trickle and not await conn.pause(faults.trickle, keepalive):
            return False
        if not await conn.send(_chunk(unit) if plan.chunked else unit):
            return False
        sent += len(unit)
    if faults.stall_after is not None:
        await conn.pause(math.inf, keepalive)
        return False
    if faults.disconnect_after is not None:
        if faults.reset and sent:
            await anyio.sleep(0.05)  # let the events reach the peer before the RST
        await conn.close(reset=faults.reset, graceful=not faults.reset)
        return False
    if plan.chunked:
        return await conn.send(b"0\r\n\r\n")
    return declared is None or declared == sent

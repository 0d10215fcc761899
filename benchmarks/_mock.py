"""A fast loopback mock of Groq's chat completions, in its own process.

``python -m benchmarks._mock [--corrupt] [--max-seconds S]`` binds 127.0.0.1 on a free port,
prints the port on its first stdout line, and serves until its stdin closes (the benchmark
exited or closed it) or ``--max-seconds`` passed, whichever comes first.

It answers ``POST .../chat/completions`` (Groq's ``/openai/v1/chat/completions`` and any other
prefix the SDKs use) over HTTP/1.1 keep-alive with pre-rendered bytes: each distinct scenario is
rendered once and then written with a single ``transport.write``, so the server does as little
work per request as possible. Scenario (see ``_wire``): ``"stream": true`` -> chunked SSE, one
event per chunk; ``max_tokens`` / ``max_completion_tokens`` -> the number of text chunks (or of
tool-call argument fragments when the request has ``tools``). ``--corrupt`` alters one token or
fragment of every response, so that the benchmark's response checks must fail.
``GET /stats`` returns how many connections and requests it has served (for the harness).
"""

from __future__ import annotations

import argparse
import asyncio  # noqa: TID251 - a stand-alone server process, not llmx
import os
import re
import socket
import sys

from . import _wire

_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding:[ \t]*chunked", re.IGNORECASE)
_CLOSE = re.compile(rb"\r\nconnection:[ \t]*close", re.IGNORECASE)
_STREAM = re.compile(rb'"stream"\s*:\s*true')
_TOKENS = re.compile(rb'"max_(?:completion_)?tokens"\s*:\s*(\d+)')
_TOOLS = re.compile(rb'"tools"\s*:\s*\[\s*\{')
_MAX_HEAD = 64 * 1024
_MAX_BODY = 16 * 1024 * 1024
_MAX_N = 1_000_000


class MockServer:
    def __init__(self, *, corrupt: bool) -> None:
        self.corrupt = corrupt
        self._cache: dict[tuple[bool, bool, int], bytes] = {}
        self.requests = 0
        self.connections = 0

    def respond(self, head: bytes, body: bytes) -> bytes:
        self.requests += 1
        line = head.split(b"\r\n", 1)[0].split(b" ")
        if line[:2] == [b"GET", b"/stats"]:  # for the harness: connections opened so far
            body = b'{"connections":%d,"requests":%d}' % (self.connections, self.requests)
            return (
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
                b"\r\n%s" % (len(body), body)
            )
        if len(line) != 3 or line[0] != b"POST":
            return _wire.render_error(404, f"no route for {line!r}")
        path = line[1].split(b"?", 1)[0]
        if not path.endswith(b"/chat/completions"):
            return _wire.render_error(404, f"no route for {path!r}")
        match = _TOKENS.search(body)
        if match is None:
            return _wire.render_error(400, "the benchmark sets max_tokens on every request")
        n = int(match.group(1))
        tool = _TOOLS.search(body) is not None
        if not 1 <= n <= _MAX_N or (tool and n < 2):
            return _wire.render_error(400, f"max_tokens={n} out of range")
        key = (_STREAM.search(body) is not None, tool, n)
        response = self._cache.get(key)
        if response is None:
            render = _wire.render_stream if key[0] else _wire.render_json
            response = self._cache[key] = render(n, tool=tool, corrupt=self.corrupt)
        return response


class _Connection(asyncio.Protocol):
    def __init__(self, server: MockServer) -> None:
        self._server = server
        self._buf = bytearray()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._server.connections += 1
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        while buf:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > _MAX_HEAD:
                    self._fail(b"request head too large")
                return
            head = bytes(buf[: end + 2])
            parsed = self._body(head, buf, end + 4)
            if parsed is None:
                return
            body, used = parsed
            del buf[:used]
            assert self._transport is not None
            self._transport.write(self._server.respond(head, body))
            if _CLOSE.search(head):
                self._transport.close()
                return

    def _body(self, head: bytes, buf: bytearray, start: int) -> tuple[bytes, int] | None:
        """The request body and the bytes it used, or None if it has not all arrived."""
        match = _CONTENT_LENGTH.search(head)
        if match is not None:
            length = int(match.group(1))
            if length > _MAX_BODY:
                self._fail(b"request body too large")
                return None
            if len(buf) < start + length:
                return None
            return bytes(buf[start : start + length]), start + length
        if not _CHUNKED.search(head):
            return b"", start
        body = bytearray()
        pos = start
        while True:  # bounded: every pass consumes a chunk, or returns
            eol = buf.find(b"\r\n", pos)
            if eol < 0:
                return None
            size = int(bytes(buf[pos:eol]).split(b";", 1)[0], 16)
            if size == 0:
                trailer_end = buf.find(b"\r\n\r\n", eol)
                if buf[eol : eol + 4] == b"\r\n\r\n":
                    return bytes(body), eol + 4
                if trailer_end < 0:
                    return None
                return bytes(body), trailer_end + 4
            if len(buf) < eol + 2 + size + 2:
                return None
            body += buf[eol + 2 : eol + 2 + size]
            if len(body) > _MAX_BODY:
                self._fail(b"request body too large")
                return None
            pos = eol + 2 + size + 2

    def _fail(self, why: bytes) -> None:
        assert self._transport is not None
        self._transport.write(_wire.render_error(400, why.decode()))
        self._transport.close()


async def serve(*, corrupt: bool, max_seconds: float, port: int = 0) -> None:
    loop = asyncio.get_running_loop()
    state = MockServer(corrupt=corrupt)
    server = await loop.create_server(
        lambda: _Connection(state), "127.0.0.1", port, backlog=2048, reuse_address=True
    )
    bound = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"{bound}\n")
    sys.stdout.flush()
    stop = loop.create_future()

    def on_stdin() -> None:
        try:
            data = os.read(sys.stdin.fileno(), 4096)
        except OSError:
            data = b""
        if not data and not stop.done():
            stop.set_result("stdin closed")

    try:
        loop.add_reader(sys.stdin.fileno(), on_stdin)
    except (OSError, ValueError, NotImplementedError):
        pass  # no usable stdin: rely on the deadline
    loop.call_later(max_seconds, lambda: stop.done() or stop.set_result("deadline"))
    async with server:
        await stop
    server.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corrupt", action="store_true", help="alter every response")
    parser.add_argument("--max-seconds", type=float, default=1800.0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    asyncio.run(serve(corrupt=args.corrupt, max_seconds=args.max_seconds, port=args.port))


if __name__ == "__main__":
    main()

"""``Emulator``: a loopback Groq-compatible HTTP server running in a background thread."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterable
from email.utils import formatdate
from types import TracebackType
from typing import Any, Literal
from urllib.parse import unquote

import anyio
import anyio.to_thread
from anyio import CancelScope
from anyio.abc import SocketAttribute, SocketStream
from anyio.from_thread import BlockingPortal

from ._dialects import WireUrls, dialect_for, serve_dialect
from ._faults import Faults, RecordedRequest
from ._groq import (
    DEFAULT_MODELS,
    JSON_CT,
    IdSource,
    ModelInfo,
    dumps,
    error_body,
    prompt_tokens,
    rate_limit_headers,
)
from ._http import BadRequest, Connection, HttpRequest, write_response
from ._render import Context, Plan, render
from ._reply import DefaultSpec, HandlerSpec, Reply
from ._respond import default_reply, validate_chat

__all__ = ["Emulator"]

PREFIX = "/openai/v1"
_JSON_CACHE = "private, max-age=0, no-store, no-cache, must-revalidate"


class Emulator(WireUrls):
    """A local server speaking Groq's OpenAI-compatible wire format.

    Use as ``with Emulator() as emu:`` or ``async with Emulator() as emu:``; point a client at
    ``emu.base_url`` with ``emu.api_key``. Chat requests are answered by scripted replies
    (``emu.script(...)``, FIFO, one per chat request), else by ``set_default(...)``, else by a
    deterministic Groq-like responder. Every request is recorded in ``emu.requests``.
    """

    def __init__(
        self,
        *,
        api_key: str | None = "gsk_test_emulator",
        models: Iterable[str | ModelInfo] = (),
        host: str = "127.0.0.1",
        port: int = 0,
        validate: bool = True,
        seed: int = 0,
        backend: Literal["asyncio", "trio"] = "asyncio",
        max_body_bytes: int = 32 * 1024 * 1024,
    ) -> None:
        self.api_key = api_key
        self.validate = validate
        self.catalog: dict[str, ModelInfo] = {m.id: m for m in DEFAULT_MODELS}
        for model in models:
            info = model if isinstance(model, ModelInfo) else ModelInfo(model)
            self.catalog[info.id] = info
        self._host, self._requested_port = host, port
        self._backend = backend
        self._max_body = max_body_bytes
        self._ids = IdSource(seed)
        self._lock = threading.Condition()
        self._script: deque[Reply] = deque()
        self._default: Reply | None = None
        self._requests: list[RecordedRequest] = []
        self._errors: list[BaseException] = []
        self._chat_count = 0
        self._active = 0
        self._total = 0
        self._port: int | None = None
        self._thread: threading.Thread | None = None
        self._portal: BlockingPortal | None = None
        self._cancel: CancelScope | None = None
        self._ready = threading.Event()
        self._crash: BaseException | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Emulator:
        """Bind and serve in a daemon thread; returns once the port is open."""
        if self._thread is not None:
            raise RuntimeError("Emulator already started")
        self._ready.clear()
        self._thread = threading.Thread(target=self._run, name="llmx-emulator", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._crash is not None or self._port is None:
            self._thread.join(5)
            self._thread = None
            raise RuntimeError("Emulator failed to start") from self._crash
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Cancel every connection (including stalled streams) and join the thread."""
        thread, portal, cancel = self._thread, self._portal, self._cancel
        if thread is None:
            return
        if portal is not None and cancel is not None and thread.is_alive():
            try:
                portal.call(cancel.cancel)
            except RuntimeError:  # loop already gone
                pass
        thread.join(timeout)
        if thread.is_alive():
            raise RuntimeError("Emulator thread did not stop in time")
        self._thread = self._portal = self._cancel = None
        self._port = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Emulator:
        return await anyio.to_thread.run_sync(self.start)

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await anyio.to_thread.run_sync(self.stop)

    def _run(self) -> None:
        try:
            anyio.run(self._main, backend=self._backend)
        except BaseException as exc:  # reported by start()
            self._crash = exc
        finally:
            self._ready.set()

    async def _main(self) -> None:
        async with BlockingPortal() as portal:
            listener = await anyio.create_tcp_listener(
                local_host=self._host, local_port=self._requested_port
            )
            async with listener, anyio.create_task_group() as tg:
                self._port = listener.extra(SocketAttribute.local_port)
                self._portal, self._cancel = portal, tg.cancel_scope
                self._ready.set()
                await listener.serve(self._handle, task_group=tg)

    # --- public state ------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("Emulator is not running; use `with Emulator() as emu:`")
        return self._port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no path)."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/openai/v1`` (Groq's layout)."""
        return self.url + PREFIX

    def script(self, *replies: Reply) -> None:
        """Queue replies; each incoming chat request takes the next one (FIFO)."""
        for reply in replies:
            if not isinstance(reply, Reply):
                raise TypeError(f"expected Reply, got {type(reply).__name__}")
        with self._lock:
            self._script.extend(replies)

    def set_default(self, reply: Reply | None) -> None:
        """Reply used when the script is empty (None: the built-in responder)."""
        with self._lock:
            self._default = reply

    @property
    def pending(self) -> int:
        """Scripted replies not consumed yet."""
        with self._lock:
            return len(self._script)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far (a copy), in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.is_chat]

    @property
    def errors(self) -> list[BaseException]:
        """Exceptions raised by ``Reply.handler`` functions or the emulator itself."""
        with self._lock:
            return list(self._errors)

    @property
    def active_connections(self) -> int:
        with self._lock:
            return self._active

    @property
    def total_connections(self) -> int:
        with self._lock:
            return self._total

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until at least ``count`` requests were recorded."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._requests) >= count, timeout):
                raise TimeoutError(f"{len(self._requests)} requests after {timeout}s")
            return list(self._requests)

    def reset(self) -> None:
        """Forget recorded requests, scripted replies, the default override and counters."""
        with self._lock:
            self._requests.clear()
            self._script.clear()
            self._errors.clear()
            self._default = None
            self._chat_count = 0
            self._total = self._active

    def __repr__(self) -> str:
        where = self.base_url if self._port is not None else "stopped"
        return f"<Emulator {where} pending={self.pending}>"

    # --- serving -----------------------------------------------------------------------------

    async def _handle(self, stream: SocketStream) -> None:
        conn = Connection(stream)
        with self._lock:
            self._active += 1
            self._total += 1
        try:
            await self._converse(conn)
            await conn.close(graceful=True)
        except Exception as exc:  # a bug or a bad handler must never take the server down
            with self._lock:
                self._errors.append(exc)
        finally:
            await conn.close()
            with self._lock:
                self._active -= 1

    async def _converse(self, conn: Connection) -> None:
        """Serve requests on one connection until either side ends it."""
        while True:
            try:
                request = await conn.read_request(self._max_body)
            except BadRequest as exc:
                body = error_body(exc.message, "invalid_request_error")
                await self._send_plain(conn, exc.status, body)
                return
            if request is None:
                return
            keep = await self._serve(conn, request)
            if not keep or not request.keep_alive:
                return

    def _record(self, request: HttpRequest) -> RecordedRequest:
        path, _, query = request.target.partition("?")
        try:
            parsed: Any = json.loads(request.body) if request.body else None
        except ValueError:
            parsed = None
        recorded = RecordedRequest(
            request.method,
            path,
            dict(request.headers),
            request.body,
            parsed,
            query,
            time.monotonic(),
        )
        with self._lock:
            self._requests.append(recorded)
            self._lock.notify_all()
        return recorded

    def _base_headers(self, request_id: str, content_type: str, sse: bool) -> list[tuple[str, str]]:
        return [
            ("date", formatdate(usegmt=True)),
            ("content-type", content_type),
            ("cache-control", "no-cache" if sse else _JSON_CACHE),
            ("vary", "Origin"),
            ("x-groq-region", "emu"),
            ("x-request-id", request_id),
        ]

    async def _send_plain(
        self, conn: Connection, status: int, doc: Any, request_id: str | None = None
    ) -> bool:
        plan = Plan(status, JSON_CT, [dumps(doc).encode()])
        headers = self._base_headers(request_id or self._ids.request_id(), JSON_CT, False)
        return await write_response(conn, plan, Faults(), headers)

    async def _serve(self, conn: Connection, request: HttpRequest) -> bool:
        recorded = self._record(request)
        request_id = self._ids.request_id()
        if (dialect := dialect_for(recorded)) is not None:  # Anthropic, Gemini, Ollama, OpenAI
            return await serve_dialect(self, dialect, conn, recorded, request_id)
        auth = recorded.headers.get("authorization")
        if self.api_key is not None and auth != f"Bearer {self.api_key}":
            doc = error_body("Invalid API Key", "invalid_request_error", "invalid_api_key")
            return await self._send_plain(conn, 401, doc, request_id)
        method, path = recorded.method, recorded.path
        if method == "POST" and path == PREFIX + "/chat/completions":
            return await self._chat(conn, recorded, request_id)
        if method == "GET" and path == PREFIX + "/models":
            listing = {"object": "list", "data": [m.to_json() for m in self.catalog.values()]}
            return await self._send_plain(conn, 200, listing, request_id)
        if method == "GET" and path.startswith(PREFIX + "/models/"):
            model_id = unquote(path[len(PREFIX + "/models/") :])
            if model_id in self.catalog:
                model_doc = self.catalog[model_id].to_json()
                return await self._send_plain(conn, 200, model_doc, request_id)
            message = f"The model `{model_id}` does not exist or you do not have access to it."
            doc = error_body(message, "invalid_request_error", "model_not_found")
            return await self._send_plain(conn, 404, doc, request_id)
        message = (
            f"Unknown request URL: {method} {path}. Please check the URL for typos, "
            "or see the docs at https://console.groq.com/docs/"
        )
        doc = error_body(message, "invalid_request_error", "unknown_url")
        return await self._send_plain(conn, 404, doc, request_id)

    async def _chat(self, conn: Connection, recorded: RecordedRequest, request_id: str) -> bool:
        body = recorded.json
        reply: Reply | None = None
        if recorded.body and body is None:
            try:
                json.loads(recorded.body)
            except ValueError as exc:
                reply = Reply.error(400, message=f"Failed to parse request body as JSON: {exc}")
        elif not recorded.body:
            reply = Reply.error(400, message="request body is empty; expected a JSON object")
        if reply is None and self.validate:
            reply = validate_chat(body)
        if reply is None:
            with self._lock:
                reply = self._script.popleft() if self._script else self._default
        reply = reply or Reply.default()
        prompt = prompt_tokens(body if isinstance(body, dict) else None)
        ctx = Context(
            body if isinstance(body, dict) else None,
            self._ids,
            request_id,
            int(time.time()),
            prompt,
        )
        reply = await self._resolve(reply, recorded, ctx)
        plan = render(reply.spec, reply.faults, ctx)
        with self._lock:
            self._chat_count += 1
            used = self._chat_count
        content_type = reply.faults.content_type or plan.content_type or JSON_CT
        headers = self._base_headers(request_id, content_type, plan.sse)
        headers += rate_limit_headers(used, prompt)
        for name, value in reply.faults.headers:
            headers = [(k, v) for k, v in headers if k != name]
            if value is not None:
                headers.append((name, value))
        return await write_response(conn, plan, reply.faults, headers)

    async def _resolve(self, reply: Reply, recorded: RecordedRequest, ctx: Context) -> Reply:
        for _ in range(32):
            spec = reply.spec
            if isinstance(spec, HandlerSpec):
                try:
                    produced = await anyio.to_thread.run_sync(spec.fn, recorded)
                    if not isinstance(produced, Reply):
                        raise TypeError(f"handler returned {type(produced).__name__}, not Reply")
                except Exception as exc:
                    with self._lock:
                        self._errors.append(exc)
                    message = f"emulator handler raised {exc!r}"
                    return Reply.error(500, message=message, type="internal_server_error")
                reply = produced
            elif isinstance(spec, DefaultSpec):
                produced = default_reply(ctx.body or {}, self.catalog)
                reply = Reply(produced.spec, reply.faults)
            else:
                return reply
        return Reply.error(500, message="emulator: too many nested handler replies")

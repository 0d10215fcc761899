"""The emulator's wire dialects: routing by path, serving, and rendering without a socket.

One ``Emulator`` speaks every supported wire at once; the path picks the dialect:

=========================================  ==========  =========================================
path                                       dialect     ``base_url_for(...)``
=========================================  ==========  =========================================
``/openai/v1/...``                         groq        ``http://127.0.0.1:PORT/openai/v1``
``/v1/messages``, ``/v1/models`` (with     anthropic   ``http://127.0.0.1:PORT``
``anthropic-version`` or ``x-api-key``)
``/v1beta/models/{model}:...``             gemini      ``http://127.0.0.1:PORT/v1beta``
``/api/chat``, ``/api/tags``               ollama      ``http://127.0.0.1:PORT``
any other ``/v1/...``                      openai      ``http://127.0.0.1:PORT/v1``
=========================================  ==========  =========================================

Every dialect checks ``emu.api_key`` in its own header, validates requests the way its API does
(``emu.validate``), takes replies from the same script, and answers ``Reply.default()`` with the
same deterministic responder, which reads an OpenAI-shaped view of the request.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from ._anthropic import AnthropicDialect
from ._faults import Faults, RecordedRequest
from ._gemini import PREFIX as GEMINI_PREFIX
from ._gemini import GeminiDialect
from ._groq import DEFAULT_MODELS, JSON_CT, SSE_CT, IdSource, dumps, prompt_tokens
from ._http import Connection, write_response
from ._neutral import NDJSON_CT, Dialect, Turn, default_answer
from ._ollama import OllamaDialect
from ._openai import OpenAIDialect, tool_pairing_problem
from ._render import Context, Plan, render
from ._reply import DefaultSpec, ErrorSpec, HandlerSpec, Reply
from ._respond import default_reply, validate_chat

if TYPE_CHECKING:
    from ._server import Emulator

__all__ = [
    "DIALECTS",
    "WIRES",
    "WireResponse",
    "WireUrls",
    "base_path_for",
    "dialect_for",
    "render_wire",
    "serve_dialect",
    "validate_request",
]

DIALECTS: dict[str, Dialect] = {
    d.name: d for d in (AnthropicDialect(), GeminiDialect(), OllamaDialect(), OpenAIDialect())
}
WIRES = ("groq", *DIALECTS)
"""Every wire format the emulator speaks."""
_BASE_PATHS = {"groq": "/openai/v1", "anthropic": "", "gemini": GEMINI_PREFIX, "ollama": ""}
_GROQ_CATALOG = {m.id: m for m in DEFAULT_MODELS}


def base_path_for(provider: str) -> str:
    """The path of the base URL ``provider``'s adapter expects (any name not listed is taken
    to be OpenAI-compatible: ``/v1``)."""
    return _BASE_PATHS.get(provider, "/v1")


class WireUrls:
    """Gives the ``Emulator`` ``base_url_for(provider)``."""

    @property
    def url(self) -> str:
        raise NotImplementedError

    def base_url_for(self, provider: str) -> str:
        """The base URL ``provider``'s adapter expects from this emulator: groq ``/openai/v1``,
        gemini ``/v1beta``, anthropic and ollama the bare URL, any other (OpenAI-compatible)
        provider ``/v1``. Pass it as ``base_url=`` with ``api_key=emu.api_key``."""
        return self.url + base_path_for(provider)


def dialect_for(request: RecordedRequest) -> Dialect | None:
    """The dialect serving ``request``; None for Groq's ``/openai/v1`` and unknown paths."""
    path, headers = request.path, request.headers
    if path.startswith("/v1/messages") or (
        path.startswith("/v1/models") and ("anthropic-version" in headers or "x-api-key" in headers)
    ):
        return DIALECTS["anthropic"]
    if path.startswith(GEMINI_PREFIX + "/"):
        return DIALECTS["gemini"]
    if path.startswith("/api/"):
        return DIALECTS["ollama"]
    if path.startswith("/v1/"):
        return DIALECTS["openai"]
    return None


# --- serving ---------------------------------------------------------------------------------


async def serve_dialect(
    emu: Emulator, dialect: Dialect, conn: Connection, recorded: RecordedRequest, request_id: str
) -> bool:
    """Answer one request in ``dialect``; True if the connection can be reused."""
    key = emu.api_key
    if key is not None and not dialect.authorized(recorded, key):
        return await _send(conn, dialect, *dialect.unauthorized(recorded), request_id)
    other = dialect.endpoint(recorded, _extra_models(emu))
    if other is not None:
        return await _send(conn, dialect, *other, request_id)
    problem = _body_problem(recorded) or (_validated(dialect, recorded) if emu.validate else None)
    if problem is not None:
        reply = Reply.error(400, message=problem)
    else:
        reply = _take_reply(emu) or Reply.default()
    for _ in range(32):
        spec = reply.spec
        if isinstance(spec, HandlerSpec):
            try:
                produced = await anyio.to_thread.run_sync(spec.fn, recorded)
                if not isinstance(produced, Reply):
                    raise TypeError(f"handler returned {type(produced).__name__}, not Reply")
            except Exception as exc:
                _record_error(emu, exc)
                produced = Reply.error(500, message=f"emulator handler raised {exc!r}")
            reply = produced
        elif isinstance(spec, DefaultSpec):
            reply = _default(dialect, recorded, reply.faults)
        else:
            break
    else:
        reply = Reply.error(500, message="emulator: too many nested handler replies")
    plan, headers = _prepare(dialect, reply, recorded, emu._ids, request_id, int(time.time()))
    return await write_response(conn, plan, reply.faults, headers)


def _take_reply(emu: Emulator) -> Reply | None:
    # The script and the default reply are shared by every wire (the Emulator's own state).
    with emu._lock:
        return emu._script.popleft() if emu._script else emu._default


def _record_error(emu: Emulator, exc: BaseException) -> None:
    with emu._lock:
        emu._errors.append(exc)


def _extra_models(emu: Emulator) -> list[str]:
    return [model for model in emu.catalog if model not in _GROQ_CATALOG]


async def _send(conn: Connection, dialect: Dialect, status: int, doc: Any, request_id: str) -> bool:
    plan = Plan(status, JSON_CT, [dumps(doc).encode()])
    headers = _headers(dialect.request_id_header, request_id, JSON_CT, streamed=False)
    return await write_response(conn, plan, Faults(), headers)


def _body_problem(recorded: RecordedRequest) -> str | None:
    if not recorded.body:
        return "request body is empty; expected a JSON object"
    if recorded.json is None:
        try:
            json.loads(recorded.body)
        except ValueError as exc:
            return f"Failed to parse request body as JSON: {exc}"
    return None


def _validated(dialect: Dialect, recorded: RecordedRequest) -> str | None:
    try:
        return dialect.validate(recorded)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        return f"malformed request body ({type(exc).__name__}: {exc})"


def _default(dialect: Dialect, recorded: RecordedRequest, faults: Faults) -> Reply:
    produced = default_answer(_normalized(dialect, recorded), dialect.thinking(recorded))
    return Reply(produced.spec, faults)


def _normalized(dialect: Dialect, recorded: RecordedRequest) -> dict[str, Any]:
    try:
        return dialect.normalize(recorded)
    except (AttributeError, KeyError, TypeError, ValueError):  # an unvalidated, odd body
        return {"model": dialect.model_of(recorded), "messages": []}


def _streamed(wanted: bool, faults: Faults) -> bool:
    if faults.stream is not None:
        return faults.stream
    if faults.content_type:
        base = faults.content_type.split(";")[0].strip().lower()
        if base == JSON_CT:
            return False
        if base in (SSE_CT, NDJSON_CT):
            return True
    return wanted


def _headers(
    request_id_header: str | None, request_id: str, content_type: str, *, streamed: bool
) -> list[tuple[str, str]]:
    headers = [
        ("date", formatdate(usegmt=True)),
        ("content-type", content_type),
        ("cache-control", "no-cache" if streamed else "no-store"),
    ]
    if request_id_header:
        headers.append((request_id_header, request_id))
    return headers


def _with_fault_headers(headers: list[tuple[str, str]], faults: Faults) -> list[tuple[str, str]]:
    for name, value in faults.headers:
        headers = [(k, v) for k, v in headers if k != name]
        if value is not None:
            headers.append((name, value))
    return headers


def _prepare(
    dialect: Dialect,
    reply: Reply,
    recorded: RecordedRequest,
    ids: IdSource,
    request_id: str,
    created: int,
) -> tuple[Plan, list[tuple[str, str]]]:
    normalized = _normalized(dialect, recorded)
    turn = Turn(
        recorded.json if isinstance(recorded.json, dict) else {},
        dialect.model_of(recorded),
        _streamed(dialect.wants_stream(recorded), reply.faults),
        ids,
        request_id,
        created,
        prompt_tokens(normalized),
        recorded.query,
    )
    plan = dialect.plan(reply, turn, recorded)
    content_type = reply.faults.content_type or plan.content_type or JSON_CT
    headers = _headers(dialect.request_id_header, request_id, content_type, streamed=plan.chunked)
    return plan, _with_fault_headers(headers, reply.faults)


# --- offline ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WireResponse:
    """A response as the emulator would send it; header names are lower-case."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def streamed(self) -> bool:
        content_type = self.headers.get("content-type", "")
        return content_type.startswith((SSE_CT, NDJSON_CT))


def _recorded(
    method: str, path: str, body: Any, query: str, headers: Mapping[str, str] | None
) -> RecordedRequest:
    raw = dumps(body).encode() if body is not None else b""
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    return RecordedRequest(method, path, lowered, raw, body, query, 0.0)


def render_wire(
    wire: str,
    reply: Reply,
    *,
    path: str,
    body: Any,
    method: str = "POST",
    query: str = "",
    headers: Mapping[str, str] | None = None,
    seed: int = 0,
    created: int = 1_750_000_000,
) -> WireResponse:
    """The response the emulator would send to one request in ``wire`` (a name of ``WIRES``),
    without a socket and deterministically (the same ``seed`` gives the same ids). Handlers run
    in the caller's thread; ``Reply.default()`` uses the shared responder; no validation."""
    recorded = _recorded(method, path, body, query, headers)
    ids = IdSource(seed)
    request_id = ids.request_id()
    for _ in range(32):
        spec = reply.spec
        if isinstance(spec, HandlerSpec):
            reply = spec.fn(recorded)
        elif isinstance(spec, DefaultSpec) and wire == "groq":
            reply = Reply(default_reply(body or {}, _GROQ_CATALOG).spec, reply.faults)
        elif isinstance(spec, DefaultSpec):
            reply = _default(DIALECTS[wire], recorded, reply.faults)
        else:
            break
    if wire == "groq":
        ctx = Context(body if isinstance(body, dict) else None, ids, request_id, created, 0)
        ctx.prompt_tokens = prompt_tokens(ctx.body)
        plan = render(reply.spec, reply.faults, ctx)
        content_type = reply.faults.content_type or plan.content_type or JSON_CT
        headers_out = _headers("x-request-id", request_id, content_type, streamed=plan.chunked)
        headers_out = _with_fault_headers(headers_out, reply.faults)
    else:
        plan, headers_out = _prepare(DIALECTS[wire], reply, recorded, ids, request_id, created)
    if plan.mode != "http":
        raise ValueError(f"a {plan.mode!r} reply has no HTTP response to render")
    headers = {name: value for name, value in headers_out if name != "date"}
    return WireResponse(plan.status, headers, b"".join(plan.units))


def validate_request(
    wire: str,
    *,
    path: str,
    body: Any,
    headers: Mapping[str, str] | None = None,
    query: str = "",
) -> str | None:
    """The message of the 400 the emulator would answer this chat request with, or None."""
    if wire == "groq":
        bad = validate_chat(body)
        if bad is not None and isinstance(bad.spec, ErrorSpec):
            return bad.spec.message or "invalid request"
        messages = body.get("messages") if isinstance(body, dict) else None
        return tool_pairing_problem(messages) if isinstance(messages, list) else None
    dialect = DIALECTS[wire]
    recorded = _recorded("POST", path, body, query, headers)
    if dialect.endpoint(recorded, []) is not None:
        return f"{path} is not a chat endpoint of the {wire} wire"
    return dialect.validate(recorded)

"""The public API that provider adapters are written against.

An adapter translates and does no I/O: it builds an :class:`HttpRequest` from a
:class:`llmx.Request`, turns an :class:`HttpResponse` into a :class:`llmx.Response` or an error,
and decodes wire frames into events with a fresh :class:`StreamDecoder` per stream. The core owns
sockets, authentication, timeouts, retries and framing, so one adapter serves the sync and the
async client alike and can be tested by feeding it recorded transcripts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from ._catalog import ModelCard
from ._errors import (
    AuthenticationError,
    ContextLengthError,
    InvalidRequestError,
    ProviderError,
    RateLimitError,
    ServerError,
    StreamError,
    UnsupportedFeatureError,
)
from ._events import Event
from ._headers import parse_duration, parse_rate_limit, parse_retry_after, request_id_from
from ._parts import PartTracker, ThinkTagSplitter
from ._sse import ServerSentEvent
from ._types import ModelInfo, RateLimit, Request, Response

__all__ = [
    "Adapter",
    "AdapterBase",
    "HttpRequest",
    "HttpResponse",
    "ModelCard",
    "PartTracker",
    "ProviderSpec",
    "ServerSentEvent",
    "StreamDecoder",
    "ThinkTagSplitter",
    "error_fields",
    "error_from_status",
    "parse_duration",
    "parse_rate_limit",
    "parse_retry_after",
    "request_id_from",
    "stream_error",
]


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """What the core needs to know to talk to a provider: where, how to authenticate, framing."""

    name: str
    default_base_url: str | None
    api_key_env: str | None
    base_url_env: str | None = None
    auth_header: str = "authorization"
    auth_prefix: str = "Bearer "
    key_required: bool = True
    framing: Literal["sse", "ndjson"] = "sse"
    default_headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """A request for the core to send. ``path`` is appended to the client's base URL."""

    method: str
    path: str
    body: dict[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A response as the adapter sees it; header names are lower-case."""

    status_code: int
    headers: Mapping[str, str]
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body)


class StreamDecoder(Protocol):
    """Turns wire frames into events. One instance per stream."""

    def feed(self, frame: ServerSentEvent) -> list[Event]:
        """Events for one frame (an SSE event, or one NDJSON line as ``data``)."""

    def close(self) -> list[Event]:
        """Events at end of stream; raise StreamError if the stream was cut short."""


@runtime_checkable
class Adapter(Protocol):
    """A provider adapter: pure translation between llmx types and one wire protocol."""

    spec: ProviderSpec

    def build_request(self, request: Request, *, stream: bool) -> HttpRequest: ...

    def parse_response(self, response: HttpResponse, request: Request) -> Response: ...

    def stream_decoder(self, request: Request) -> StreamDecoder: ...

    def parse_error(self, response: HttpResponse) -> ProviderError: ...

    def rate_limit(self, headers: Mapping[str, str]) -> RateLimit | None: ...

    def warnings(self, request: Request) -> list[str]: ...

    def models_request(self) -> HttpRequest: ...

    def parse_models(self, response: HttpResponse) -> list[ModelInfo]: ...


class AdapterBase:
    """Defaults for the optional parts of :class:`Adapter`."""

    spec: ProviderSpec
    catalog: Mapping[str, ModelCard] = {}
    """Known models with limits, prices and capabilities (see :func:`llmx.model_card`)."""

    def parse_error(self, response: HttpResponse) -> ProviderError:
        message, code, error_type, body = error_fields(response)
        return error_from_status(
            self.spec.name,
            response.status_code,
            message,
            headers=response.headers,
            code=code,
            error_type=error_type,
            body=body,
        )

    def rate_limit(self, headers: Mapping[str, str]) -> RateLimit | None:
        return parse_rate_limit(headers)

    def warnings(self, request: Request) -> list[str]:
        """Settings of ``request`` this provider accepts but cannot honour (the adapter also
        puts them on ``response-start`` and ``Response.warnings``)."""
        return []

    def models_request(self) -> HttpRequest:
        raise UnsupportedFeatureError(
            f"{self.spec.name} has no model listing in llmx", provider=self.spec.name
        )

    def parse_models(self, response: HttpResponse) -> list[ModelInfo]:  # pragma: no cover
        raise UnsupportedFeatureError(
            f"{self.spec.name} has no model listing in llmx", provider=self.spec.name
        )


def error_fields(response: HttpResponse) -> tuple[str, str | None, str | None, Any]:
    """Message, code, type and parsed body of an error response; non-JSON bodies kept as text.

    Understands ``{"error": {"message", "code", "type"}}``, ``{"error": "text"}`` and flat
    ``{"message": ...}`` bodies."""
    text = response.body.decode("utf-8", "replace")
    try:
        body: Any = json.loads(text)
    except ValueError:
        snippet = " ".join(text.split())[:300]
        return (snippet or "(empty body)"), None, None, text
    error = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(error, dict):
        message = error.get("message") or error.get("detail") or json.dumps(error)[:300]
        code = error.get("code")
        kind = error.get("type") or error.get("status")
        return (
            str(message),
            (str(code) if code is not None else None),
            (str(kind) if kind is not None else None),
            body,
        )
    return str(error)[:300], None, None, body


_CONTEXT_MARKERS = (
    "context_length_exceeded",
    "context length",
    "context window",
    "maximum context",
    "exceed_context_size",
    "exceeds the available context",
    "prompt is too long",
    "too many tokens",
    "reduce the length",
)
_WAIT_IN_MESSAGE = re.compile(r"try again in ([0-9hmsµun.]+)", re.IGNORECASE)


def error_from_status(
    provider: str,
    status: int,
    message: str,
    *,
    headers: Mapping[str, str] | None = None,
    code: str | None = None,
    error_type: str | None = None,
    body: Any = None,
    retryable: bool | None = None,
    retry_after: float | None = None,
    error_class: type[ProviderError] | None = None,
    **extra: Any,
) -> ProviderError:
    """Build the typed error for an HTTP status (or an in-stream error's logical status).

    ``retry_after`` (seconds) is for waits found in the body; headers are read here."""
    headers = headers or {}
    lowered = f"{code or ''} {message}".lower()
    cls: type[ProviderError]
    if error_class is not None:
        cls = error_class
    elif status in (401, 403):
        cls = AuthenticationError
    elif status in (429, 498):
        cls = RateLimitError
    elif status >= 500:
        cls = ServerError
    elif any(marker in lowered for marker in _CONTEXT_MARKERS):
        cls = ContextLengthError
    else:
        cls = InvalidRequestError
    if retry_after is None:
        retry_after = parse_retry_after(headers)
    if retry_after is None and cls is RateLimitError:
        match = _WAIT_IN_MESSAGE.search(message)
        retry_after = parse_duration(match.group(1).rstrip(".")) if match else None
    should_retry = headers.get("x-should-retry")
    if retryable is None and should_retry in ("true", "false"):
        retryable = should_retry == "true"
    detail = f"HTTP {status}" + (f", {code}" if code else "")
    text = f"{provider} error ({detail}): {message}"
    if cls.hint:
        text += f" — {cls.hint}"
    return cls(
        text,
        provider=provider,
        status_code=status,
        code=code,
        error_type=error_type,
        request_id=request_id_from(headers),
        body=body,
        headers=headers,
        retry_after=retry_after,
        retryable=retryable,
        **extra,
    )


def stream_error(message: str, *, provider: str) -> StreamError:
    """A StreamError for a malformed frame, naming the provider."""
    return StreamError(f"{provider} stream: {message}", provider=provider)

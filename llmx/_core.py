"""Everything the sync and async clients share, free of I/O: request preparation, error and
retry decisions, response finishing, and the per-stream decoding state."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from ._config import ClientSettings, RetryPolicy, Timeout
from ._errors import (
    InvalidInputError,
    LLMXError,
    ProviderError,
    RequestTimeout,
    StreamError,
    TransportError,
)
from ._events import Accumulator, Event
from ._headers import request_id_from
from ._ndjson import NDJSONDecoder
from ._sse import ServerSentEvent, SSEDecoder
from ._types import Message, Request, Response
from ._version import __version__
from .adapter import Adapter, HttpRequest, HttpResponse

__all__ = ["ClientCore", "Prepared", "StreamState"]

E = TypeVar("E", bound=LLMXError)

_USER_AGENT = f"llmx/{__version__}"
_REQUEST_FIELDS = frozenset(Request.model_fields)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A request ready to send."""

    request: Request
    method: str
    url: str
    content: bytes | None
    headers: Mapping[str, str]
    params: Mapping[str, str]
    timeout: Timeout
    retry: RetryPolicy
    deadline: float | None


class ClientCore:
    """Shared state and decisions of one client; holds the API key, never shows it."""

    __slots__ = ("settings", "adapter", "_headers", "_secret", "_base_url")

    def __init__(self, settings: ClientSettings, adapter: Adapter) -> None:
        self.settings = settings
        self.adapter = adapter
        spec = adapter.spec
        headers = {
            "user-agent": _USER_AGENT,
            "accept": "application/json",
            **{k.lower(): v for k, v in spec.default_headers.items()},
            **{k.lower(): v for k, v in settings.headers.items()},
        }
        key = settings.api_key.get_secret_value() if settings.api_key else None
        if key:
            headers[spec.auth_header.lower()] = spec.auth_prefix + key
        self._secret = key
        self._headers = headers
        self._base_url = settings.base_url.rstrip("/")

    # -- preparing ---------------------------------------------------------------------------

    def build_request(self, request: Request | str, overrides: Mapping[str, Any]) -> Request:
        """Apply per-call overrides and the client's defaults, then validate."""
        if isinstance(request, str):
            request = Request(messages=[Message.user(request)])
        if overrides:
            unknown = set(overrides) - _REQUEST_FIELDS
            if unknown:
                raise InvalidInputError(
                    f"unknown request setting(s) {sorted(unknown)}; "
                    f"valid ones: {sorted(_REQUEST_FIELDS - {'messages'})}"
                )
            request = Request.model_validate({**dict(request), **overrides})
        updates = {
            name: value
            for name, value in self.settings.defaults.items()
            if getattr(request, name) is None
        }
        if request.model is None:
            if self.settings.model is None:
                raise InvalidInputError(
                    "no model given: pass model=... to the call, or set a client default "
                    "with ClientBuilder().model(...) / Client(model=...)"
                )
            updates["model"] = self.settings.model
        if updates:
            request = request.model_copy(update=updates)
        validate_messages(request)
        return request

    def prepare(
        self,
        request: Request,
        *,
        stream: bool,
        timeout: Timeout | float | None,
        max_retries: int | None,
    ) -> Prepared:
        http = self.adapter.build_request(request, stream=stream)
        return self._prepared(request, http, timeout, max_retries)

    def prepare_models(self) -> Prepared:
        return self._prepared(None, self.adapter.models_request(), None, None)

    def _prepared(
        self,
        request: Request | None,
        http: HttpRequest,
        timeout: Timeout | float | None,
        max_retries: int | None,
    ) -> Prepared:
        effective = self.settings.timeout if timeout is None else Timeout.coerce(timeout)
        retry = self.settings.retry
        if max_retries is not None:
            retry = retry.model_copy(update={"max_retries": max_retries})
        headers = self._headers
        if http.body is not None or http.headers:
            headers = {**headers, **http.headers}
        content = None
        if http.body is not None:
            headers["content-type"] = "application/json"
            content = json.dumps(http.body, ensure_ascii=False, separators=(",", ":")).encode()
        url = http.path if "://" in http.path else self._base_url + http.path
        deadline = time.monotonic() + effective.total if effective.total else None
        return Prepared(
            request or Request(messages=[]),
            http.method,
            url,
            content,
            headers,
            http.params,
            effective,
            retry,
            deadline,
        )

    # -- responses and errors ----------------------------------------------------------------

    def error_for(self, status: int, headers: Mapping[str, str], body: bytes) -> ProviderError:
        if 300 <= status < 400:
            location = headers.get("location", "?")
            return ProviderError(
                f"{self.settings.provider}: HTTP {status} redirect to {location} was not "
                "followed (redirects never carry credentials); fix base_url",
                provider=self.settings.provider,
                status_code=status,
                headers=headers,
                request_id=request_id_from(headers),
                retryable=False,
            )
        error = self.adapter.parse_error(HttpResponse(status, headers, body))
        return self.scrub(error)

    def parse(
        self, status: int, headers: Mapping[str, str], body: bytes, request: Request
    ) -> Response:
        try:
            response = self.adapter.parse_response(HttpResponse(status, headers, body), request)
        except LLMXError as error:
            raise self.scrub(error) from None
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            snippet = " ".join(body[:200].decode("utf-8", "replace").split())
            raise ProviderError(
                f"{self.settings.provider}: could not read the response body "
                f"({type(exc).__name__}: {exc}); body starts: {snippet!r}",
                provider=self.settings.provider,
                status_code=status,
                headers=headers,
                request_id=request_id_from(headers),
                body=body.decode("utf-8", "replace"),
                retryable=False,
            ) from exc
        return self.finish(response, headers)

    def finish(self, response: Response, headers: Mapping[str, str]) -> Response:
        """Attach what only the HTTP layer knows: request id and rate-limit state."""
        return response.model_copy(
            update={
                "provider": response.provider or self.settings.provider,
                "request_id": request_id_from(headers) or response.request_id,
                "rate_limit": self.adapter.rate_limit(headers),
            }
        )

    def scrub(self, error: E) -> E:
        """Remove the API key from anything an error shows."""
        key = self._secret
        if key and len(key) >= 4:
            error.message = error.message.replace(key, "[redacted]")
            error.args = (error.message,)
            body = getattr(error, "body", None)
            if isinstance(body, str) and key in body:
                error.body = body.replace(key, "[redacted]")  # type: ignore[attr-defined]
            elif body is not None and not isinstance(body, str):
                dumped = json.dumps(body, default=str)
                if key in dumped:
                    error.body = json.loads(dumped.replace(key, "[redacted]"))  # type: ignore[attr-defined]
        return error

    def give_up(self, error: LLMXError, retries_done: int, state: StreamState | None) -> LLMXError:
        """The error to raise: scrubbed, with attempts and (for streams) the partial output."""
        if state is not None:
            return state.fail(error, retries_done + 1)
        error.attempts = retries_done + 1
        return self.scrub(error)

    def stream_retry_delay(
        self, error: LLMXError, retries_done: int, prepared: Prepared, state: StreamState | None
    ) -> float | None:
        """Like retry_delay, but never once an event of this stream reached the caller."""
        if state is not None and state.events_seen:
            return None
        return self.retry_delay(error, retries_done, prepared)

    def retry_delay(self, error: LLMXError, retries_done: int, prepared: Prepared) -> float | None:
        """Seconds to wait before the next attempt, or None to give up and raise."""
        policy = prepared.retry
        if retries_done >= policy.max_retries:
            return None
        if isinstance(error, ProviderError):
            if error._retryable is False:
                return None
            if error._retryable is None and (
                error.status_code is None or not policy.should_retry_status(error.status_code)
            ):
                return None
            wait = error.retry_after
            if wait is not None and wait > policy.max_retry_after:
                return None
        elif isinstance(error, TransportError):
            wait = None
        else:
            return None
        delay = policy.backoff(retries_done) if wait is None else wait
        if prepared.deadline is not None and time.monotonic() + delay >= prepared.deadline:
            return None
        return delay


def validate_messages(request: Request) -> None:
    """Reject conversations no provider accepts, before anything is sent."""
    if not request.messages:
        raise InvalidInputError("the request has no messages: add at least one user message")
    call_ids: set[str] = set()
    for position, message in enumerate(request.messages):
        if message.role == "assistant":
            call_ids.update(call.id for call in message.tool_calls)
        elif message.role == "tool":
            if not message.tool_call_id:
                raise InvalidInputError(
                    f"messages[{position}] is a tool result without tool_call_id"
                )
            if message.tool_call_id not in call_ids:
                raise InvalidInputError(
                    f"messages[{position}] answers tool call {message.tool_call_id!r}, but no "
                    "earlier assistant message made that call"
                )
        if message.tool_calls and message.role != "assistant":
            raise InvalidInputError(
                f"messages[{position}]: only assistant messages carry tool_calls"
            )
    if isinstance(request.tool_choice, str) and request.tool_choice not in (
        "auto",
        "none",
        "required",
    ):
        names = [tool.name for tool in request.tools]
        if request.tool_choice not in names:
            raise InvalidInputError(
                f"tool_choice {request.tool_choice!r} names no tool of the request "
                f"(tools: {names or 'none'}); use 'auto', 'none', 'required' or a tool name"
            )


class StreamState:
    """Decoding state of one stream: framing, the adapter's decoder, and the accumulator."""

    __slots__ = (
        "_frames",
        "_ndjson",
        "_decoder",
        "accumulator",
        "_core",
        "_headers",
        "events_seen",
    )

    def __init__(self, core: ClientCore, request: Request, headers: Mapping[str, str]) -> None:
        self._core = core
        self._headers = headers
        ndjson = core.adapter.spec.framing == "ndjson"
        self._ndjson = NDJSONDecoder() if ndjson else None
        self._frames = None if ndjson else SSEDecoder()
        self._decoder = core.adapter.stream_decoder(request)
        self.accumulator = Accumulator()
        self.events_seen = 0

    def feed(self, chunk: bytes) -> list[Event]:
        out: list[Event] = []
        add = self.accumulator.add
        decode = self._decoder.feed
        if self._frames is not None:
            frames = self._frames.feed(chunk)
        else:
            assert self._ndjson is not None
            frames = [ServerSentEvent(data=line) for line in self._ndjson.feed(chunk)]
        for frame in frames:
            for event in decode(frame):
                add(event)
                out.append(event)
        self.events_seen += len(out)
        return out

    def close(self) -> list[Event]:
        out: list[Event] = []
        if self._frames is not None:
            frames = self._frames.close()
        else:
            assert self._ndjson is not None
            frames = [ServerSentEvent(data=line) for line in self._ndjson.close()]
        for frame in frames:
            out.extend(self._decoder.feed(frame))
        out.extend(self._decoder.close())
        for event in out:
            self.accumulator.add(event)
        if not self.accumulator.finished:
            provider = self._core.settings.provider
            raise StreamError(
                f"{provider}: the stream ended before its finish event (connection closed early?)",
                provider=provider,
            )
        return out

    def response(self) -> Response:
        return self._core.finish(self.accumulator.response(), self._headers)

    def fail(self, error: LLMXError, attempts: int) -> LLMXError:
        """Attach the partial output and attempt count to an error raised mid-stream."""
        self._core.scrub(error)
        error.partial = self.response()
        error.attempts = attempts
        return error


def check_timing(
    started: float,
    last_event: float,
    seen_event: bool,
    timeout: Timeout,
    deadline: float | None,
    provider: str,
) -> None:
    """Raise RequestTimeout when first-event, idle or total time ran out (checked per chunk)."""
    now = time.monotonic()
    if deadline is not None and now >= deadline:
        raise RequestTimeout(
            f"{provider}: total timeout of {timeout.total}s expired",
            phase="total",
            provider=provider,
        )
    if not seen_event:
        if timeout.first_event is not None and now - started >= timeout.first_event:
            raise RequestTimeout(
                f"{provider}: no stream event within {timeout.first_event}s",
                phase="first_event",
                provider=provider,
            )
    elif timeout.idle is not None and now - last_event >= timeout.idle:
        raise RequestTimeout(
            f"{provider}: no stream event for {timeout.idle}s (idle timeout)",
            phase="idle",
            provider=provider,
        )

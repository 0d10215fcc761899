"""Everything the sync and async clients share, free of I/O: request preparation, error and
retry decisions, response checks and finishing, and the secret scrubbing."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from pydantic import ValidationError

from ._config import ClientSettings, RetryPolicy, Timeout
from ._errors import (
    AuthenticationError,
    InvalidInputError,
    LLMXError,
    ProviderError,
    StreamError,
    UnexpectedResponseError,
)
from ._headers import request_id_from
from ._logging import logger, register_secret
from ._payload import SSE_START, is_json_type, media_type, reason, snippet
from ._retry import Call, next_delay
from ._secrets import scrub_error, scrub_text
from ._stream import StreamState
from ._types import Request, Response
from ._validate import encode_body, validate_messages, validation_message
from ._version import __version__
from .adapter import Adapter, HttpRequest, HttpResponse

__all__ = ["Call", "ClientCore", "Prepared", "RedactedHeaders", "StreamState", "validate_messages"]

E = TypeVar("E", bound=LLMXError)
BodyKind = Literal["frames", "json", "sniff", "unexpected"]

_USER_AGENT = f"llmx/{__version__}"
_REQUEST_FIELDS = frozenset(Request.model_fields)
_PARSE_BUGS = (ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError)


class RedactedHeaders(dict[str, str]):
    """Request headers whose ``repr`` hides credentials (they show up in tracebacks)."""

    __slots__ = ("secrets",)

    def __init__(self, values: Mapping[str, str], secrets: frozenset[str]) -> None:
        super().__init__(values)
        self.secrets = secrets

    def with_items(self, extra: Mapping[str, str]) -> RedactedHeaders:
        return RedactedHeaders({**self, **extra}, self.secrets)

    def __repr__(self) -> str:
        shown = {k: "[redacted]" if k in self.secrets else v for k, v in self.items()}
        return repr(shown)

    def __reduce__(self) -> Any:
        raise TypeError("request headers hold credentials and are not pickled")


@dataclass(frozen=True, slots=True)
class Prepared:
    """A request ready to send."""

    request: Request
    method: str
    url: str
    content: bytes | None = field(repr=False)
    headers: RedactedHeaders = field(repr=False)
    params: Mapping[str, str]
    timeout: Timeout
    retry: RetryPolicy
    deadline: float | None


class ClientCore:
    """Shared state and decisions of one client; holds the API key, never shows it."""

    __slots__ = (
        "settings",
        "adapter",
        "_headers",
        "_secret",
        "_base_url",
        "secret_headers",
        "__weakref__",
    )

    def __init__(self, settings: ClientSettings, adapter: Adapter) -> None:
        self.settings = settings
        self.adapter = adapter
        spec = adapter.spec
        auth = spec.auth_header.lower()
        self.secret_headers = frozenset({"authorization", auth})
        headers = RedactedHeaders(
            {
                "user-agent": _USER_AGENT,
                "accept": "application/json",
                **{k.lower(): v for k, v in spec.default_headers.items()},
                **{k.lower(): v for k, v in settings.headers.items()},
            },
            self.secret_headers | {"x-api-key", "api-key", "x-goog-api-key", "cookie"},
        )
        key = settings.api_key.get_secret_value() if settings.api_key else None
        if key:
            headers[auth] = spec.auth_prefix + key
            register_secret(self, key)
        self._secret = key
        self._headers = headers
        self._base_url = settings.base_url.rstrip("/")

    def __repr__(self) -> str:
        return f"<ClientCore {self.settings.provider} {self._base_url}>"

    def __reduce__(self) -> Any:
        raise TypeError("llmx clients cannot be pickled (they hold a connection pool and a key)")

    # -- preparing ---------------------------------------------------------------------------

    def build_request(self, request: Request | str, overrides: Mapping[str, Any]) -> Request:
        """Apply per-call overrides and the client's defaults, then validate (once)."""
        settings = self.settings
        if isinstance(request, Request) and not overrides:
            updates = {
                name: value
                for name, value in settings.defaults.items()
                if getattr(request, name) is None
            }
            if request.model is None:
                updates["model"] = settings.model
            built = request.model_copy(update=updates) if updates else request
        else:
            if isinstance(request, str):
                data: dict[str, Any] = {"messages": [{"role": "user", "content": request}]}
            elif isinstance(request, Request):
                data = dict(request)
            else:
                raise InvalidInputError(
                    f"expected a Request or a prompt string, got {type(request).__name__}"
                )
            unknown = set(overrides) - _REQUEST_FIELDS
            if unknown:
                raise InvalidInputError(
                    f"unknown request setting(s) {sorted(unknown)}; "
                    f"valid ones: {sorted(_REQUEST_FIELDS - {'messages'})}"
                )
            data.update(overrides)
            for name, value in settings.defaults.items():
                if data.get(name) is None:
                    data[name] = value
            if data.get("model") is None:
                data["model"] = settings.model
            try:
                built = Request.model_validate(data)
            except ValidationError as exc:
                raise InvalidInputError(f"invalid request: {validation_message(exc)}") from None
        if built.model is None:
            raise InvalidInputError(
                "no model given: pass model=... to the call, or set a client default "
                "with ClientBuilder().model(...) / Client(model=...)"
            )
        validate_messages(built)
        return built

    def prepare(
        self,
        request: Request,
        *,
        stream: bool,
        timeout: Timeout | float | None,
        max_retries: int | None,
        retry_policy: RetryPolicy | None = None,
    ) -> Prepared:
        http = self.adapter.build_request(request, stream=stream)
        return self._prepared(request, http, timeout, max_retries, retry_policy)

    def prepare_models(self) -> Prepared:
        return self._prepared(None, self.adapter.models_request(), None, None, None)

    def _prepared(
        self,
        request: Request | None,
        http: HttpRequest,
        timeout: Timeout | float | None,
        max_retries: int | None,
        retry_policy: RetryPolicy | None,
    ) -> Prepared:
        try:
            effective = self.settings.timeout if timeout is None else Timeout.coerce(timeout)
            retry = retry_policy or self.settings.retry
            if max_retries is not None:
                retry = RetryPolicy.model_validate({**dict(retry), "max_retries": max_retries})
        except (ValidationError, TypeError) as exc:
            detail = validation_message(exc) if isinstance(exc, ValidationError) else str(exc)
            raise InvalidInputError(f"invalid call setting: {detail}") from None
        headers = self._headers
        if http.body is not None or http.headers:
            headers = headers.with_items({k.lower(): v for k, v in http.headers.items()})
        content = None
        if http.body is not None:
            headers["content-type"] = "application/json"
            content = encode_body(http.body)
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

    def call(self, prepared: Prepared, *, stream: bool) -> Call:
        return Call(self, prepared, stream=stream)

    # -- responses and errors ----------------------------------------------------------------

    def request_id(self, headers: Mapping[str, str]) -> str | None:
        return request_id_from(headers)

    def error_for(self, status: int, headers: Mapping[str, str], body: bytes) -> ProviderError:
        """The typed error for an HTTP error status (``body``: its first bytes)."""
        provider = self.settings.provider
        if 300 <= status < 400:
            location = headers.get("location", "?").split("?", 1)[0]
            error = ProviderError(
                f"{provider}: HTTP {status} redirect to {location} was not followed "
                "(redirects are off by default and never carry credentials to another "
                "origin); fix base_url",
                provider=provider,
                status_code=status,
                headers=headers,
                request_id=request_id_from(headers),
                retryable=False,
            )
            return self.scrub(error)
        error = self.adapter.parse_error(HttpResponse(status, headers, body))
        media = media_type(headers)
        if media == "text/html" or (body.lstrip()[:1] == b"<" and not is_json_type(media)):
            phrase = reason(status)
            error.message = f"{provider} error (HTTP {status} {phrase}): {snippet(body)}"
            if error.hint:
                error.message += f" — {error.hint}"
            error.body = body.decode("utf-8", "replace")
        if isinstance(error, AuthenticationError) and self.adapter.spec.api_key_env:
            error.message += f" (the key comes from api_key= or {self.adapter.spec.api_key_env})"
        error.args = (error.message,)
        if error.provider is None:
            error.provider = provider
        return self.scrub(error)

    def unexpected(
        self, status: int, headers: Mapping[str, str], body: bytes, why: str
    ) -> UnexpectedResponseError:
        media = media_type(headers)
        shown = f"{status} {reason(status)}".strip()
        error = UnexpectedResponseError(
            f"{self.settings.provider}: unexpected response (HTTP {shown}, content-type "
            f"{media or 'missing'}): {why}; body starts: {snippet(body)!r}",
            provider=self.settings.provider,
            status_code=status,
            headers=headers,
            request_id=request_id_from(headers),
            body=body[: self.settings.max_error_bytes].decode("utf-8", "replace"),
            content_type=media or None,
        )
        return self.scrub(error)

    def too_large(self, status: int, headers: Mapping[str, str], body: bytes) -> LLMXError:
        limit = self.settings.max_response_bytes
        return self.unexpected(
            status, headers, body[:200], f"the body is larger than max_response_bytes={limit}"
        )

    def stream_kind(self, headers: Mapping[str, str]) -> BodyKind:
        """How to read a 2xx answer to a streamed request, from its content type."""
        media = media_type(headers)
        if not media:
            return "sniff"
        if is_json_type(media):
            return "json"
        if self.adapter.spec.framing == "sse":
            return "frames" if media == "text/event-stream" else "unexpected"
        if media == "text/html" or media == "text/event-stream":
            return "unexpected"
        return "frames"

    def sniff(self, first: bytes) -> BodyKind:
        """For a streamed answer without a content type: what its first bytes look like."""
        start = first.lstrip()
        if start[:1] in (b"{", b"["):
            return "json" if self.adapter.spec.framing == "sse" else "frames"
        if not start or (self.adapter.spec.framing == "sse" and start.startswith(SSE_START)):
            return "frames"
        return "unexpected"

    def parse(
        self, status: int, headers: Mapping[str, str], body: bytes, request: Request
    ) -> Response:
        """The Response of a whole (non-streamed) answer."""
        media = media_type(headers)
        if media and not is_json_type(media) and not body.lstrip().startswith((b"{", b"[")):
            raise self.unexpected(status, headers, body, "expected a JSON body")
        try:
            response = self.adapter.parse_response(HttpResponse(status, headers, body), request)
        except StreamError as exc:
            raise self.unexpected(status, headers, body, exc.message) from None
        except LLMXError as error:
            raise self.scrub(error) from None
        except _PARSE_BUGS as exc:
            why = f"it could not be read ({type(exc).__name__}: {str(exc)[:200]})"
            raise self.unexpected(status, headers, body, why) from None
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

    # -- secrets -----------------------------------------------------------------------------

    def scrub_text(self, text: str) -> str:
        """``text`` without the API key or any 8+ character prefix of it."""
        return scrub_text(text, self._secret)

    def scrub(self, error: E) -> E:
        """Remove the API key from anything an error shows."""
        return scrub_error(error, self._secret)

    # -- retries -----------------------------------------------------------------------------

    def retry_delay(self, error: LLMXError, retries_done: int, prepared: Prepared) -> float | None:
        """Seconds to wait before the next attempt, or None to give up and raise."""
        return next_delay(error, retries_done, prepared)[0]

    def give_up(
        self,
        error: LLMXError,
        retries_done: int,
        state: StreamState | None,
        note: str = "",
        sent_before: bool = False,
    ) -> LLMXError:
        """The error to raise: scrubbed, with attempts and (for streams) the partial output."""
        if state is not None:
            error = state.fail(error)
        error.attempts = retries_done + 1
        error.possibly_duplicated = sent_before
        if retries_done:
            note = f"{note}; " if note else ""
            note += f"{retries_done + 1} attempts"
        if note:
            error.message = f"{error.message} ({note})"
        if error.provider is None:
            error.provider = self.settings.provider
        self.scrub(error)
        if logger.isEnabledFor(10):
            logger.debug("%s call failed: %s", self.settings.provider, error.message[:500])
        return error

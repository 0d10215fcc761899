"""Exceptions raised by llmx.

```
LLMXError
├─ ConfigurationError          builder or config misuse, raised before any request is sent
│  ├─ MissingAPIKeyError       no key given and the provider's env var is unset (names the variable)
│  ├─ ProviderNotFoundError    unknown provider name (lists the known ones and the closest match)
│  └─ InvalidInputError        a Request that cannot be sent (bad role, empty messages, ...)
├─ TransportError              no HTTP response: ConnectError, RequestTimeout
├─ ProviderError               the provider answered with an error (HTTP or in-stream)
│  ├─ AuthenticationError      401 / 403
│  ├─ RateLimitError           429, and Groq's 498 (flex capacity)
│  ├─ InvalidRequestError      400 / 404 / 413 / 422
│  │  ├─ ContextLengthError    the prompt (plus max tokens) does not fit the model's context window
│  │  └─ ToolUseFailedError    the model produced an invalid tool call (carries failed_generation)
│  ├─ ServerError              5xx, 529 overloaded
│  └─ UnexpectedResponseError  not what the API sends: an HTML page, a wrong content type,
│                              a body too large or unreadable
├─ StreamError                 malformed frame, stream ended early; keeps the partial output
└─ UnsupportedFeatureError     the provider cannot express part of the request
```

Every error carries ``provider``, ``status_code`` (None without an HTTP status),
``request_id``, ``retry_after`` and ``attempts``; its message never contains the API key. An
error that happens after a stream started carries the output received so far in ``partial``
(a :class:`llmx.Response`), so a failed stream never loses what arrived.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._types import Response

__all__ = [
    "AuthenticationError",
    "ConfigurationError",
    "ConnectError",
    "ContextLengthError",
    "InvalidInputError",
    "InvalidRequestError",
    "LLMXError",
    "MissingAPIKeyError",
    "ProviderError",
    "ProviderNotFoundError",
    "RateLimitError",
    "RequestTimeout",
    "ServerError",
    "StreamError",
    "ToolUseFailedError",
    "TransportError",
    "UnexpectedResponseError",
    "UnsupportedFeatureError",
]


def _rebuild(cls: type[LLMXError], args: tuple[Any, ...], state: dict[str, Any]) -> LLMXError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class LLMXError(Exception):
    """Base class of every exception llmx raises."""

    provider: str | None = None
    status_code: int | None = None
    """The HTTP status, or None when there was none (connection failures, stream errors)."""
    request_id: str | None = None
    """The provider's request id (``x-request-id`` and the like), when a response arrived."""
    retry_after: float | None = None
    """Seconds the provider asked to wait before trying again, if it said."""
    partial: Response | None = None
    """The output received before the failure (streams), or None."""
    attempts: int = 1
    """How many HTTP attempts were made before giving up."""
    possibly_duplicated: bool = False
    """True when an earlier attempt failed after the request was sent and was retried: the
    provider may have run (and billed) the request more than once."""

    def __init__(self, message: str, *, provider: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if provider is not None:
            self.provider = provider

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


class ConfigurationError(LLMXError):
    """The client or request was configured wrongly; nothing was sent."""


class MissingAPIKeyError(ConfigurationError):
    """No API key was given and the provider's environment variable is not set."""

    def __init__(self, provider: str, env_var: str | None) -> None:
        where = f"set the {env_var} environment variable or " if env_var else ""
        super().__init__(
            f"No API key for provider {provider!r}: {where}pass api_key=... "
            f"(or ClientBuilder().provider({provider!r}, key)).",
            provider=provider,
        )
        self.env_var = env_var


class ProviderNotFoundError(ConfigurationError):
    """The provider name is not registered."""

    def __init__(self, name: str, known: list[str], suggestion: str | None) -> None:
        hint = f" Did you mean {suggestion!r}?" if suggestion else ""
        super().__init__(
            f"Unknown provider {name!r}.{hint} Known providers: {', '.join(known) or '(none)'}. "
            "Third-party providers register under the 'llmx.providers' entry-point group "
            "or with llmx.register_provider().",
        )
        self.name = name
        self.known = known
        self.suggestion = suggestion


class InvalidInputError(ConfigurationError, ValueError):
    """A request or setting is invalid; raised before anything is sent."""


class TransportError(LLMXError):
    """No usable HTTP response: the connection failed or timed out.

    ``sent`` tells whether the request had been sent completely (the provider may have run it);
    ``retryable`` is False for failures that repeating cannot fix (an invalid URL, a TLS
    certificate that does not verify).
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        sent: bool = False,
        retryable: bool = True,
    ) -> None:
        super().__init__(message, provider=provider)
        self.sent = sent
        self.retryable = retryable


class ConnectError(TransportError):
    """The connection could not be established, or broke before a response arrived."""


class RequestTimeout(TransportError):
    """A timeout expired. ``phase`` says which: ``connect``, ``read``, ``write``, ``pool``
    (waiting for a free connection), ``first_event``, ``idle`` (between stream events) or
    ``total`` (the whole call)."""

    def __init__(
        self,
        message: str,
        *,
        phase: str,
        provider: str | None = None,
        sent: bool = False,
        retryable: bool = True,
    ) -> None:
        super().__init__(message, provider=provider, sent=sent, retryable=retryable)
        self.phase = phase


class ProviderError(LLMXError):
    """The provider answered with an error status or an in-stream error event."""

    hint = ""

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        status_code: int | None = None,
        code: str | None = None,
        error_type: str | None = None,
        request_id: str | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        retry_after: float | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message, provider=provider)
        self.status_code = status_code
        self.code = code
        self.error_type = error_type
        self.request_id = request_id
        self.body = body
        self.headers: dict[str, str] = dict(headers or {})
        self.retry_after = retry_after
        self._retryable = retryable

    @property
    def is_retryable(self) -> bool:
        """Whether repeating the same request may succeed."""
        if self._retryable is not None:
            return self._retryable
        status = self.status_code
        return status is not None and (status in (408, 409, 429, 498) or status >= 500)


class AuthenticationError(ProviderError):
    """The API key was rejected (401) or lacks permission (403)."""

    hint = "Check the API key (and its environment variable) and the account's permissions."


class RateLimitError(ProviderError):
    """A rate limit or capacity limit was hit (429, Groq 498)."""

    hint = "Wait for retry_after seconds, lower the request rate, or raise the account's limits."


class InvalidRequestError(ProviderError):
    """The provider rejected the request as invalid (400, 404, 413, 422)."""

    hint = "Fix the request; repeating it unchanged will fail again."


class ContextLengthError(InvalidRequestError):
    """The prompt plus requested output does not fit the model's context window or token budget."""

    hint = "Shorten the messages or lower max_tokens, or use a model with a larger context window."


class ToolUseFailedError(InvalidRequestError):
    """The model produced a tool call that failed validation (Groq ``tool_use_failed``)."""

    hint = (
        "The model's raw output is in failed_generation; retry, simplify the tool schema, "
        "or feed the failure back to the model."
    )

    def __init__(self, message: str, *, failed_generation: str | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.failed_generation = failed_generation


class ServerError(ProviderError):
    """The provider failed or is overloaded (5xx, 529)."""

    hint = "This is usually transient; llmx retries it according to the retry policy."


class UnexpectedResponseError(ProviderError):
    """The response is not what the API sends: an HTML page, a wrong content type, a body that
    is too large or cannot be read. Not retried; ``content_type`` is the response's."""

    def __init__(self, message: str, *, content_type: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("retryable", False)
        super().__init__(message, **kwargs)
        self.content_type = content_type


class StreamError(LLMXError):
    """A stream broke: a malformed frame, invalid data, or the connection ended early.

    ``partial`` holds the Response accumulated from the events that did arrive.
    """


class UnsupportedFeatureError(LLMXError):
    """The provider cannot express part of the request without changing its meaning."""

"""Client configuration: timeouts, retry policy and the resolved client settings."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = ["ClientSettings", "RetryPolicy", "Timeout"]

MiB = 1024 * 1024


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Timeout(_Frozen):
    """Timeouts in seconds; ``None`` disables one. Every call can override them.

    ``connect``: establishing the connection (TCP and TLS). ``read``: any single read from the
    socket; a connection silent for this long is dead. ``first_event``: from the start of an
    attempt until the first stream event (``None``: ``idle`` applies from the start).
    ``idle``: between two stream events; keep-alive comments and other bytes that carry no event
    do not reset it, so a server that only sends keep-alives cannot hold a stream open forever.
    ``total``: the whole call, across retries and backoff sleeps.
    """

    connect: float | None = Field(default=5.0, gt=0)
    read: float | None = Field(default=60.0, gt=0)
    first_event: float | None = Field(default=None, gt=0)
    idle: float | None = Field(default=300.0, gt=0)
    total: float | None = Field(default=None, gt=0)

    @classmethod
    def coerce(cls, value: Timeout | float | int | None) -> Timeout:
        """``Timeout`` as is; a number sets connect (at most 5 s), read and total; ``None``
        disables connect and read."""
        if isinstance(value, Timeout):
            return value
        if value is None:
            return cls(connect=None, read=None)
        try:
            if isinstance(value, bool):
                raise TypeError
            seconds = float(value)
        except (TypeError, ValueError):
            raise TypeError(
                f"timeout must be a number of seconds or a Timeout, not {value!r}"
            ) from None
        return cls(connect=min(seconds, 5.0), read=seconds, total=seconds)


class RetryPolicy(_Frozen):
    """When and how long to wait before repeating a failed request.

    Retried: connection failures, timeouts and the statuses in ``retry_statuses`` (plus every
    5xx with ``retry_server_errors``), unless the provider says ``x-should-retry: false``
    (``x-should-retry: true`` makes any status retryable). The wait is the provider's
    ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date) when it gives a positive
    one, else ``initial_backoff * 2**n`` capped at ``max_backoff``, minus up to ``jitter`` of
    it at random. A provider wait longer than ``max_retry_after`` is not slept through: the
    error is raised at once and its ``retry_after`` says when to come back. No wait runs past
    the call's total timeout. A stream is never retried once its first event reached the
    caller.
    """

    max_retries: int = Field(default=2, ge=0, le=10)
    retry_statuses: frozenset[int] = frozenset({408, 409, 429, 498, 500, 502, 503, 504, 529})
    retry_server_errors: bool = True
    """Retry every 5xx, not only those listed."""
    retry_if_sent: bool = True
    """Also retry failures after the request was fully sent (read timeouts, a connection that
    dropped before the response). The provider may then have run the request twice; the final
    error says so in ``possibly_duplicated``. Set False when a duplicate is worse than an
    error."""
    initial_backoff: float = Field(default=0.5, ge=0)
    max_backoff: float = Field(default=8.0, ge=0)
    jitter: float = Field(default=0.25, ge=0, le=1)
    max_retry_after: float = Field(default=60.0, ge=0)

    def backoff(self, retries_done: int, rng: random.Random | None = None) -> float:
        """Exponential backoff with jitter for the next attempt."""
        base: float = min(self.initial_backoff * (2.0 ** min(retries_done, 64)), self.max_backoff)
        draw: float = (rng or random).random()
        return base * (1.0 - self.jitter * draw)

    def should_retry_status(self, status: int) -> bool:
        return status in self.retry_statuses or (self.retry_server_errors and status >= 500)


class ClientSettings(_Frozen):
    """Everything a client was configured with, resolved and validated."""

    provider: str
    api_key: SecretStr | None = None
    base_url: str
    model: str | None = None
    defaults: Mapping[str, Any] = Field(default_factory=dict)
    """Request fields applied when a request leaves them unset (temperature, max_tokens, ...)."""
    timeout: Timeout = Field(default_factory=Timeout)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    headers: Mapping[str, str] = Field(default_factory=dict)
    follow_redirects: bool = False
    """Follow 307/308 redirects (and any redirect of a GET). Credentials are never sent to
    another origin."""
    max_connections: int = Field(default=100, ge=1)
    """Requests in flight at once; more wait (up to the read timeout) for a free slot."""
    max_keepalive_connections: int = Field(default=20, ge=0)
    max_response_bytes: int = Field(default=64 * MiB, ge=1024)
    """Largest non-streamed response body accepted."""
    max_error_bytes: int = Field(default=64 * 1024, ge=1024)
    """How much of an error response body is read and kept (the rest is not downloaded)."""
    max_event_bytes: int = Field(default=16 * MiB, ge=1024)
    """Largest single stream event (SSE event data or NDJSON line)."""
    trust_env: bool = True
    """Use proxy settings (HTTPS_PROXY, ...) and certificates from the environment."""
    verify: bool = True
    """Verify TLS certificates; turning it off logs a warning."""
    allow_link_local: bool = False
    """Allow a base_url on a link-local address (169.254.0.0/16, fe80::/10: cloud metadata)."""
    http_backend: Literal["httpx", "aiohttp"] = "httpx"
    """The HTTP library under the client. ``"aiohttp"`` (``pip install 'llmx-ai[aiohttp]'``;
    AsyncClient on asyncio only) is several times cheaper per request and per event."""

    def __getstate__(self) -> dict[Any, Any]:
        """Pickles never carry the API key."""
        state = super().__getstate__()
        values = dict(state["__dict__"])
        values["api_key"] = None
        return {**state, "__dict__": values}

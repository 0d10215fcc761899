"""Client configuration: timeouts, retry policy and the resolved client settings."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = ["ClientSettings", "RetryPolicy", "Timeout"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Timeout(_Frozen):
    """Timeouts in seconds; ``None`` disables one.

    ``connect``: establishing the connection. ``read``: any single read from the socket.
    ``first_event``: from sending until the first stream event. ``idle``: between two stream
    events (keep-alive comments do not count as events). ``total``: the whole call, across
    retries.
    """

    connect: float | None = Field(default=5.0, gt=0)
    read: float | None = Field(default=60.0, gt=0)
    first_event: float | None = Field(default=None, gt=0)
    idle: float | None = Field(default=None, gt=0)
    total: float | None = Field(default=None, gt=0)

    @classmethod
    def coerce(cls, value: Timeout | float | int | None) -> Timeout:
        """``Timeout`` as is; a number sets connect, read and total."""
        if isinstance(value, Timeout):
            return value
        if value is None:
            return cls(connect=None, read=None)
        seconds = float(value)
        return cls(connect=min(seconds, 5.0), read=seconds, total=seconds)


class RetryPolicy(_Frozen):
    """When and how long to wait before repeating a failed request.

    Retried: connection failures and the statuses in ``retry_statuses``, unless the provider
    says ``x-should-retry: false``. The wait is the provider's ``retry-after-ms`` or
    ``retry-after`` when given, else ``initial_backoff * 2**n`` capped at ``max_backoff``, with
    jitter. A provider wait longer than ``max_retry_after`` is not slept through: the error is
    raised and its ``retry_after`` says when to come back. A stream is never retried once its
    first event reached the caller.
    """

    max_retries: int = Field(default=2, ge=0)
    retry_statuses: frozenset[int] = frozenset({408, 409, 429, 498, 500, 502, 503, 504, 529})
    retry_server_errors: bool = True
    """Retry every 5xx, not only those listed."""
    initial_backoff: float = Field(default=0.5, ge=0)
    max_backoff: float = Field(default=8.0, ge=0)
    jitter: float = Field(default=0.25, ge=0, le=1)
    max_retry_after: float = Field(default=60.0, ge=0)

    def backoff(self, retries_done: int, rng: random.Random | None = None) -> float:
        """Exponential backoff with jitter for the next attempt."""
        base: float = min(self.initial_backoff * (2.0**retries_done), self.max_backoff)
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
    max_connections: int = Field(default=100, ge=1)
    max_keepalive_connections: int = Field(default=20, ge=0)

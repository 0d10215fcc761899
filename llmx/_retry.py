"""Retry decisions for one logical call, shared by the sync and async loops (no I/O)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ._config import Timeout
from ._errors import LLMXError, ProviderError, TransportError
from ._logging import logger
from ._timing import Timer, deadline_error, needs_timer

if TYPE_CHECKING:
    from ._core import ClientCore, Prepared
    from ._stream import StreamState

__all__ = ["RETRY_COUNT_HEADER", "Call", "next_delay"]

RETRY_COUNT_HEADER = "x-llmx-retry-count"


def next_delay(
    error: LLMXError, retries_done: int, prepared: Prepared, state: StreamState | None = None
) -> tuple[float | None, str]:
    """Seconds to wait before the next attempt, or None and (maybe) why not."""
    policy = prepared.retry
    if state is not None and state.events_seen:
        return None, ""  # never repeat output the caller has seen
    if retries_done >= policy.max_retries:
        return None, ""
    wait: float | None = None
    if isinstance(error, ProviderError):
        retryable = error._retryable
        should = error.headers.get("x-should-retry")
        if should in ("true", "false"):
            retryable = should == "true"
        if retryable is None:
            retryable = error.status_code is not None and policy.should_retry_status(
                error.status_code
            )
        if not retryable:
            return None, ""
        wait = error.retry_after
        if wait is not None and wait > policy.max_retry_after:
            return None, (
                f"not retried: the provider asked to wait {wait:g}s, longer than "
                f"max_retry_after={policy.max_retry_after:g}s; try again after {wait:g}s"
            )
    elif isinstance(error, TransportError):
        if not error.retryable:
            return None, ""
        if error.sent and not policy.retry_if_sent:
            return None, "not retried: the request had been sent (retry_if_sent=False)"
    else:
        return None, ""
    delay = wait if wait else policy.backoff(retries_done)
    if prepared.deadline is not None and time.monotonic() + delay >= prepared.deadline:
        return None, (
            f"not retried: waiting {delay:.2f}s would pass the total timeout of "
            f"{prepared.timeout.total:g}s"
        )
    return delay, ""


class Call:
    """The attempts of one logical call: per-attempt headers, timeouts and timers, and the
    retry-or-raise decision after a failure."""

    __slots__ = ("_core", "prepared", "retries", "_sent", "_stream")

    def __init__(self, core: ClientCore, prepared: Prepared, *, stream: bool) -> None:
        self._core = core
        self.prepared = prepared
        self.retries = 0
        self._sent = False
        self._stream = stream

    @property
    def attempt(self) -> int:
        return self.retries + 1

    def headers(self) -> Mapping[str, str]:
        if not self.retries:
            return self.prepared.headers
        return self.prepared.headers.with_items({RETRY_COUNT_HEADER: str(self.retries)})

    def timeout(self) -> Timeout:
        """The httpx timeouts of the next attempt: connect and read capped by the deadline."""
        prepared = self.prepared
        timeout = prepared.timeout
        if prepared.deadline is None:
            return timeout
        left = prepared.deadline - time.monotonic()
        if left <= 0:
            raise deadline_error(timeout, self._core.settings.provider)
        return timeout.model_copy(
            update={
                "read": min(timeout.read or left, left),
                "connect": min(timeout.connect or left, left),
            }
        )

    def timer(self) -> Timer | None:
        """The phase deadlines of the next attempt, or None when httpx's own suffice."""
        prepared = self.prepared
        if not needs_timer(prepared.timeout, prepared.deadline, stream=self._stream):
            return None
        provider = self._core.settings.provider
        return Timer(prepared.timeout, prepared.deadline, provider, stream=self._stream)

    def retry(self, error: LLMXError, state: StreamState | None = None) -> float:
        """Seconds to sleep before the next attempt; raises the final error instead."""
        delay, note = next_delay(error, self.retries, self.prepared, state)
        provider = self._core.settings.provider
        if delay is None:
            raise self._core.give_up(error, self.retries, state, note, self._sent)
        if getattr(error, "sent", False):
            self._sent = True
        if logger.isEnabledFor(10):
            logger.debug(
                "%s attempt %d failed (%s); retrying in %.3fs",
                provider, self.attempt, self._core.scrub_text(str(error))[:300], delay,
            )  # fmt: skip
        self.retries += 1
        return delay

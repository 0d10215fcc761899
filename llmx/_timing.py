"""Deadlines of one attempt: time to first event, idle time between events, the total timeout.

No I/O here: the request loops ask a :class:`Timer` when the current phase ends (``due``, in
``time.monotonic()`` seconds) and tell it when events arrive. The async loop bounds each read
with a cancel scope ending at ``due``; the sync loop has a watchdog thread close the socket at
``due`` (see ``_watchdog.py``). Both also check ``due`` on every chunk, so keep-alive comments
and trickled bytes cannot stretch a phase.
"""

from __future__ import annotations

import math
import time

from ._config import Timeout
from ._errors import RequestTimeout

__all__ = ["EOF_GRACE", "Timer", "deadline_error", "needs_timer", "pool_timeout", "pool_wait"]

EOF_GRACE = 0.25
"""Seconds to wait for the end of a response after its last event (so its connection can be
reused) before closing it anyway; a server that keeps the socket open is not waited for."""


def needs_timer(timeout: Timeout, deadline: float | None, *, stream: bool) -> bool:
    """Whether an attempt has a phase deadline beyond httpx's per-operation timeouts."""
    if deadline is not None:
        return True
    return stream and (timeout.first_event is not None or timeout.idle is not None)


def deadline_error(timeout: Timeout, provider: str) -> RequestTimeout:
    return RequestTimeout(
        f"{provider}: the total timeout of {timeout.total}s expired",
        phase="total",
        provider=provider,
        retryable=False,
    )


def pool_wait(timeout: Timeout, timer: Timer | None) -> float | None:
    """How long a request may wait for a free connection: the read timeout, and never past
    the current phase."""
    wait = timeout.read
    if timer is not None:
        left = max(timer.remaining(), 0.0)
        wait = left if wait is None else min(wait, left)
    return wait


def pool_timeout(provider: str, waited: float | None) -> RequestTimeout:
    return RequestTimeout(
        f"{provider}: no free connection within {waited}s (pool timeout): more requests "
        "are in flight than max_connections allows",
        phase="pool",
        provider=provider,
        retryable=False,
    )


class Timer:
    """The phase deadlines of one attempt. ``due`` is when the current phase ends; ``guard``
    tells whether reads need an extra bound (the phase ends before httpx's read timeout would
    notice a silent connection)."""

    __slots__ = (
        "due",
        "guard",
        "phase",
        "seen",
        "_deadline",
        "_first",
        "_first_phase",
        "_idle",
        "_provider",
        "_read",
        "_timeout",
    )

    def __init__(
        self,
        timeout: Timeout,
        deadline: float | None,
        provider: str,
        *,
        stream: bool,
        now: float | None = None,
    ) -> None:
        self._timeout = timeout
        self._provider = provider
        self._deadline = deadline
        self._read = timeout.read if timeout.read is not None else math.inf
        self._idle: float | None = timeout.idle if stream else None
        self._first: float | None = self._idle
        self._first_phase = "idle"
        if stream and timeout.first_event is not None:
            self._first, self._first_phase = timeout.first_event, "first_event"
        self.seen = False
        self.due = math.inf
        self.guard = False
        self.phase = "total"
        self._set(time.monotonic() if now is None else now, self._first, self._first_phase)

    @classmethod
    def for_eof(cls, grace: float = EOF_GRACE) -> Timer:
        """A timer for the short wait for the end of a body after its last event."""
        timer = cls(Timeout(connect=None, read=None, idle=None), None, "", stream=False)
        timer.end_of_body(time.monotonic(), grace)
        return timer

    def _set(self, now: float, budget: float | None, phase: str) -> None:
        due = now + budget if budget is not None else math.inf
        if self._deadline is not None and self._deadline <= due:
            due, phase = self._deadline, "total"
        self.due = due
        self.phase = phase
        self.guard = due - now < self._read

    def remaining(self) -> float:
        return self.due - time.monotonic()

    def tick(self, now: float, events: bool) -> None:
        """After a chunk: restart the idle clock if it carried events; raise if time is up."""
        if events:
            self.seen = True
            self._set(now, self._idle, "idle")
        if now >= self.due:
            raise self.expired()

    def end_of_body(self, now: float, grace: float = EOF_GRACE) -> None:
        """The last event arrived: allow ``grace`` seconds for the end of the body."""
        self.due = now + grace
        self.phase = "eof"
        self.guard = True

    def expired(self) -> RequestTimeout:
        """The error for the phase that ran out."""
        provider, phase = self._provider, self.phase
        if phase == "total":
            return deadline_error(self._timeout, provider)
        if phase == "first_event":
            message = f"no stream event within {self._first}s (first_event timeout)"
        elif phase == "idle" and not self.seen:
            message = f"no stream event within {self._idle}s (idle timeout)"
        elif phase == "idle":
            message = (
                f"no stream event for {self._idle}s (idle timeout; keep-alive comments "
                "do not count)"
            )
        else:
            message = "the response did not end after its last event"
        return RequestTimeout(f"{provider}: {message}", phase=phase, provider=provider, sent=True)

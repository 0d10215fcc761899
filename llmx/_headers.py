"""Parsing of response headers: durations, Retry-After, rate limits, request ids."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping

from ._types import RateLimit

__all__ = ["parse_duration", "parse_rate_limit", "parse_retry_after", "request_id_from"]

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: str | None) -> float | None:
    """Seconds from a Go-style duration (``2m59.56s``, ``172ms``) or a bare number of seconds."""
    if value is None:
        return None
    value = value.strip()
    if _NUMBER.fullmatch(value):
        return float(value)
    parts = _DURATION_PART.findall(value)
    if not parts or "".join(number + unit for number, unit in parts) != value:
        return None
    return sum(float(number) * _UNITS[unit] for number, unit in parts)


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms``, ``retry-after`` (seconds or HTTP date).

    ``retry-after-ms`` wins when both are usable. Values that are not finite, negative or
    unreadable count as absent; a date in the past gives 0. Never raises.
    """
    millis = _number(headers.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000.0
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _number(value)
    if seconds is not None:
        return seconds
    try:
        from email.utils import parsedate_to_datetime  # rare: HTTP-date retry-after

        moment = parsedate_to_datetime(value.strip())
        stamp = moment.timestamp()
    except (TypeError, ValueError, IndexError, OverflowError, OSError, AttributeError):
        return None
    return max(stamp - (time.time() if now is None else now), 0.0)


def _number(value: str | None) -> float | None:
    """A finite, non-negative number of seconds, or None."""
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        return None


def parse_rate_limit(headers: Mapping[str, str], prefix: str = "x-ratelimit-") -> RateLimit | None:
    """Read ``x-ratelimit-{limit,remaining,reset}-{requests,tokens}`` (OpenAI and Groq style)."""
    if (
        headers.get(prefix + "limit-requests") is None
        and headers.get(prefix + "limit-tokens") is None
    ):
        retry_after = parse_retry_after(headers)
        return None if retry_after is None else RateLimit(retry_after=retry_after)
    return RateLimit(
        limit_requests=_int(headers.get(prefix + "limit-requests")),
        remaining_requests=_int(headers.get(prefix + "remaining-requests")),
        reset_requests=parse_duration(headers.get(prefix + "reset-requests")),
        limit_tokens=_int(headers.get(prefix + "limit-tokens")),
        remaining_tokens=_int(headers.get(prefix + "remaining-tokens")),
        reset_tokens=parse_duration(headers.get(prefix + "reset-tokens")),
        retry_after=parse_retry_after(headers),
    )


def request_id_from(headers: Mapping[str, str]) -> str | None:
    """The provider's request id, from the usual headers."""
    return (
        headers.get("x-request-id") or headers.get("request-id") or headers.get("x-goog-request-id")
    )

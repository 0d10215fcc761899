"""Retry decisions, Retry-After and rate-limit header parsing, secret scrubbing."""

from __future__ import annotations

import random

import pytest

import llmx
from llmx import RetryPolicy
from llmx._core import ClientCore
from llmx._headers import parse_duration, parse_rate_limit, parse_retry_after
from llmx._resolve import resolve_core


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("2m59.56s", 179.56), ("172ms", 0.172), ("1m26.4s", 86.4), ("7.66s", 7.66), ("2", 2.0),
     ("1h2m3s", 3723.0), ("500us", 0.0005), ("", None), ("soon", None), ("5x", None)],
)  # fmt: skip
def test_parse_duration(text: str, seconds: float | None) -> None:
    result = parse_duration(text)
    assert result == pytest.approx(seconds) if seconds is not None else result is None


def test_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after-ms": "1500"}) == 1.5
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=1445412470) == 10
    assert parse_retry_after({"retry-after": "garbage"}) is None
    assert parse_retry_after({}) is None


def test_rate_limit_headers() -> None:
    limit = parse_rate_limit(
        {
            "x-ratelimit-limit-requests": "1000",
            "x-ratelimit-limit-tokens": "8000",
            "x-ratelimit-remaining-requests": "999",
            "x-ratelimit-remaining-tokens": "7927",
            "x-ratelimit-reset-requests": "1m26.4s",
            "x-ratelimit-reset-tokens": "547ms",
        }
    )
    assert limit is not None
    assert (limit.limit_requests, limit.remaining_tokens) == (1000, 7927)
    assert limit.reset_requests == pytest.approx(86.4)
    assert limit.reset_tokens == pytest.approx(0.547)
    assert parse_rate_limit({}) is None


def _core(**kwargs: object) -> ClientCore:
    return resolve_core("groq", api_key="gsk_canary_0123456789", model="m", **kwargs)  # type: ignore[arg-type]


def _prepared(core: ClientCore, retries: int = 2):  # type: ignore[no-untyped-def]
    request = core.build_request("hi", {})
    return core.prepare(request, stream=False, timeout=None, max_retries=retries)


@pytest.mark.parametrize(
    ("status", "retried"),
    [(400, False), (401, False), (404, False), (408, True), (409, True), (413, False),
     (422, False), (429, True), (498, True), (500, True), (502, True), (503, True), (529, True)],
)  # fmt: skip
def test_which_statuses_are_retried(status: int, retried: bool) -> None:
    core = _core()
    error = core.error_for(status, {}, b'{"error": {"message": "x"}}')
    assert (core.retry_delay(error, 0, _prepared(core)) is not None) is retried


def test_retry_after_is_honoured_and_capped() -> None:
    core = _core()
    prepared = _prepared(core)
    error = core.error_for(429, {"retry-after": "3"}, b'{"error": {"message": "slow"}}')
    assert core.retry_delay(error, 0, prepared) == 3.0
    long_wait = core.error_for(429, {"retry-after": "86"}, b'{"error": {"message": "day"}}')
    assert core.retry_delay(long_wait, 0, prepared) is None  # raise; retry_after says when
    assert long_wait.retry_after == 86.0
    assert core.retry_delay(error, 2, prepared) is None  # retries used up


def test_x_should_retry_overrides_status() -> None:
    core = _core()
    prepared = _prepared(core)
    no = core.error_for(503, {"x-should-retry": "false"}, b"{}")
    yes = core.error_for(400, {"x-should-retry": "true"}, b"{}")
    assert core.retry_delay(no, 0, prepared) is None
    assert core.retry_delay(yes, 0, prepared) is not None


def test_backoff_is_exponential_with_jitter_and_capped() -> None:
    policy = RetryPolicy()
    rng = random.Random(1)
    delays = [policy.backoff(n, rng) for n in range(6)]
    for n, delay in enumerate(delays):
        base = min(0.5 * 2**n, 8.0)
        assert base * 0.75 <= delay <= base


def test_scrub_removes_the_key_everywhere() -> None:
    core = _core()
    body = b'{"error": {"message": "Invalid API Key gsk_canary_0123456789", "code": "x"}}'
    error = core.error_for(401, {}, body)
    assert isinstance(error, llmx.AuthenticationError)
    assert "gsk_canary_0123456789" not in str(error)
    assert "gsk_canary_0123456789" not in repr(error.body)
    assert "[redacted]" in str(error)

"""H: HTTP-level faults (reliability.md §4 H1-H15), over a loopback socket."""

from __future__ import annotations

import email.utils
import logging
import threading
import time

import pytest
from reliability_support import (
    CANARY,
    assert_released,
    make_client,
    retry_delays,
    wait_until,
)

import llmx
from llmx._errors import UnexpectedResponseError
from llmx.testing import Emulator, Reply

DEFAULT = llmx.RetryPolicy()  # the documented defaults: 0.5 s initial backoff, x2, jitter 25 %


def gap(emu: Emulator, first: int = 0) -> float:
    """Seconds between the arrival of request ``first`` and the next one."""
    requests = emu.requests
    return requests[first + 1].received_at - requests[first].received_at


def test_H1_retry_after_seconds_is_slept_then_success(emu: Emulator) -> None:
    emu.script(Reply.error(429, headers={"retry-after": "1"}), Reply.text("done"))
    with make_client(emu) as client:
        assert client.chat("hi").text == "done"
    assert len(emu.requests) == 2
    assert gap(emu) >= 0.95
    assert "x-llmx-retry-count" not in emu.requests[0].headers
    assert emu.requests[1].headers["x-llmx-retry-count"] == "1"


def test_H2_rate_limited_every_time_gives_up_after_three_attempts(emu: Emulator) -> None:
    emu.set_default(Reply.error(429, headers={"retry-after": "0.3"}))
    with make_client(emu) as client, pytest.raises(llmx.RateLimitError) as info:
        client.chat("hi")
    error = info.value
    assert len(emu.requests) == 3
    assert (error.status_code, error.retry_after, error.attempts) == (429, 0.3, 3)
    assert error.provider == "groq"
    assert error.request_id is not None and error.request_id.startswith("req_")
    assert "3 attempts" in str(error)


@pytest.mark.parametrize(
    "headers", [{"retry-after": "3600"}, {"retry-after-ms": "3600000"}], ids=["seconds", "ms"]
)
def test_H3_long_retry_after_is_raised_at_once_and_says_when(
    emu: Emulator, headers: dict[str, str]
) -> None:
    emu.set_default(Reply.error(429, headers=headers))
    started = time.monotonic()
    with make_client(emu) as client, pytest.raises(llmx.RateLimitError) as info:
        client.chat("hi")
    assert time.monotonic() - started < 30  # not slept through
    assert len(emu.requests) == 1
    assert info.value.retry_after == 3600.0 and info.value.attempts == 1
    assert "try again after 3600s" in str(info.value)


def test_H4_retry_after_ms_wins_over_retry_after(emu: Emulator) -> None:
    emu.script(
        Reply.error(429, headers={"retry-after-ms": "250", "retry-after": "30"}), Reply.text("ok")
    )
    with make_client(emu) as client:
        assert client.chat("hi").text == "ok"
    assert 0.24 <= gap(emu) < 10


def test_H5_retry_after_http_date(emu: Emulator) -> None:
    when = email.utils.formatdate(time.time() + 2.5, usegmt=True)
    emu.script(Reply.error(503, headers={"retry-after": when}), Reply.text("ok"))
    with make_client(emu) as client:
        assert client.chat("hi").text == "ok"
    assert gap(emu) >= 1.0  # the date has 1 s resolution: 1.5-2.5 s ahead when sent


@pytest.mark.parametrize(
    "value", ["Wed, 21 Oct 2015 07:28:00 GMT", "soon", "-5", "0", "NaN", "inf", ""]
)
def test_H5_unusable_retry_after_falls_back_to_backoff(
    emu: Emulator, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    emu.script(Reply.error(503, headers={"retry-after": value}), Reply.text("ok"))
    caplog.set_level(logging.DEBUG, logger="llmx")
    with make_client(emu, retry_policy=DEFAULT) as client:
        assert client.chat("hi").text == "ok"
    (delay,) = retry_delays(caplog.records)
    assert 0.375 <= delay <= 0.5


def test_H6_server_errors_back_off_exponentially(
    emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="llmx")
    emu.script(Reply.error(503), Reply.error(503), Reply.text("ok"))
    with make_client(emu, retry_policy=DEFAULT) as client:
        assert client.chat("hi").text == "ok"
    first, second = retry_delays(caplog.records)
    assert 0.375 <= first <= 0.5 and 0.75 <= second <= 1.0
    assert gap(emu, 0) >= first * 0.95 and gap(emu, 1) >= second * 0.95


def test_H6_persistent_500_gives_up_with_a_server_error(emu: Emulator) -> None:
    emu.set_default(Reply.error(500))
    with make_client(emu) as client, pytest.raises(llmx.ServerError) as info:
        client.chat("hi")
    assert info.value.attempts == 3 and len(emu.requests) == 3


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, llmx.InvalidRequestError),
        (401, llmx.AuthenticationError),
        (403, llmx.AuthenticationError),
        (404, llmx.InvalidRequestError),
        (413, llmx.InvalidRequestError),
        (422, llmx.InvalidRequestError),
    ],
)
def test_H7_client_errors_are_not_retried(
    emu: Emulator, status: int, kind: type[llmx.ProviderError]
) -> None:
    emu.set_default(Reply.error(status))
    with make_client(emu) as client, pytest.raises(kind) as info:
        client.chat("hi")
    assert len(emu.requests) == 1 and info.value.attempts == 1
    assert info.value.status_code == status
    assert CANARY not in str(info.value) and CANARY[:8] not in repr(info.value)
    if status == 401:
        assert "GROQ_API_KEY" in str(info.value)


def test_H7_tool_use_failed_exposes_the_failed_generation(emu: Emulator) -> None:
    emu.set_default(
        Reply.error(
            400,
            message="Failed to call a function.",
            code="tool_use_failed",
            failed_generation='<function=get_weather{"city": "Paris"}',
        )
    )
    with make_client(emu) as client, pytest.raises(llmx.ToolUseFailedError) as info:
        client.chat("hi")
    assert info.value.code == "tool_use_failed"
    assert info.value.failed_generation == '<function=get_weather{"city": "Paris"}'
    assert len(emu.requests) == 1


@pytest.mark.parametrize("status", [408, 409])
def test_H8_timeout_and_conflict_statuses_are_retried(emu: Emulator, status: int) -> None:
    emu.script(Reply.error(status), Reply.text("ok"))
    with make_client(emu) as client:
        assert client.chat("hi").text == "ok"
    assert len(emu.requests) == 2


def test_H8_x_should_retry_overrides_the_status(emu: Emulator) -> None:
    with make_client(emu) as client:
        emu.script(Reply.error(503, headers={"x-should-retry": "false"}))
        with pytest.raises(llmx.ServerError):
            client.chat("hi")
        assert len(emu.requests) == 1
        emu.script(Reply.error(400, headers={"x-should-retry": "true"}), Reply.text("ok"))
        assert client.chat("hi").text == "ok"
        assert len(emu.requests) == 3


CLOUDFLARE = (
    "<!DOCTYPE html><html><head><title>502 Bad Gateway</title><style>body{color:red}</style>"
    "</head><body><center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center>"
    + "<!-- padding -->" * 500
    + "</body></html>"
)


def test_H9_html_gateway_page_is_retried_and_reported_readably(emu: Emulator) -> None:
    assert len(CLOUDFLARE) > 8000
    emu.set_default(Reply.error(502, body=CLOUDFLARE))
    with make_client(emu) as client, pytest.raises(llmx.ServerError) as info:
        client.chat("hi")
    error = info.value
    assert len(emu.requests) == 3 and error.attempts == 3
    message = str(error)
    assert "502 Bad Gateway" in message and "<" not in message.split("):", 1)[1]
    snippet = message.split("): ", 1)[1].split(" — ")[0]
    assert len(snippet) <= 200
    assert isinstance(error.body, str) and len(error.body) <= 64 * 1024  # kept, bounded


def test_H10_html_with_status_200_is_an_unexpected_response(emu: Emulator) -> None:
    emu.set_default(
        Reply.raw(200, "<html><body>Welcome to nginx!</body></html>", content_type="text/html")
    )
    with make_client(emu) as client, pytest.raises(UnexpectedResponseError) as info:
        client.chat("hi")
    assert info.value.status_code == 200 and info.value.content_type == "text/html"
    assert "nginx" in str(info.value) and len(emu.requests) == 1


def test_H11_json_error_where_a_stream_was_asked_for_is_raised(emu: Emulator) -> None:
    error = {"error": {"message": "model overloaded", "type": "server_error"}}
    emu.set_default(Reply.json(error))
    with make_client(emu, max_retries=0) as client, pytest.raises(llmx.ProviderError) as info:
        list(client.stream("hi"))
    assert "model overloaded" in str(info.value)


def test_H11_whole_completion_where_a_stream_was_asked_for_is_replayed(emu: Emulator) -> None:
    emu.set_default(Reply.text("whole answer", stream=False))
    with make_client(emu) as client:
        stream = client.stream("hi")
        events = list(stream)
    assert [e.type for e in events][0] == llmx.EventType.RESPONSE_START
    assert stream.response().text == "whole answer"


def test_H12_groq_capacity_498_is_retried_499_is_not(emu: Emulator) -> None:
    with make_client(emu) as client:
        emu.script(Reply.error(498), Reply.text("ok"))
        assert client.chat("hi").text == "ok"
        assert len(emu.requests) == 2
        emu.script(Reply.error(499, message="client closed request"))
        with pytest.raises(llmx.InvalidRequestError):
            client.chat("hi")
        assert len(emu.requests) == 3


@pytest.mark.parametrize("follow", [False, True], ids=["default", "follow_redirects"])
def test_H13_redirects_never_carry_credentials_elsewhere(emu: Emulator, follow: bool) -> None:
    with Emulator(api_key=None) as other:
        target = other.base_url + "/chat/completions"
        emu.set_default(Reply.raw(307, b"", headers={"location": target}))
        with make_client(emu, follow_redirects=follow) as client:
            if follow:
                assert client.chat("hi").text  # the other server's default answer
            else:
                with pytest.raises(llmx.ProviderError) as info:
                    client.chat("hi")
                assert info.value.status_code == 307 and "not followed" in str(info.value)
        received = other.requests
    if not follow:
        assert received == []
    else:
        (request,) = received
        for name in ("authorization", "x-api-key", "api-key", "x-goog-api-key"):
            assert name not in request.headers
        assert CANARY.encode() not in request.body


def test_H14_huge_error_body_is_bounded(emu: Emulator) -> None:
    huge = b'{"error": {"message": "' + b"x" * (10 * 1024 * 1024) + b'"}}'
    emu.set_default(Reply.error(400, body=huge))
    with make_client(emu) as client:
        with pytest.raises(llmx.InvalidRequestError) as info:
            client.chat("hi")
        assert len(str(info.value)) < 2000
        assert len(str(info.value.body)) <= 64 * 1024
        assert_released(client, emu)


@pytest.mark.parametrize("status", [429, 500])
def test_H15_error_response_is_closed_before_the_retry_sleep(emu: Emulator, status: int) -> None:
    emu.script(Reply.error(status, headers={"retry-after": "0.6"}), Reply.text("ok"))
    with make_client(emu) as client:
        outcome: list[str] = []
        worker = threading.Thread(
            target=lambda: outcome.append(client.stream("hi").response().text)
        )
        worker.start()
        emu.wait_for_requests(1)
        time.sleep(0.25)  # inside the 0.6 s wait
        assert len(emu.requests) == 1
        assert client._transport.in_flight == 0
        assert client._transport.pool_connections() in ((0, 0), (1, 0))
        worker.join(10)
        assert outcome == ["ok"]
        assert wait_until(lambda: client._transport.in_flight == 0)

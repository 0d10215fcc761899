"""R: retry semantics (reliability.md §4 R1-R6)."""

from __future__ import annotations

import random
import statistics

import pytest
from reliability_support import FAST, make_client

import llmx
from llmx._core import ClientCore
from llmx._resolve import resolve_core
from llmx.testing import Emulator, Reply


def core(**settings: object) -> ClientCore:
    return resolve_core("groq", api_key="gsk_x_0123456789", model="m", **settings)  # type: ignore[arg-type]


def test_R1_backoff_schedule_and_jitter_over_1000_seeded_runs() -> None:
    policy = llmx.RetryPolicy(max_retries=6)
    for n in range(7):
        base = min(0.5 * 2**n, 8.0)
        delays = [policy.backoff(n, random.Random(seed)) for seed in range(1000)]
        assert all(0.75 * base <= d <= base for d in delays)
        assert statistics.mean(delays) == pytest.approx(0.875 * base, rel=0.03)
        assert len(set(delays)) > 900  # jittered, not a fixed schedule


@pytest.mark.parametrize("retries", [0, 1, 2, 5])
def test_R1_attempts_counter(retries: int) -> None:
    client_core = core()
    request = client_core.build_request("hi", {})
    prepared = client_core.prepare(request, stream=False, timeout=None, max_retries=retries)
    call = client_core.call(prepared, stream=False)
    error = client_core.error_for(503, {}, b"{}")
    with pytest.raises(llmx.ServerError) as info:
        for _ in range(20):
            call.retry(error)
    assert info.value.attempts == retries + 1


def test_R2_retries_resend_the_identical_body(emu: Emulator) -> None:
    emu.script(Reply.error(503), Reply.error(502), Reply.text("ok"))
    with make_client(emu) as client:
        client.chat("the same bytes, please", temperature=0.3, max_tokens=50)
    bodies = {r.body for r in emu.requests}
    assert len(emu.requests) == 3 and len(bodies) == 1
    counts = [r.headers.get("x-llmx-retry-count") for r in emu.requests]
    assert counts == [None, "1", "2"]
    assert not any("idempotency" in name for r in emu.requests for name in r.headers)


@pytest.mark.parametrize(
    "reply",
    [Reply.error(503), Reply.error(429), Reply.drop(reset=True), Reply.text("x", delay=30)],
    ids=["503", "429", "reset", "read-timeout"],
)
def test_R3_max_retries_zero_means_one_attempt(emu: Emulator, reply: Reply) -> None:
    emu.set_default(reply)
    with make_client(emu, max_retries=0, timeout=llmx.Timeout(read=0.3)) as client:
        with pytest.raises(llmx.LLMXError) as info:
            client.chat("hi")
        assert info.value.attempts == 1 and len(emu.requests) == 1
        with pytest.raises(llmx.LLMXError):
            list(client.stream("hi", timeout=llmx.Timeout(read=0.3, first_event=0.3)))
    assert len(emu.requests) == 2


def test_R4_per_call_overrides_do_not_change_the_client(emu: Emulator) -> None:
    with make_client(emu) as client:
        before = client._core.settings
        emu.set_default(Reply.error(503))
        with pytest.raises(llmx.ServerError) as info:
            client.chat("hi", max_retries=0, timeout=5, retry_policy=llmx.RetryPolicy())
        assert info.value.attempts == 1
        assert client._core.settings == before and client._core.settings.retry == FAST
        emu.set_default(None)
        emu.script(Reply.error(503), Reply.error(503), Reply.text("ok"))
        assert client.chat("hi").text == "ok"  # the client's own two retries


def test_R4_per_call_settings_take_no_memory() -> None:
    client_core = core()
    request = client_core.build_request("hi", {})
    for n in range(5000):
        client_core.prepare(request, stream=True, timeout=1 + n % 7, max_retries=n % 3)
    assert client_core.settings.timeout == llmx.Timeout()


def test_R5_a_stream_is_retried_only_before_its_first_event(emu: Emulator) -> None:
    with make_client(emu) as client:
        emu.script(Reply.text("a b c", chunk_size=1, disconnect_after=0), Reply.text("fine"))
        assert client.stream("hi").response().text == "fine"  # nothing had arrived: retried
        assert len(emu.requests) == 2
        emu.script(Reply.text("a b c d", chunk_size=1, disconnect_after=2), Reply.text("no"))
        stream = client.stream("hi")
        with pytest.raises(llmx.StreamError) as info:
            for _ in stream:
                pass
        assert stream.partial is not None and stream.partial.text
        assert len(emu.requests) == 3  # events were delivered: never repeated
        assert info.value.attempts == 1 and info.value.partial is not None


def test_R6_read_timeout_after_sending_is_retried_and_flagged(emu: Emulator) -> None:
    emu.set_default(Reply.text("late", delay=30))
    timeout = llmx.Timeout(read=0.3)
    with make_client(emu, timeout=timeout) as client:
        with pytest.raises(llmx.RequestTimeout) as info:
            client.chat("hi")
        assert info.value.attempts == 3 and info.value.possibly_duplicated
        careful = llmx.RetryPolicy(retry_if_sent=False)
        with pytest.raises(llmx.RequestTimeout) as info:
            client.chat("hi", retry_policy=careful)
        assert info.value.attempts == 1 and not info.value.possibly_duplicated
        assert "retry_if_sent=False" in str(info.value)
    assert len(emu.requests) == 4

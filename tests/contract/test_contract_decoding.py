"""Contract, response side, over every registered adapter: the canonical scenarios rendered by
the emulator in the adapter's wire decode to the same result, whole and streamed in every
chunking; error statuses and in-stream errors map to the same typed errors."""

from __future__ import annotations

import re

import pytest
from capabilities import failure_problems, midstream_problems
from scenarios import (
    FAILURES,
    MIDSTREAM,
    SCENARIOS,
    adapter,
    decode_until_error,
    event_problems,
    exchange,
    mismatches,
    names,
    render_for,
    request_for,
    wire_of,
)
from support import decode, same_content

import llmx
from llmx import EventType, FinishReason, ServerError

CASES = [(name, scenario) for name in names() for scenario in SCENARIOS]


@pytest.mark.parametrize(("name", "scenario"), CASES)
def test_scenario_decodes_to_the_canonical_result(name: str, scenario: str) -> None:
    case = SCENARIOS[scenario]
    request = request_for(name)
    whole, _ = exchange(name, request, case.reply, stream=False)
    streamed, events = exchange(name, request, case.reply, stream=True, all_ways=True)
    assert mismatches(whole, case.expect) == []
    assert mismatches(streamed, case.expect) == []
    assert event_problems(events) == []
    same_content(whole, streamed)  # the stream-accumulation invariant
    assert whole.provider == streamed.provider == name
    assert llmx.accumulate(events) == streamed


@pytest.mark.parametrize(("name", "scenario"), CASES)
def test_tool_calls_arrive_whole_at_their_end_event(name: str, scenario: str) -> None:
    case = SCENARIOS[scenario]
    _, events = exchange(name, request_for(name), case.reply, stream=True)
    ends = [e for e in events if e.type is EventType.TOOL_CALL_END]
    assert [(e.id, e.name, e.arguments) for e in ends] == list(case.expect.calls)  # type: ignore[union-attr]
    finish = events[-1]
    assert finish.type is EventType.FINISH
    assert finish.usage is not None  # type: ignore[union-attr]
    if case.expect.calls:
        assert finish.reason is FinishReason.TOOL_CALLS  # type: ignore[union-attr]


@pytest.mark.parametrize(("name", "failure"), [(n, f) for n in names() for f in FAILURES])
def test_error_status_maps_to_the_typed_error(name: str, failure: str) -> None:
    assert failure_problems(name, failure) == ()


@pytest.mark.parametrize("name", names())
def test_error_mid_stream_is_a_retryable_server_error_after_partial_text(name: str) -> None:
    assert midstream_problems(name) == ()
    partial, error = decode_until_error(name, request_for(name), MIDSTREAM)
    assert isinstance(error, ServerError) and error.provider == name
    assert partial.text and "Partial answer.".startswith(partial.text)
    assert partial.finish_reason is FinishReason.ERROR


@pytest.mark.parametrize("name", names())
def test_the_same_error_unstreamed_is_an_http_error(name: str) -> None:
    with pytest.raises(ServerError) as info:
        exchange(name, request_for(name), MIDSTREAM, stream=False)
    assert info.value.status_code == 503 and info.value.provider == name


_FINISH_MARKERS = (b'"finish_reason":"', b'"finishReason"', b'"done":true', b"message_delta")


@pytest.mark.parametrize("name", names())
def test_a_stream_cut_before_its_finish_is_an_error_not_an_answer(name: str) -> None:
    body = render_for(name, request_for(name), SCENARIOS["text"].reply, stream=True).body
    ndjson = wire_of(name) == "ollama"
    frames = [f for f in re.split(rb"\n" if ndjson else rb"\r?\n\r?\n", body) if f.strip()]
    end = next(i for i, f in enumerate(frames) if any(m in f for m in _FINISH_MARKERS))
    cut = b"".join(frame + (b"\n" if ndjson else b"\n\n") for frame in frames[:end])
    with pytest.raises(llmx.StreamError):
        decode(adapter(name), request_for(name), [cut])

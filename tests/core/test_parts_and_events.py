"""PartTracker, ThinkTagSplitter, accumulate() and replay."""

from __future__ import annotations

import random

import pytest

import llmx
from llmx import EventType, FinishReason, Usage
from llmx._replay import events_from_response
from llmx.adapter import PartTracker, ThinkTagSplitter


def test_tracker_brackets_parts_and_numbers_them() -> None:
    out: list[llmx.Event] = []
    parts = PartTracker()
    parts.reasoning("think", out)
    parts.text("Hel", out)
    parts.text("lo", out)
    parts.start_tool("a", "call_1", "f", out)
    parts.tool_arguments("a", '{"x":', out)
    parts.tool_arguments("a", "1}", out)
    parts.end_all(out)
    assert [e.type.value for e in out] == [
        "reasoning-start", "reasoning-delta", "reasoning-end",
        "text-start", "text-delta", "text-delta", "text-end",
        "tool-call-start", "tool-call-delta", "tool-call-delta", "tool-call-end",
    ]  # fmt: skip
    assert [getattr(e, "index", None) for e in out] == [0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]
    end = out[-1]
    assert isinstance(end, llmx.ToolCallEnd)
    assert end.arguments == {"x": 1} and end.raw_arguments == '{"x":1}'


CASES = [
    ("<think>\nplan\n</think>\n\n4", "plan\n", "4"),
    ("no tags here", None, "no tags here"),
    ("<think>only thinking", "only thinking", ""),
    ("a <thin b", None, "a <thin b"),
    ("x<think>y</think>z", "y", "xz"),
]


@pytest.mark.parametrize(("text", "reasoning", "content"), CASES)
def test_think_splitter_is_chunking_independent(
    text: str, reasoning: str | None, content: str
) -> None:
    rng = random.Random(7)
    for _ in range(50):
        splitter = ThinkTagSplitter()
        pieces: list[tuple[bool, str]] = []
        i = 0
        while i < len(text):
            size = rng.randint(1, 4)
            pieces += splitter.feed(text[i : i + size])
            i += size
        pieces += splitter.close()
        got_reasoning = "".join(t for thinking, t in pieces if thinking)
        got_content = "".join(t for thinking, t in pieces if not thinking)
        assert got_content == content
        assert got_reasoning == (reasoning or "")


def test_accumulate_builds_the_response() -> None:
    usage = Usage(prompt_tokens=3, completion_tokens=2, total_tokens=5)
    events: list[llmx.Event] = [
        llmx.ResponseStart("id1", "m", "groq", ("w",)),
        llmx.TextStart(0),
        llmx.TextDelta(0, "Hi"),
        llmx.TextDelta(0, "!"),
        llmx.TextEnd(0),
        llmx.UsageEvent(usage),
        llmx.Finish(FinishReason.STOP, "stop", usage),
    ]
    response = llmx.accumulate(events)
    assert (response.id, response.model, response.provider, response.text) == (
        "id1", "m", "groq", "Hi!"
    )  # fmt: skip
    assert response.usage == usage and response.finish_reason is FinishReason.STOP
    assert response.warnings == ["w"]
    assert response.message.content == "Hi!" and response.tool_calls == []


def test_accumulate_without_finish_reports_error_and_keeps_partial_tool_call() -> None:
    events: list[llmx.Event] = [
        llmx.ResponseStart(None, None, "groq"),
        llmx.ToolCallStart(0, "c1", "get_weather"),
        llmx.ToolCallDelta(0, "c1", '{"city": "Par'),
    ]
    response = llmx.accumulate(events)
    assert response.finish_reason is FinishReason.ERROR
    assert response.tool_calls[0].raw_arguments == '{"city": "Par'
    assert response.tool_calls[0].arguments == {}


def test_replay_round_trips_a_response() -> None:
    response = llmx.Response(
        id="r",
        model="m",
        provider="p",
        message=llmx.Message.assistant(
            "answer",
            reasoning="because",
            tool_calls=[
                llmx.ToolCall(id="c", name="f", arguments={"a": 1}, raw_arguments='{"a":1}')
            ],
        ),
        finish_reason=FinishReason.TOOL_CALLS,
        raw_finish_reason="tool_calls",
        usage=Usage(prompt_tokens=1, completion_tokens=1, total_tokens=2),
    )
    events = events_from_response(response)
    assert events[0].type is EventType.RESPONSE_START and events[-1].type is EventType.FINISH
    again = llmx.accumulate(events)
    assert again.model_dump(exclude={"raw"}) == response.model_dump(exclude={"raw"})


def test_event_type_compares_to_strings() -> None:
    delta = llmx.TextDelta(0, "x")
    assert delta.type == EventType.TEXT_DELTA == "text-delta"
    assert str(EventType.FINISH) == "finish"
    with pytest.raises(AttributeError):
        delta.delta = "y"  # type: ignore[misc]

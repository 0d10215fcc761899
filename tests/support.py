"""Test helpers: feed wire transcripts through an adapter in every chunking."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

from llmx import Event, Request, Response, Tool
from llmx._ndjson import NDJSONDecoder
from llmx._sse import ServerSentEvent, SSEDecoder
from llmx.adapter import Adapter

FIXTURES = Path(__file__).parent / "fixtures"

# tools the adapter tests share
WEATHER = Tool(
    name="get_weather",
    description="Current weather",
    parameters={
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
)
CLOCK = Tool(name="get_time", parameters={"type": "object", "properties": {}})


def fixture_bytes(*parts: str) -> bytes:
    return FIXTURES.joinpath(*parts).read_bytes()


def chunkings(data: bytes, *, seeds: int = 3) -> Iterator[tuple[str, list[bytes]]]:
    """The same bytes whole, split after every line, one byte at a time (a split at every byte
    position), and in a few random chunkings."""
    yield "whole", [data]
    yield "lines", data.splitlines(keepends=True)
    yield "bytes", [data[i : i + 1] for i in range(len(data))]
    for seed in range(seeds):
        rng = random.Random(seed)
        chunks, i = [], 0
        while i < len(data):
            size = rng.randint(1, 64)
            chunks.append(data[i : i + size])
            i += size
        yield f"random{seed}", chunks


def decode(adapter: Adapter, request: Request, chunks: list[bytes]) -> list[Event]:
    """Run chunks through the framing the adapter declares and its stream decoder."""
    decoder = adapter.stream_decoder(request)
    events: list[Event] = []
    if adapter.spec.framing == "ndjson":
        lines = NDJSONDecoder()
        for chunk in chunks:
            for line in lines.feed(chunk):
                events += decoder.feed(ServerSentEvent(data=line))
        for line in lines.close():
            events += decoder.feed(ServerSentEvent(data=line))
    else:
        frames = SSEDecoder()
        for chunk in chunks:
            for frame in frames.feed(chunk):
                events += decoder.feed(frame)
        for frame in frames.close():
            events += decoder.feed(frame)
    events += decoder.close()
    return events


def decode_all_ways(adapter: Adapter, request: Request, data: bytes) -> list[Event]:
    """Decode in every chunking; assert they all give identical events; return them."""
    reference: list[Event] | None = None
    for name, chunks in chunkings(data):
        events = decode(adapter, request, chunks)
        if reference is None:
            reference = events
        else:
            assert events == reference, f"chunking {name} gives other events"
    assert reference is not None
    return reference


def same_content(a: Response, b: Response) -> None:
    """The stream-accumulation invariant: what chat() and stream().response() must share."""
    assert a.text == b.text
    assert a.reasoning == b.reasoning
    assert [(c.id, c.name, c.arguments) for c in a.tool_calls] == [
        (c.id, c.name, c.arguments) for c in b.tool_calls
    ]
    assert a.usage == b.usage
    assert a.finish_reason == b.finish_reason
    assert a.raw_finish_reason == b.raw_finish_reason

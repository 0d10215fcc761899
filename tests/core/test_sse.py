"""Tests for llmx._sse: WHATWG conformance cases, chunking invariance, limits."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmx._errors import StreamError
from llmx._sse import ServerSentEvent, SSEDecoder

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "sse_conformance.json"
CASES: list[dict[str, Any]] = json.loads(FIXTURE.read_text(encoding="utf-8"))
PROPERTY = settings(max_examples=200, deadline=None)

Outcome = tuple[list[ServerSentEvent], bool] | type[StreamError]


def wire_bytes(case: dict[str, Any]) -> bytes:
    """The bytes to feed: input_bytes_hex when given (non-UTF-8 input), else UTF-8 of input."""
    if "input_bytes_hex" in case:
        return bytes.fromhex(case["input_bytes_hex"])
    return str(case["input"]).encode("utf-8")


def decode(chunks: list[bytes], **limits: int) -> Outcome:
    """Feed chunks to a fresh decoder; return (events, pending) or StreamError if raised."""
    decoder = SSEDecoder(**limits)
    events: list[ServerSentEvent] = []
    try:
        for chunk in chunks:
            events += decoder.feed(chunk)
        events += decoder.close()
    except StreamError:
        return StreamError
    return events, decoder.pending


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted(cuts), len(data)]
    return [data[a:b] for a, b in pairwise(bounds)]


def chunkings(data: bytes, mode: str) -> Iterator[list[bytes]]:
    if mode == "whole":
        yield [data]
    elif mode == "two-way":
        for i in range(len(data) + 1):
            yield [data[:i], data[i:]]
    elif mode == "bytewise":
        yield [data[i : i + 1] for i in range(len(data))]
    elif mode == "lines":  # one chunk per line, terminator included (CRLF kept together)
        yield [part for part in re.split(rb"(?<=\n)|(?<=\r)(?!\n)", data) if part]
    else:
        raise AssertionError(mode)


def reference(raw: bytes) -> list[ServerSentEvent]:
    """A direct, slow transcription of the WHATWG algorithm over decoded text."""
    text = raw.decode("utf-8", "replace").removeprefix("\ufeff")
    lines = re.split("\r\n|\r|\n", text)[:-1]  # the unterminated rest is discarded at EOF
    events: list[ServerSentEvent] = []
    data: list[str] = []
    event_type, last_id, retry = "", "", None
    for line in lines:
        if not line:
            if data:
                events.append(
                    ServerSentEvent(event_type or "message", "\n".join(data), last_id, retry)
                )
            data, event_type, retry = [], "", None
            continue
        if line.startswith(":"):
            continue
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            data.append(value)
        elif name == "event":
            event_type = value
        elif name == "id" and "\0" not in value:
            last_id = value
        elif name == "error" and not data:  # llmx's extension for llama.cpp's legacy errors
            event_type = "error"
            data.append(value)
        elif name == "retry" and value and all(c in "0123456789" for c in value):
            retry = int(value)
    return events


# -- conformance fixture ----------------------------------------------------------------------


def test_fixture_is_well_formed() -> None:
    assert len(CASES) >= 50
    assert len({case["name"] for case in CASES}) == len(CASES)
    for case in CASES:
        assert {"name", "input", "expected_events"} <= case.keys()
        if "input_bytes_hex" in case:  # the readable input is the replacement-decoded bytes
            assert wire_bytes(case).decode("utf-8", "replace") == case["input"]


@pytest.mark.parametrize("mode", ["whole", "two-way", "bytewise", "lines"])
@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_conformance(case: dict[str, Any], mode: str) -> None:
    # response_headers (a charset parameter) are deliberately not consulted: SSE is always UTF-8.
    data = wire_bytes(case)
    expected = [(e["event"], e["data"], e["id"]) for e in case["expected_events"]]
    for chunks in chunkings(data, mode):
        outcome = decode(chunks)
        assert outcome is not StreamError, chunks
        assert not isinstance(outcome, type)
        events, _ = outcome
        assert [(e.event, e.data, e.id) for e in events] == expected, chunks
        # expected_retry_ms is the reconnection time in effect at the end of the stream: the
        # last retry value carried by an event (every fixture sets it in a dispatched block).
        retries = [e.retry for e in events if e.retry is not None]
        assert (retries[-1] if retries else None) == case.get("expected_retry_ms"), chunks
        assert reference(data) == events


# -- chunking invariance (hypothesis) ---------------------------------------------------------

_NAMES = st.sampled_from(["data", "event", "id", "retry", "error", "Data", " data", "", "x"])
_SEPARATORS = st.sampled_from([":", ": ", ":  ", ":\t", ""])
_TEXT = st.text(st.sampled_from("aZ é…€😀:\x00\u2028\x85\ufeff07"), max_size=8)
_VALUES = _TEXT | st.integers(0, 99999).map(str)
_LINES = (
    st.tuples(_NAMES, _SEPARATORS, _VALUES).map("".join)
    | st.just("")  # blank line: dispatch
    | _TEXT.map(lambda v: ":" + v)  # comment
)
_EOLS = st.sampled_from(["\n", "\r", "\r\n"])


@st.composite
def sse_streams(draw: st.DrawFn) -> bytes:
    bom = draw(st.sampled_from(["", "\ufeff", "\ufeff\ufeff"]))
    body = "".join(line + eol for line, eol in draw(st.lists(st.tuples(_LINES, _EOLS))))
    tail = draw(st.sampled_from(["", "data: cut", "\r", "\n"]))
    raw = (bom + body + tail).encode("utf-8")
    junk = draw(st.sampled_from([b"", b"\xff", b"\xe2\x82", b"\xf0\x9f", b"\xbf", b"\xef\xbb"]))
    at = draw(st.integers(0, len(raw)))
    return raw[:at] + junk + raw[at:]


@st.composite
def chunked(draw: st.DrawFn, payloads: st.SearchStrategy[bytes]) -> tuple[bytes, list[bytes]]:
    data = draw(payloads)
    cuts = draw(st.lists(st.integers(0, len(data)), max_size=12))
    return data, split_at(data, cuts)


_BLOCKS = (
    _VALUES.map(lambda v: f"data: {v}\n\n")
    | st.tuples(_VALUES, _EOLS, _EOLS).map(lambda t: f"data: {t[0]}{t[1]}{t[2]}")
    | st.lists(st.tuples(_LINES, _EOLS), max_size=3).map(
        lambda lines: "".join(line + eol for line, eol in lines)
    )
)


@st.composite
def block_aligned(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    """Mostly whole "data: ...\\n\\n" blocks, grouped into chunks: the decoder's fast path."""
    blocks = [block.encode("utf-8") for block in draw(st.lists(_BLOCKS, max_size=10))]
    cuts = draw(st.lists(st.integers(0, len(blocks)), max_size=6))
    chunks = [b"".join(blocks[a:b]) for a, b in pairwise([0, *sorted(cuts), len(blocks)])]
    return b"".join(blocks), chunks


@PROPERTY
@given(block_aligned(), st.integers(1, 24), st.integers(1, 48))
def test_block_aligned_chunks(
    sample: tuple[bytes, list[bytes]], max_line: int, max_event: int
) -> None:
    data, chunks = sample
    whole = decode([data])
    assert decode(chunks) == whole
    assert not isinstance(whole, type) and whole[0] == reference(data)
    limits = {"max_line_bytes": max_line, "max_event_bytes": max_event}
    assert decode(chunks, **limits) == decode([data], **limits)


@PROPERTY
@given(chunked(st.binary(max_size=300)))
def test_arbitrary_bytes_any_chunking(sample: tuple[bytes, list[bytes]]) -> None:
    data, chunks = sample
    whole = decode([data])
    assert whole != StreamError  # default limits: plain bytes can only decode
    assert decode(chunks) == whole
    assert decode([data[i : i + 1] for i in range(len(data))]) == whole
    assert not isinstance(whole, type) and whole[0] == reference(data)


@PROPERTY
@given(chunked(sse_streams()))
def test_sse_grammar_any_chunking(sample: tuple[bytes, list[bytes]]) -> None:
    data, chunks = sample
    whole = decode([data])
    assert decode(chunks) == whole
    assert not isinstance(whole, type) and whole[0] == reference(data)


@PROPERTY
@given(chunked(sse_streams() | st.binary(max_size=200)), st.integers(1, 24), st.integers(1, 48))
def test_limits_same_outcome_for_any_chunking(
    sample: tuple[bytes, list[bytes]], max_line: int, max_event: int
) -> None:
    data, chunks = sample
    limits = {"max_line_bytes": max_line, "max_event_bytes": max_event}
    assert decode(chunks, **limits) == decode([data], **limits)


@PROPERTY
@given(st.binary(max_size=200))
def test_line_wise_utf8_decoding_matches_whole(data: bytes) -> None:
    # The decoder decodes complete lines only; that is exact because CR/LF never sit inside
    # a UTF-8 sequence and the replacement decoder never swallows an ASCII byte.
    parts = re.split(rb"\r\n|\r|\n", data)
    assert "\n".join(p.decode("utf-8", "replace") for p in parts) == "\n".join(
        re.split("\r\n|\r|\n", data.decode("utf-8", "replace"))
    )


# -- focused behaviour ------------------------------------------------------------------------


def test_typical_stream_and_done_sentinel() -> None:
    decoder = SSEDecoder()
    chunk = b'data: {"choices":[{"delta":{"content":"h\xc3\xa9"}}]}\n\n'
    assert (
        decoder.feed(chunk * 2)
        == [ServerSentEvent(data='{"choices":[{"delta":{"content":"hé"}}]}')] * 2
    )
    assert decoder.feed(b"data: [DONE]\n\n") == [ServerSentEvent(data="[DONE]")]
    assert hash(decoder.feed(chunk)[0]) == hash(
        ServerSentEvent(data='{"choices":[{"delta":{"content":"hé"}}]}')
    )
    assert decoder.close() == []
    assert not decoder.pending


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        ([b"data: a\n\nxyz", b"data: b\n\n", b"\n"], ["a"]),  # a buffered partial line
        ([b"data: a\n", b"data: b\n\n"], ["a\nb"]),  # an open block
        ([b"event: e\n", b"data: b\n\n"], ["b"]),
        ([b"data: a\r\n\n", b"data: b\r\n\n"], ["a", "b"]),
        ([b"data: a\n\n\n", b"data: b\n\n\ndata: c\n\n"], ["a", "b", "c"]),
        ([b"data: a\n\ndata: b\ndata: c\n\n"], ["a", "b\nc"]),
        ([b"data: a\n\ndata:b\n\ndata: \n\n"], ["a", "b", ""]),
    ],
    ids=[
        "after-partial-line",
        "after-open-block",
        "after-event-field",
        "crlf",
        "extra-lf",
        "multi-line-data",
        "no-space-and-empty",
    ],
)
def test_fast_path_shapes(chunks: list[bytes], expected: list[str]) -> None:
    outcome = decode(chunks)
    assert outcome == decode([b"".join(chunks)])
    assert not isinstance(outcome, type)
    assert [e.data for e in outcome[0]] == expected
    assert outcome[0] == reference(b"".join(chunks))


def test_fast_path_keeps_id_and_event_type_defaults() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"id: 5\nevent: x\n\n") == []
    assert decoder.feed(b"data: a\n\ndata: b\n\n") == [
        ServerSentEvent("message", "a", "5"),
        ServerSentEvent("message", "b", "5"),
    ]


def test_cr_at_chunk_end_then_lf_is_one_line_break() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data:a\r") == []
    assert decoder.feed(b"") == []  # an empty chunk must not forget the pending CR
    assert decoder.feed(b"\ndata:b\r") == []
    assert decoder.feed(b"\n\r") == [ServerSentEvent(data="a\nb")]
    assert decoder.feed(b"\ndata:c\n\n") == [ServerSentEvent(data="c")]  # "\r\n" was 2 breaks


def test_bom_split_across_chunks_and_only_at_start() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"\xef") == []
    assert decoder.pending
    assert decoder.feed(b"\xbb") == []
    assert decoder.feed(b"\xbfdata: 1\n\n\xef\xbb\xbfdata: 2\n\n") == [ServerSentEvent(data="1")]


def test_event_fields_and_retry() -> None:
    events = SSEDecoder().feed(b"event: delta\nid: 7\nretry: 0250\ndata: x\n\ndata: y\n\n")
    assert events == [
        ServerSentEvent(event="delta", data="x", id="7", retry=250),
        ServerSentEvent(event="message", data="y", id="7", retry=None),
    ]


def test_retry_with_too_many_digits_is_ignored_not_raised() -> None:
    huge = b"retry: " + b"9" * 5000 + b"\ndata: x\n\n"
    assert SSEDecoder().feed(huge) == [ServerSentEvent(data="x")]
    padded = b"retry: " + b"0" * 5000 + b"5\ndata: x\n\n"
    assert SSEDecoder().feed(padded) == [ServerSentEvent(data="x", retry=5)]


def test_event_is_frozen_with_whatwg_defaults() -> None:
    event = ServerSentEvent()
    assert (event.event, event.data, event.id, event.retry) == ("message", "", "", None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.data = "x"  # type: ignore[misc]


# -- limits and pending -----------------------------------------------------------------------


@pytest.mark.parametrize("split", [False, True], ids=["one-chunk", "byte-chunks"])
def test_line_over_limit_raises(split: bool) -> None:
    data = b"data: " + b"x" * 20 + b"\n\n"
    decoder = SSEDecoder(max_line_bytes=16)
    with pytest.raises(StreamError, match=r"max_line_bytes=16 \(reached (17|26) bytes"):
        for chunk in [data[i : i + 1] for i in range(len(data))] if split else [data]:
            decoder.feed(chunk)


def test_unterminated_line_over_limit_raises_before_newline() -> None:
    decoder = SSEDecoder(max_line_bytes=16)
    decoder.feed(b"data: " + b"x" * 10)
    with pytest.raises(StreamError, match=r"max_line_bytes=16 \(reached 17 bytes"):
        decoder.feed(b"x")


def test_line_at_limit_is_fine() -> None:
    line = b"data: " + b"x" * 10
    assert SSEDecoder(max_line_bytes=len(line)).feed(line + b"\n\n") == [
        ServerSentEvent(data="x" * 10)
    ]


def test_event_over_limit_raises() -> None:
    decoder = SSEDecoder(max_event_bytes=10)
    assert decoder.feed(b"data: abcd\ndata: efgh\n") == []  # 5 + 5 bytes: at the limit
    with pytest.raises(StreamError, match=r"max_event_bytes=10 \(its data reached 11 bytes"):
        decoder.feed(b"data\n")


@pytest.mark.parametrize(
    ("data", "pending"),
    [
        (b"", False),
        (b"data: x", True),
        (b"data: x\n", True),
        (b"data: x\n\n", False),
        (b"data: x\r\r", False),
        (b"event: e\n", True),
        (b"id: 1\n", True),
        (b"event: e\nid: 1\nx\n\n", False),
        (b": keepalive\n", False),
        (b": keepalive", True),
        (b"data: [DONE]\n\n", False),
    ],
    ids=repr,
)
def test_pending(data: bytes, pending: bool) -> None:
    decoder = SSEDecoder()
    decoder.feed(data)
    assert decoder.pending is pending
    assert decoder.close() == []
    assert decoder.pending is pending  # still answerable after close()


def test_partial_bom_does_not_count_against_a_tiny_line_limit() -> None:
    data = b"\xef\xbb\xbf:\n"
    assert decode([data[i : i + 1] for i in range(len(data))], max_line_bytes=1) == ([], False)
    assert decode([b"\xef\xbb\n"], max_line_bytes=1) == StreamError  # not a BOM: a 2-byte line


def test_llamacpp_error_field_reads_as_an_error_event() -> None:
    """llama.cpp's non-standard `error: {...}` line becomes event "error" with that data."""
    body = b'data: {"a":1}\n\nerror: {"code":400,"message":"too long"}\n\ndata: [DONE]\n\n'
    for size in (1, 7, len(body)):
        decoder = SSEDecoder()
        events = []
        for i in range(0, len(body), size):
            events += decoder.feed(body[i : i + size])
        assert [(e.event, e.data) for e in events] == [
            ("message", '{"a":1}'),
            ("error", '{"code":400,"message":"too long"}'),
            ("message", "[DONE]"),
        ]

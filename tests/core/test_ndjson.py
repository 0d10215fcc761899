"""Tests for llmx._ndjson: splitting, CRLF, blank lines, final line, UTF-8, limits."""

from __future__ import annotations

import json
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmx._errors import StreamError
from llmx._ndjson import NDJSONDecoder

PROPERTY = settings(max_examples=200, deadline=None)

OLLAMA = (
    b'{"model":"llama3","message":{"role":"assistant","content":"Hel"},"done":false}\n'
    b'{"model":"llama3","message":{"role":"assistant","content":"l\xc3\xb8 \xe2\x80\xa6"},'
    b'"done":false}\n'
    b'{"model":"llama3","message":{"role":"assistant","content":""},"done":true}\n'
)


def decode(chunks: list[bytes], **limits: int) -> list[str] | type[StreamError]:
    decoder = NDJSONDecoder(**limits)
    lines: list[str] = []
    try:
        for chunk in chunks:
            lines += decoder.feed(chunk)
        lines += decoder.close()
    except StreamError:
        return StreamError
    return lines


def reference(data: bytes) -> list[str]:
    lines = [line.removesuffix("\r") for line in data.decode("utf-8", "replace").split("\n")]
    return [line for line in lines if line.strip(" \t\r")]


def test_ollama_stream() -> None:
    lines = decode([OLLAMA])
    assert isinstance(lines, list)
    assert [json.loads(line)["message"]["content"] for line in lines] == ["Hel", "lø …", ""]


@pytest.mark.parametrize("mode", ["two-way", "bytewise"])
def test_any_split_gives_the_same_lines(mode: str) -> None:
    expected = decode([OLLAMA])
    if mode == "bytewise":
        assert decode([OLLAMA[i : i + 1] for i in range(len(OLLAMA))]) == expected
    else:
        for i in range(len(OLLAMA) + 1):
            assert decode([OLLAMA[:i], OLLAMA[i:]]) == expected, i


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'{"a":1}\r\n{"b":2}\r\n', ['{"a":1}', '{"b":2}']),
        (b'\n\n{"a":1}\n \n\t\r\n\r\n{"b":2}\n\n', ['{"a":1}', '{"b":2}']),
        (b'{"a":1}\n{"b":2}', ['{"a":1}', '{"b":2}']),
        (b'{"a":1}\n{"b":2}\r', ['{"a":1}', '{"b":2}']),
        (b'{"a":1}\n  ', ['{"a":1}']),
        (b'{"a":"\xff\xc3"}\n', ['{"a":"\ufffd\ufffd"}']),
        (b'{"a":"x\ry"}\n', ['{"a":"x\ry"}']),
        (b"", []),
    ],
    ids=[
        "crlf",
        "blank-lines",
        "no-final-newline",
        "final-cr",
        "blank-tail",
        "bad-utf8",
        "inner-cr",
        "empty",
    ],
)
def test_lines(data: bytes, expected: list[str]) -> None:
    assert decode([data]) == expected
    assert decode([data[i : i + 1] for i in range(len(data))]) == expected


def test_final_line_only_from_close() -> None:
    decoder = NDJSONDecoder()
    assert decoder.feed(b'{"done":tr') == []
    assert decoder.feed(b"ue}") == []
    assert decoder.close() == ['{"done":true}']
    assert decoder.close() == []


def test_multibyte_char_split_across_chunks() -> None:
    decoder = NDJSONDecoder()
    assert decoder.feed(b'"\xe2\x80') == []
    assert decoder.feed(b'\xa6"\n') == ['"\u2026"']


@pytest.mark.parametrize("split", [False, True], ids=["one-chunk", "byte-chunks"])
def test_line_over_limit_raises(split: bool) -> None:
    data = b'{"a":"' + b"x" * 20 + b'"}\n'
    decoder = NDJSONDecoder(max_line_bytes=16)
    with pytest.raises(StreamError, match=r"max_line_bytes=16 \(reached (17|28) bytes"):
        for chunk in [data[i : i + 1] for i in range(len(data))] if split else [data]:
            decoder.feed(chunk)


def test_line_at_limit_is_fine() -> None:
    assert decode([b"1234\n12345678"], max_line_bytes=8) == ["1234", "12345678"]


@PROPERTY
@given(st.binary(max_size=300), st.lists(st.integers(0, 300), max_size=12))
def test_any_chunking_matches_reference(data: bytes, cuts: list[int]) -> None:
    bounds = [0, *sorted(min(c, len(data)) for c in cuts), len(data)]
    assert decode([data[a:b] for a, b in pairwise(bounds)]) == reference(data)


@PROPERTY
@given(
    st.lists(st.sampled_from([b"{}", b"[1]", b"\r", b" ", b"\n", b"\xc3", b"\xa9", b"x" * 7])),
    st.lists(st.integers(0, 100), max_size=8),
    st.integers(1, 12),
)
def test_limit_same_outcome_for_any_chunking(
    parts: list[bytes], cuts: list[int], max_line: int
) -> None:
    data = b"".join(parts)
    bounds = [0, *sorted(min(c, len(data)) for c in cuts), len(data)]
    chunks = [data[a:b] for a, b in pairwise(bounds)]
    assert decode(chunks, max_line_bytes=max_line) == decode([data], max_line_bytes=max_line)

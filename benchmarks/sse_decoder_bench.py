"""Micro-benchmark: llmx's SSEDecoder per event versus a bare split loop and httpx iter_lines.

Run: .venv/bin/python benchmarks/sse_decoder_bench.py [--events 20000] [--repeat 7]

Every variant parses the same Groq-style chat.completion.chunk stream and json.loads each
payload, except the "decode only" rows, which isolate the SSE framing cost. Times are the best
of --repeat runs, in nanoseconds per event.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from llmx._sse import SSEDecoder


def groq_chunks(n: int) -> list[bytes]:
    words = ["The", " quick", " brown", " fox", " jumps", " über", " the", " lazy", " dog", "…"]
    chunks = []
    for i in range(n):
        payload = {
            "id": "chatcmpl-8d2c1f0e-6a5b-4c3d-9e8f-7a6b5c4d3e2f",
            "object": "chat.completion.chunk",
            "created": 1730000000,
            "model": "llama-3.3-70b-versatile",
            "system_fingerprint": "fp_c4a72fb330",
            "choices": [
                {
                    "index": 0,
                    "delta": {"content": words[i % len(words)]},
                    "logprobs": None,
                    "finish_reason": None,
                }
            ],
            "x_groq": {"id": "req_01jbd6g2qdfw2adyrt2az8hz4w"},
        }
        chunks.append(b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n")
    return chunks


def resplit(body: bytes, seed: int = 0) -> list[bytes]:
    """The same bytes cut at random points (1..400 bytes), as a slow network would deliver."""
    rng = random.Random(seed)
    out, i = [], 0
    while i < len(body):
        step = rng.randint(1, 400)
        out.append(body[i : i + step])
        i += step
    return out


def bare_split(body: bytes) -> int:
    count = 0
    for line in body.split(b"\n"):
        if line.startswith(b"data: "):
            json.loads(line[6:])
            count += 1
    return count


def decoder_loop(chunks: list[bytes], parse: bool) -> int:
    decoder = SSEDecoder()
    count = 0
    for chunk in chunks:
        for event in decoder.feed(chunk):
            if parse:
                json.loads(event.data)
            count += 1
    return count


class _Chunks(httpx.SyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._chunks)


def httpx_iter_lines(chunks: list[bytes]) -> int:
    response = httpx.Response(200, stream=_Chunks(chunks))
    count = 0
    for line in response.iter_lines():
        if line.startswith("data: "):
            json.loads(line[6:])
            count += 1
    return count


def best_ns(fn: Callable[[], int], events: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter_ns()
        got = fn()
        best = min(best, time.perf_counter_ns() - start)
        assert got == events, (got, events)
    return best / events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    chunks = groq_chunks(args.events)
    body = b"".join(chunks)
    ragged = resplit(body)
    n = args.events
    rows: list[tuple[str, Callable[[], int]]] = [
        ("bare body.split(b'\\n') + json.loads", lambda: bare_split(body)),
        ("SSEDecoder, 1 chunk/event + json.loads", lambda: decoder_loop(chunks, True)),
        ("SSEDecoder, whole body + json.loads", lambda: decoder_loop([body], True)),
        ("SSEDecoder, random 1-400 B chunks + json.loads", lambda: decoder_loop(ragged, True)),
        ("httpx iter_lines, 1 chunk/event + json.loads", lambda: httpx_iter_lines(chunks)),
        ("SSEDecoder decode only, 1 chunk/event", lambda: decoder_loop(chunks, False)),
        ("SSEDecoder decode only, random 1-400 B chunks", lambda: decoder_loop(ragged, False)),
    ]
    print(
        f"{n} events, {len(body) / n:.0f} B/event, {len(ragged)} ragged chunks, "
        f"best of {args.repeat}, Python {sys.version.split()[0]}"
    )
    baseline = best_ns(rows[0][1], n, args.repeat)
    for name, fn in rows:
        ns = baseline if fn is rows[0][1] else best_ns(fn, n, args.repeat)
        print(f"  {name:<48} {ns:8.0f} ns/event  ({ns / baseline:4.2f}x bare)")


if __name__ == "__main__":
    main()

"""Per-event cost of llmx's streaming decode path against a bare ``json.loads`` loop.

Both read the same Groq-style SSE bytes, one event per network read, with no HTTP in between:
the bare loop splits lines and ``json.loads`` each ``data:`` line; llmx runs its whole decode
path (SSE framing, JSON, the Groq adapter, event construction, accumulation into a Response).

    .venv/bin/python benchmarks/event_cost.py [--events 20000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import llmx
from llmx._resolve import resolve_core
from llmx._stream import StreamState

_BASE = {
    "id": "chatcmpl-935610b8-ec6a-4b1d-8a58-84b34ab0590e",
    "object": "chat.completion.chunk",
    "created": 1771434741,
    "model": "openai/gpt-oss-120b",
    "system_fingerprint": "fp_c82faf3ca0",
}


def _chunk(delta: dict[str, object], finish: str | None = None, **extra: object) -> bytes:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return b"data: " + json.dumps({**_BASE, "choices": [choice], **extra}).encode() + b"\n\n"


def transcript(events: int) -> list[bytes]:
    """A Groq stream: role chunk, ``events`` content deltas, finish chunk with usage, [DONE]."""
    usage = {"prompt_tokens": 10, "completion_tokens": events, "total_tokens": events + 10}
    return [
        _chunk({"role": "assistant", "content": ""}, x_groq={"id": "req_1"}),
        *(_chunk({"content": " token"}) for _ in range(events)),
        _chunk({}, "stop", x_groq={"id": "req_1", "usage": usage}, usage=usage),
        b"data: [DONE]\n\n",
    ]


def bare(chunks: list[bytes]) -> int:
    count = 0
    for chunk in chunks:
        for line in chunk.split(b"\n"):
            if line.startswith(b"data: ") and line[6:] != b"[DONE]":
                json.loads(line[6:])
                count += 1
    return count


def make_llmx(events: int) -> Callable[[list[bytes]], int]:
    core = resolve_core("groq", api_key="gsk_bench", model="openai/gpt-oss-120b")
    request = core.build_request("hi", {})

    def run(chunks: list[bytes]) -> int:
        state = StreamState(core, request, {})
        count = 0
        for chunk in chunks:
            count += len(state.feed(chunk))
        count += len(state.close())
        response = state.response()
        if len(response.text) != 6 * events or response.usage is None:
            raise SystemExit("llmx decoded the stream wrongly")
        return count

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    chunks = transcript(args.events)
    ours = make_llmx(args.events)
    timings: dict[str, list[float]] = {"bare json.loads loop": [], "llmx decode path": []}
    for _ in range(args.rounds):  # interleaved, so drift hits both alike
        for name, run in (("bare json.loads loop", bare), ("llmx decode path", ours)):
            started = time.perf_counter()
            run(chunks)
            timings[name].append((time.perf_counter() - started) / len(chunks) * 1e6)
    medians = {name: sorted(values)[len(values) // 2] for name, values in timings.items()}
    floor = medians["bare json.loads loop"]
    print(f"llmx {llmx.__version__}: {args.events} Groq chunks, median of {args.rounds} rounds")
    for name, value in medians.items():
        print(f"  {name:22} {value:6.2f} µs/event  ({value / floor:.2f}x)")
    print(f"  llmx's own work        {medians['llmx decode path'] - floor:6.2f} µs/event")


if __name__ == "__main__":
    main()

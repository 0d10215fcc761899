"""``python -m benchmarks --profile``: where llmx spends its time per stream chunk.

Two views of one long Groq-style text stream (sync client, loopback mock server):

1. Stage costs, without a profiler: each stage of the hot path timed alone over the same
   chunks (best of several repeats), from the network floor up to the whole ``Client.stream``.
2. cProfile of the whole ``Client.stream`` loop: own time per category (C built-ins are charged
   to the category of the Python function that called them) and the top functions. cProfile
   inflates Python-level call costs; read it for the ranking, the stage costs for the sizes.

It reaches into llmx internals (``llmx._sse``, ``llmx._core``, ``llmx._events``) and only reads
them. Standard library plus llmx and httpx: it runs in the project's venv.
"""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import time
from collections.abc import Callable
from typing import Any

from . import _harness, _wire

perf = time.perf_counter

CATEGORIES = (
    ("pydantic (validation, model_copy, dumps)", ("/pydantic/", "/pydantic_core/")),
    ("socket I/O", ("/socket.py", "/ssl.py", "/selectors.py")),
    ("httpx/httpcore/h11", ("/httpx/", "/httpcore/", "/h11/")),
    ("SSE decoding (llmx/_sse.py)", ("llmx/_sse.py",)),
    ("json (loads, dumps)", ("/json/",)),
    ("adapter decode (ChunkDecoder, Groq hooks)", ("providers/",)),
    ("event construction (PartTracker, event dataclasses)", ("llmx/_parts.py", "<string>")),
    ("accumulation (Accumulator.add)", ("llmx/_events.py",)),
    ("llmx request/stream loop (_client, _core, _stream, _transport, ...)", ("llmx/",)),
    ("benchmark loop", ("benchmarks/",)),
)


def category(filename: str) -> str:
    for name, needles in CATEGORIES:
        if any(needle in filename for needle in needles):
            return name
    return "other"


def best(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = perf()
        fn()
        times.append(perf() - start)
    return min(times)


def stage_costs(host: str, n: int, repeats: int) -> list[tuple[str, float]]:
    import httpx

    import llmx
    from llmx._events import Accumulator, TextDelta
    from llmx._sse import SSEDecoder

    try:
        from llmx._stream import StreamState  # type: ignore[import-not-found, unused-ignore]
    except ImportError:  # before the stream loop moved out of _core
        from llmx._core import StreamState  # type: ignore[attr-defined, no-redef, unused-ignore]

    url = host + "/openai/v1/chat/completions"
    body = json.dumps(_wire.request_body(n, stream=True)).encode()
    headers = {"content-type": "application/json", "authorization": "Bearer x"}
    raw = httpx.Client()
    client = llmx.Client(
        "groq", api_key=_wire.API_KEY, model=_wire.MODEL, base_url=host + "/openai/v1"
    )
    delta = llmx.EventType.TEXT_DELTA

    def chunks() -> list[bytes]:
        with raw.stream("POST", url, content=body, headers=headers) as r:
            return list(r.iter_bytes())

    recorded = chunks()
    core = client._core
    request = core.build_request(_wire.PROMPT, {"max_tokens": n})

    def httpx_iter_bytes() -> None:
        with raw.stream("POST", url, content=body, headers=headers) as r:
            for _ in r.iter_bytes():
                pass

    def httpx_lines_json() -> None:
        with raw.stream("POST", url, content=body, headers=headers) as r:
            for line in r.iter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    json.loads(line[6:])

    def llmx_stream() -> None:
        with client.stream(_wire.PROMPT, max_tokens=n) as s:
            pieces = [event.delta for event in s if event.type is delta]
        _wire.check_text("llmx stream", n, pieces, "".join(pieces))

    decoder = SSEDecoder()
    frames = [frame for chunk in recorded for frame in decoder.feed(chunk)]
    datas = [frame.data for frame in frames if frame.data != "[DONE]"]
    events: list[Any] = []
    chunk_decoder = core.adapter.stream_decoder(request)
    for frame in frames:
        events.extend(chunk_decoder.feed(frame))

    def sse() -> None:
        feed = SSEDecoder().feed
        for chunk in recorded:
            feed(chunk)

    def loads() -> None:
        for data in datas:
            json.loads(data)

    def adapter_decode() -> None:
        feed = core.adapter.stream_decoder(request).feed
        for frame in frames:
            feed(frame)

    texts = [e.delta for e in events if e.type is delta]

    def construct() -> None:
        for text in texts:
            TextDelta(0, text)

    def accumulate() -> None:
        add = Accumulator().add
        for event in events:
            add(event)

    def state_feed() -> None:
        state = StreamState(core, request, {})
        for chunk in recorded:
            state.feed(chunk)
        state.close()

    llmx_stream()  # warm-up and check
    per = 1e6 / n
    rows = [
        ("network: httpx iter_bytes, nothing else", best(httpx_iter_bytes, repeats) * per),
        ("network: raw httpx iter_lines + json.loads", best(httpx_lines_json, repeats) * per),
        ("network: llmx Client.stream, whole", best(llmx_stream, repeats) * per),
        ("offline: SSEDecoder.feed", best(sse, repeats) * per),
        ("offline: json.loads of each data", best(loads, repeats) * per),
        ("offline: ChunkDecoder.feed (incl. json.loads)", best(adapter_decode, repeats) * per),
        ("offline: TextDelta(...) construction", best(construct, repeats) * per),
        ("offline: Accumulator.add of each event", best(accumulate, repeats) * per),
        ("offline: StreamState.feed (SSE+decode+accumulate)", best(state_feed, repeats) * per),
    ]
    client.close()
    raw.close()
    return rows


Profile = tuple[list[tuple[str, float]], list[tuple[str, float, int]]]


def profile(fn: Callable[[], Any], units: int) -> Profile:
    """cProfile one call of ``fn``: own time per category and the top functions, per unit."""
    profiler = cProfile.Profile()
    profiler.enable()
    fn()
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO()).stats  # type: ignore[attr-defined]
    by_category: dict[str, float] = {}

    def owner(func: tuple[str, int, str], depth: int = 0) -> str:
        filename = func[0]
        if filename != "~" or depth > 5:
            return category(filename)
        callers = stats[func][4]
        if not callers:
            return "other"
        top = max(callers.items(), key=lambda item: item[1][2])[0]
        return owner(top, depth + 1)

    for func, (_cc, _nc, tt, _ct, callers) in stats.items():
        if func[0] == "~" and callers:  # a C built-in: charge each caller's share to its owner
            for caller, (_c, _n, caller_tt, _t) in callers.items():
                key = owner(caller)
                by_category[key] = by_category.get(key, 0.0) + caller_tt
        else:
            key = owner(func)
            by_category[key] = by_category.get(key, 0.0) + tt
    per = 1e6 / units
    categories = sorted(((k, v * per) for k, v in by_category.items()), key=lambda kv: -kv[1])
    top = sorted(stats.items(), key=lambda item: -item[1][2])[:20]
    functions = [
        (f"{_short(func[0])}:{func[1]}({func[2]})", tt * per, nc)
        for func, (_cc, nc, tt, _ct, _callers) in top
    ]
    return categories, functions


def profiles(host: str, n: int, requests: int) -> tuple[Profile, Profile, Profile]:
    """The long stream; then ``requests`` non-streaming requests, llmx and raw httpx."""
    import httpx

    import llmx

    client = llmx.Client(
        "groq", api_key=_wire.API_KEY, model=_wire.MODEL, base_url=host + "/openai/v1"
    )
    delta = llmx.EventType.TEXT_DELTA
    tokens = 50

    def consume() -> None:
        with client.stream(_wire.PROMPT, max_tokens=n) as s:
            count = sum(1 for event in s if event.type is delta)
        if count != n:
            raise _wire.ValidationError(f"profiled stream: {count} text deltas, expected {n}")

    def chats() -> None:
        for _ in range(requests):
            _wire.check_text(
                "llmx chat", tokens, None, client.chat(_wire.PROMPT, max_tokens=50).text
            )

    raw = httpx.Client(headers={"authorization": f"Bearer {_wire.API_KEY}"})
    url = host + "/openai/v1/chat/completions"
    headers = {"content-type": "application/json"}

    def raw_chats() -> None:
        for _ in range(requests):
            body = json.dumps(_wire.request_body(tokens, stream=False)).encode()
            r = raw.post(url, content=body, headers=headers)
            text = json.loads(r.content)["choices"][0]["message"]["content"]
            _wire.check_text("httpx chat", tokens, None, text)

    consume()
    chats()
    raw_chats()
    result = (profile(consume, n), profile(chats, requests), profile(raw_chats, requests))
    client.close()
    raw.close()
    return result


def _short(filename: str) -> str:
    for marker in ("/site-packages/", "/work/main/", "/lib/python3."):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def _print(title: str, unit: str, prof: Profile) -> None:
    categories, functions = prof
    total = sum(us for _, us in categories)
    print()
    print(f"{title}: cProfile own time per category ({total:.1f} µs/{unit} under the profiler)")
    for name, us in categories:
        print(f"  {us:7.2f}  {100 * us / total:5.1f}%  {name}")
    print(f"{title}: top functions by own time (µs/{unit}, calls)")
    for name, us, calls in functions[:15]:
        print(f"  {us:7.2f}  {calls:>8}  {name}")


def main(*, quick: bool) -> int:
    n = 2_000 if quick else 20_000
    requests = 100 if quick else 1_000
    repeats = 2 if quick else 5
    mock = _harness.Mock(corrupt=False, max_seconds=600)
    try:
        stages = stage_costs(mock.host, n, repeats)
        stream, chat, raw_chat = profiles(mock.host, n, requests)
    finally:
        mock.stop()
    print(f"llmx hot paths: one {n:,}-chunk Groq text stream and {requests:,} non-streaming")
    print("requests, sync client, loopback mock server")
    print()
    print(f"Stage costs of the stream (no profiler; best of {repeats}), µs per chunk:")
    for name, us in stages:
        print(f"  {us:7.2f}  {name}")
    _print("llmx Client.stream", "chunk", stream)
    _print("llmx Client.chat", "request", chat)
    _print("raw httpx post + json.loads", "request", raw_chat)
    return 0

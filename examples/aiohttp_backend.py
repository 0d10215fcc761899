"""The aiohttp backend: the same AsyncClient code, cheaper per request and per stream event.

``http_backend="aiohttp"`` (``pip install 'llmx-ai[aiohttp]'``) swaps the HTTP library under
``AsyncClient`` on asyncio; requests, events, errors, retries and timeouts are unchanged. This
script streams one answer, then sends the same batch of questions on both backends and prints
the wall time of each (one run: a figure to look at, not a benchmark; ``python -m benchmarks``
measures properly). Also settable as ``LLMX_HTTP_BACKEND=aiohttp`` with ``from_env()``.
"""

from __future__ import annotations

import asyncio  # noqa: TID251 - the aiohttp backend runs on asyncio only
import os
import time

import llmx

MODEL = "llama-3.1-8b-instant"
QUESTIONS = [f"In one short sentence: what is {n} squared?" for n in range(1, 9)]


def make_client(backend: str) -> llmx.AsyncClient:
    return llmx.AsyncClient(
        "groq", api_key=os.getenv("GROQ_API_KEY"), model=MODEL, http_backend=backend
    )


async def batch(backend: str) -> float:
    async with make_client(backend) as client:
        started = time.perf_counter()
        answers = await asyncio.gather(*(client.simple_chat(q, max_tokens=40) for q in QUESTIONS))
        elapsed = time.perf_counter() - started
    assert all(answers), "every question got an answer"
    return elapsed


async def main() -> None:
    try:
        client = make_client("aiohttp")
    except llmx.ConfigurationError as error:  # aiohttp is not installed
        print(f"{error}\nFalling back to the default backend.")
        client = make_client("httpx")
    async with client:
        print(f"backend: {client.settings.http_backend}")
        async with client.stream("Name three primary colors.", max_tokens=60) as stream:
            async for text in stream.text_stream():
                print(text, end="", flush=True)
        response = await stream.response()
        tokens = response.usage.total_tokens if response.usage else "?"
        print(f"\n[{response.finish_reason.value}, {tokens} tokens]")
    if client.settings.http_backend == "aiohttp":
        for backend in ("httpx", "aiohttp"):
            seconds = await batch(backend)
            print(f"{len(QUESTIONS)} questions at once on {backend}: {seconds * 1e3:.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())

"""Batch processing: seed 002, performance tip 1 "批量处理" (AsyncGroq + asyncio.gather).

The seed fires every request at once. Groq advises at most 10 concurrent requests per account, so
this version bounds the concurrency with an ``anyio.CapacityLimiter(10)`` while an anyio task group
runs all prompts. ``llmx.AsyncClient`` works on asyncio and trio alike; it retries 429s itself.
"""

from __future__ import annotations

import os

import anyio

import llmx

MAX_CONCURRENT = 10


async def batch_process(questions: list[str]) -> list[str]:
    answers = [""] * len(questions)
    limiter = anyio.CapacityLimiter(MAX_CONCURRENT)
    in_flight = peak = 0

    async def ask(client: llmx.AsyncClient, index: int, question: str) -> None:
        nonlocal in_flight, peak
        async with limiter:
            in_flight += 1
            peak = max(peak, in_flight)
            try:
                answers[index] = await client.simple_chat(question)
            finally:
                in_flight -= 1

    async with llmx.AsyncClient(
        provider="groq", api_key=os.getenv("GROQ_API_KEY"), model="llama-3.1-8b-instant"
    ) as client:
        async with anyio.create_task_group() as group:
            for index, question in enumerate(questions):
                group.start_soon(ask, client, index, question)
    print(f"{len(questions)} questions, at most {peak} requests in flight")
    return answers


def main() -> None:
    questions = [f"问题{n}：用一句话解释数字 {n}" for n in range(1, 13)]
    answers = anyio.run(batch_process, questions)
    for question, answer in zip(questions, answers, strict=True):
        print(f"{question} -> {answer}")


if __name__ == "__main__":
    main()

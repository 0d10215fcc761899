"""Response cache: seed 002, performance tip 2 "缓存结果" (a cache keyed by a hash of the messages).

The key hashes the model and the messages (the seed hashes only the messages, which would return
one model's answer for another). ``llmx.Message`` is a pydantic model, so ``model_dump`` gives a
stable JSON form to hash. The cache keeps whole ``llmx.Response`` objects; they are immutable.
"""

from __future__ import annotations

import hashlib
import json
import os

import llmx


class CachedChat:
    def __init__(self, client: llmx.Client) -> None:
        self.client = client
        self.cache: dict[str, llmx.Response] = {}
        self.hits = self.misses = 0

    @staticmethod
    def key(model: str | None, messages: list[llmx.Message]) -> str:
        payload = json.dumps(
            {"model": model, "messages": [m.model_dump(mode="json") for m in messages]},
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode()).hexdigest()

    def complete(self, messages: list[llmx.Message]) -> llmx.Response:
        key = self.key(self.client.model, messages)
        cached = self.cache.get(key)
        if cached is not None:
            self.hits += 1
            print("  (使用缓存结果 / from cache)")
            return cached
        self.misses += 1
        response = self.client.chat(llmx.Request(messages=messages))
        self.cache[key] = response
        return response


def main() -> None:
    client = llmx.Client(
        provider="groq", api_key=os.getenv("GROQ_API_KEY"), model="llama-3.3-70b-versatile"
    )
    with client:
        chat = CachedChat(client)
        questions = ["什么是 LPU？", "什么是 LPU？", "Groq 有多快？", "什么是 LPU？"]
        answers = []
        for question in questions:
            print(f"Q: {question}")
            response = chat.complete([llmx.Message.user(question)])
            answers.append(response.text)
            print(f"A: {response.text}")
        if answers[0] != answers[1]:
            raise SystemExit("a cached answer differs from the original")
        print(f"cache: {chat.hits} hits, {chat.misses} misses, {len(chat.cache)} entries")


if __name__ == "__main__":
    main()

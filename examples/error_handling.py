"""Error handling: seed 002, best practice 2 "错误处理和重试" and "常见问题" (429, 401, timeouts).

The seed wraps every call in its own retry loop and sets ``timeout=60``. llmx already retries
429, 498, 408/409, 5xx and connection failures with exponential backoff, honouring the
provider's ``retry-after``; you tune that per client or per call. What it cannot fix (a bad key,
a limit that lasts longer than you are willing to wait) arrives as a typed exception.
"""

from __future__ import annotations

import os
import time

import llmx

MODEL = "llama-3.3-70b-versatile"


def chat_with_backoff(client: llmx.Client, prompt: str, attempts: int = 3) -> str:
    """The seed's call_with_retry, on top of llmx's own retries: wait as long as Groq says."""
    for attempt in range(attempts):
        try:
            return client.simple_chat(prompt)
        except llmx.RateLimitError as error:
            if attempt == attempts - 1:
                raise
            wait = error.retry_after if error.retry_after is not None else 2.0**attempt
            print(f"429 rate limited after {error.attempts} HTTP attempts; waiting {wait:g}s")
            time.sleep(wait)
    raise AssertionError("unreachable")


def main() -> None:
    key = os.getenv("GROQ_API_KEY")

    # timeout=60 as the seed advises (connect 5 s, each read and the whole call 60 s), and one
    # more automatic retry than the default of 2.
    client = llmx.Client(provider="groq", api_key=key, model=MODEL, timeout=60, max_retries=3)
    with client:
        print(f"answer: {chat_with_backoff(client, '你好')}")

        # Every knob, per client: separate timeouts and the whole retry policy.
        tuned = llmx.Client(
            provider="groq",
            api_key=key,
            model=MODEL,
            timeout=llmx.Timeout(connect=5, read=30, first_event=10, total=120),
            retry_policy=llmx.RetryPolicy(
                max_retries=5, initial_backoff=1.0, max_backoff=30.0, max_retry_after=90.0
            ),
        )
        with tuned:
            # ... and per call: fail fast on this one, no retries.
            print(f"tuned: {tuned.chat('ping', max_retries=0, timeout=10).text}")

        # 401: a wrong key is not retried; fix the key instead.
        with llmx.Client(provider="groq", api_key="gsk_not_a_real_key", model=MODEL) as bad:
            try:
                bad.simple_chat("你好")
            except llmx.AuthenticationError as error:
                print(f"401 caught: status={error.status_code} code={error.code}")
                print(f"  retryable={error.is_retryable}, attempts={error.attempts}")

        # Timeouts: a total deadline of 0.1 ms, which no request can meet.
        try:
            with client.stream("写一篇关于AI的文章", timeout=llmx.Timeout(total=0.0001)) as stream:
                stream.response()
        except llmx.RequestTimeout as error:
            kept = len(error.partial.text) if error.partial else 0
            print(f"timeout caught: phase={error.phase}, {kept} characters of partial output")

    # Connection failures (no server on port 9) are retried, then raised as ConnectError.
    offline = llmx.Client(
        provider="groq", api_key=key, model=MODEL, base_url="http://127.0.0.1:9/v1", max_retries=1
    )
    with offline:
        try:
            offline.simple_chat("你好")
        except llmx.ConnectError as error:
            print(f"connection error caught after {error.attempts} attempts")

    # Everything llmx raises is an llmx.LLMXError, if one handler is all you need.


if __name__ == "__main__":
    main()

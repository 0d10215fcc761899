"""Usage logging: seed 002, best practice 3 "监控使用量" (track_usage).

The seed logs prompt, completion and total tokens. Every ``llmx.Response`` also carries Groq's
timings, the request id (quote it in support tickets) and the rate-limit state from the response
headers; with llmx's model catalog the cost follows from the token counts.
"""

from __future__ import annotations

import logging
import os

import llmx

MODELS = llmx.model_cards("groq")

logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
logger = logging.getLogger("usage")
logger.setLevel(logging.INFO)


def track_usage(response: llmx.Response) -> llmx.Response:
    usage = response.usage
    if usage is None:
        logger.warning("no usage reported for request %s", response.request_id)
        return response
    logger.info(
        "tokens: prompt=%d completion=%d total=%d",
        usage.prompt_tokens,
        usage.completion_tokens,
        usage.total_tokens,
    )
    if usage.total_time is not None:
        speed = usage.completion_tokens / usage.completion_time if usage.completion_time else 0
        logger.info(
            "groq timings: queue=%.4fs prompt=%.4fs completion=%.4fs total=%.4fs (%.0f tokens/s)",
            usage.queue_time or 0,
            usage.prompt_time or 0,
            usage.completion_time or 0,
            usage.total_time,
            speed,
        )
    card = MODELS.get(response.model or "")
    cost = card.cost(usage) if card is not None else None
    if card is not None and cost is not None:
        logger.info("cost: $%.8f (%s, prices as of %s)", cost, card.id, card.as_of)
    logger.info("request id: %s", response.request_id)
    limits = response.rate_limit
    if limits is not None:
        logger.info(
            "rate limit: %s/%s requests left (reset in %ss), %s/%s tokens left (reset in %ss)",
            limits.remaining_requests,
            limits.limit_requests,
            limits.reset_requests,
            limits.remaining_tokens,
            limits.limit_tokens,
            limits.reset_tokens,
        )
    return response


def main() -> None:
    client = llmx.Client(
        provider="groq", api_key=os.getenv("GROQ_API_KEY"), model="llama-3.3-70b-versatile"
    )
    with client:
        response = track_usage(client.chat("什么是机器学习？"))
        print(response.text)

        # A streamed response carries the same usage, once the stream is read.
        with client.stream("写一首关于速度的短诗", model="llama-3.1-8b-instant") as stream:
            for text in stream.text_stream():
                print(text, end="", flush=True)
            print()
            track_usage(stream.response())


if __name__ == "__main__":
    main()

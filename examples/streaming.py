"""Streaming: seed 000, "流式响应" (and seed 002, "流式输出").

The Go original::

    stream, err := client.SimpleStreamChat(context.Background(), "用 Go 写一个 HTTP 服务器")
    for event := range stream.Events() {
        if event.Type == core.EventTypeTextDelta {
            fmt.Print(event.Delta)
        }
    }

In Python the stream itself is the iterator of events. The second form, ``with client.stream(...)
as stream``, also releases the connection if you stop early, and ``stream.response()`` gives the
same ``llmx.Response`` that a non-streaming ``client.chat(...)`` returns.
"""

from __future__ import annotations

import os

from llmx import ClientBuilder, EventType


def main() -> None:
    client = (
        ClientBuilder()
        .provider("groq", os.getenv("GROQ_API_KEY"))
        .model("llama-3.3-70b-versatile")
        .build()
    )
    with client:
        # 1. The seed's loop: print the text deltas as they arrive.
        for event in client.simple_stream_chat("用 Go 写一个 HTTP 服务器"):
            if event.type == EventType.TEXT_DELTA:
                print(event.delta, end="", flush=True)
        print()

        # 2. The context-manager form, then the accumulated response.
        with client.stream("写一篇关于AI的文章", max_tokens=200) as stream:
            for text in stream.text_stream():
                print(text, end="", flush=True)
            print()
            response = stream.response()
        usage = response.usage
        tokens = f"{usage.total_tokens} tokens" if usage else "no usage reported"
        print(f"finish_reason={response.finish_reason}, {tokens}, request id {response.request_id}")


if __name__ == "__main__":
    main()

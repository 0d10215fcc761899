"""Custom endpoint: seed 000, "自定义端点".

The Go original::

    client, err := llmx.NewClient(
        llmx.WithProvider("groq", map[string]interface{}{
            "api_key":  os.Getenv("GROQ_API_KEY"),
            "base_url": "https://custom-groq-endpoint.com/v1",
        }),
    )

In Python the same settings map is ``Client.from_config``.
"""

from __future__ import annotations

import os

import llmx

GROQ_URL = "https://api.groq.com/openai/v1"


def main() -> None:
    # base_url is where a proxy, an API gateway or any other Groq-compatible endpoint goes, e.g.
    # "https://custom-groq-endpoint.com/v1". Here it comes from GROQ_BASE_URL when that is set
    # (llmx itself also reads GROQ_BASE_URL when no base_url is given), else Groq's own URL.
    client = llmx.Client.from_config(
        {
            "provider": "groq",
            "api_key": os.getenv("GROQ_API_KEY"),
            "base_url": os.getenv("GROQ_BASE_URL", GROQ_URL),
            "model": "llama-3.3-70b-versatile",
        }
    )
    with client:
        print(client)  # shows the endpoint, never the key
        print(client.simple_chat("你好，介绍一下 Groq"))


if __name__ == "__main__":
    main()

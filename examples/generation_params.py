"""Generation parameters: seed 002, example 4 "调整生成参数".

The Python original (Groq SDK)::

    response = client.chat.completions.create(
        model="llama-3.3-70b-versatile",
        messages=[{"role": "user", "content": "写一首诗"}],
        temperature=0.9,        # more creative
        max_tokens=1024,        # cap the output length
        top_p=0.95,             # nucleus sampling
        frequency_penalty=0.5,  # fewer repetitions
        presence_penalty=0.5,   # more topic variety
    )

Groq accepts frequency_penalty and presence_penalty but no Groq model applies them; llmx says so
in ``response.warnings`` rather than pretending they worked.
"""

from __future__ import annotations

import os

import llmx


def main() -> None:
    client = llmx.Client(
        provider="groq", api_key=os.getenv("GROQ_API_KEY"), model="llama-3.3-70b-versatile"
    )
    with client:
        # Per-call keywords, as in the seed ...
        response = client.chat(
            "写一首诗",
            temperature=0.9,
            max_tokens=1024,
            top_p=0.95,
            frequency_penalty=0.5,
            presence_penalty=0.5,
        )
        print(response.text)
        for warning in response.warnings:
            print(f"warning: {warning}")

        # ... or the same settings on a RequestBuilder.
        request = (
            llmx.RequestBuilder()
            .add_user_message("Write a haiku about fast inference.")
            .temperature(0.9)
            .max_tokens(1024)
            .top_p(0.95)
            .build()
        )
        response = client.chat(request)
        print(response.text)
        print(f"warnings: {response.warnings or 'none'}")


if __name__ == "__main__":
    main()

"""System prompt: seed 002, example 1 "基础对话".

The Python original (Groq SDK)::

    response = client.chat.completions.create(
        model="llama-3.3-70b-versatile",
        messages=[
            {"role": "system", "content": "你是一个有帮助的AI助手"},
            {"role": "user", "content": "什么是机器学习？"},
        ],
    )
    print(response.choices[0].message.content)
"""

from __future__ import annotations

import os

import llmx


def main() -> None:
    client = llmx.Client(
        provider="groq", api_key=os.getenv("GROQ_API_KEY"), model="llama-3.3-70b-versatile"
    )
    with client:
        # With the request builder ...
        request = (
            llmx.RequestBuilder()
            .add_system_message("你是一个有帮助的AI助手")
            .add_user_message("什么是机器学习？")
            .build()
        )
        print(client.chat(request).text)

        # ... or with a list of messages, as in the seed.
        messages = [
            llmx.Message.system("You are a helpful assistant. Answer in one sentence."),
            llmx.Message.user("What is machine learning?"),
        ]
        print(client.chat(llmx.Request(messages=messages)).text)


if __name__ == "__main__":
    main()

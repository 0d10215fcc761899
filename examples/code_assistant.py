"""Code assistant: seed 002, case 2 "代码助手".

A system prompt names the language; temperature 0.2 keeps the code close to deterministic.
"""

from __future__ import annotations

import os

import llmx


def code_assistant(client: llmx.Client, language: str, task: str) -> str:
    request = (
        llmx.RequestBuilder()
        .add_system_message(f"你是一个专业的{language}编程助手。提供清晰的代码示例和解释。")
        .add_user_message(task)
        .temperature(0.2)  # a low temperature for more deterministic code
        .build()
    )
    return client.chat(request).text


def main() -> None:
    client = llmx.Client(
        provider="groq", api_key=os.getenv("GROQ_API_KEY"), model="llama-3.3-70b-versatile"
    )
    with client:
        print(code_assistant(client, "Python", "实现一个二分查找算法"))


if __name__ == "__main__":
    main()

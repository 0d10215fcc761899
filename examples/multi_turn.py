"""Multi-turn conversation: seed 002, example 3 "多轮对话".

The history is a list of messages: each answer (``response.message``) is appended before the next
question, so the model sees the whole conversation on every turn.
"""

from __future__ import annotations

import os

import llmx


def main() -> None:
    client = llmx.Client(
        provider="groq", api_key=os.getenv("GROQ_API_KEY"), model="llama-3.3-70b-versatile"
    )
    history = [llmx.Message.system("你是一个Python编程助手")]
    with client:
        for question in ["如何读取文件？", "那写入呢？"]:  # the second turn relies on the first
            history.append(llmx.Message.user(question))
            response = client.chat(llmx.Request(messages=history))
            history.append(response.message)
            print(f"用户: {question}")
            print(f"助手: {response.text}")
    roles = [message.role for message in history]
    print(f"history: {len(history)} messages ({', '.join(roles)})")


if __name__ == "__main__":
    main()

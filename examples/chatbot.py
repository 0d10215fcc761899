"""Console chatbot: seed 002, case 1 "实时聊天机器人" (a Streamlit app in the seed).

The same loop without a browser: keep the whole conversation in ``history``, stream each answer
as it is generated, then append it to the history. Type a message per line; an empty line or
Ctrl-D ends the chat. With piped input, each line is one turn; when stdin is not a terminal and
has no lines, a few scripted turns run instead, so the demo needs no one at the keyboard.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import llmx

SCRIPTED_TURNS = ["你好，你是谁？", "Groq 为什么这么快？", "谢谢！"]


def user_turns() -> Iterator[str]:
    if sys.stdin.isatty():
        while True:
            try:
                line = input("你: ").strip()
            except EOFError:
                return
            if not line:
                return
            yield line
    else:
        lines = [line.strip() for line in sys.stdin if line.strip()]
        for line in lines or SCRIPTED_TURNS:
            print(f"你: {line}")
            yield line


def main() -> None:
    client = llmx.Client(
        provider="groq", api_key=os.getenv("GROQ_API_KEY"), model="llama-3.3-70b-versatile"
    )
    history: list[llmx.Message] = []
    print("Groq 超快聊天机器人 (an empty line ends the chat)")
    with client:
        for prompt in user_turns():
            history.append(llmx.Message.user(prompt))
            print("助手: ", end="", flush=True)
            with client.stream(llmx.Request(messages=history)) as stream:
                for text in stream.text_stream():
                    print(text, end="", flush=True)
                reply = stream.response()
            print()
            history.append(reply.message)
    print(f"[{len(history)} messages in the conversation]")


if __name__ == "__main__":
    main()

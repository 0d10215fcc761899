"""Basic chat: seed 000, "基础用法".

The Go original::

    client, err := llmx.NewClientBuilder().
        Provider("groq", os.Getenv("GROQ_API_KEY")).
        Model("llama-3.3-70b-versatile").
        Build()
    defer client.Close()
    resp, err := client.SimpleChat(context.Background(), "你好，介绍一下 Groq")
    fmt.Println(resp)

Errors are exceptions in Python, so there is no ``if err != nil``: a failure ends the script with
a traceback and a non-zero exit status.
"""

from __future__ import annotations

import os

import llmx


def main() -> None:
    client = (
        llmx.ClientBuilder()
        .provider("groq", os.getenv("GROQ_API_KEY"))
        .model("llama-3.3-70b-versatile")
        .build()
    )
    with client:  # closes the connection pool at the end, like `defer client.Close()`
        print(client.simple_chat("你好，介绍一下 Groq"))


if __name__ == "__main__":
    main()

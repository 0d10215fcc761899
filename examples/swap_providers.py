"""Swap providers: one tool-calling program on Groq, OpenAI, Anthropic, Gemini and Ollama.

``ask_weather`` is the program and never names a provider; only ``CONFIGS`` differs::

    python examples/swap_providers.py                   # all five
    python examples/swap_providers.py anthropic ollama  # some of them

A provider runs against its real API when its variable is set (``GROQ_API_KEY``,
``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``, ``GEMINI_API_KEY``; for Ollama ``OLLAMA_BASE_URL``,
e.g. ``http://localhost:11434``), otherwise against the llmx emulator, which speaks that
provider's own wire format on a loopback port.
"""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack
from typing import Any

import llmx

CONFIGS: dict[str, dict[str, Any]] = {
    "groq": {"provider": "groq", "model": "llama-3.3-70b-versatile"},
    "openai": {"provider": "openai", "model": "gpt-4.1-mini"},
    "anthropic": {"provider": "anthropic", "model": "claude-sonnet-4-5", "max_tokens": 1024},
    "gemini": {"provider": "gemini", "model": "gemini-2.5-flash"},
    "ollama": {"provider": "ollama", "model": "llama3.2"},
}
LIVE_WHEN_SET = {
    "groq": "GROQ_API_KEY",
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "ollama": "OLLAMA_BASE_URL",
}

WEATHER = llmx.Tool(
    name="get_weather",
    description="The current weather in a city.",
    parameters={
        "type": "object",
        "properties": {"city": {"type": "string", "description": "City name"}},
        "required": ["city"],
    },
)


def get_weather(city: str) -> dict[str, Any]:
    """A stand-in for a real weather service."""
    return {"city": city, "temp_c": 21, "sky": "sunny"}


def ask_weather(client: llmx.Client, question: str) -> str:
    """The program: ask, run the tool calls the model makes, stream the final answer."""
    messages = [llmx.Message.system("Answer in one short sentence."), llmx.Message.user(question)]
    first = client.chat(llmx.Request(messages=messages, tools=[WEATHER]))
    if not first.tool_calls:
        return first.text
    messages.append(first.message)  # keeps reasoning and provider data for the next turn
    for call in first.tool_calls:
        result = get_weather(str(call.arguments.get("city", "")))
        messages.append(llmx.Message.tool(call.id, result))
    with client.stream(llmx.Request(messages=messages, tools=[WEATHER])) as stream:
        return "".join(stream.text_stream()).strip()


def main(names: list[str]) -> int:
    unknown = sorted(set(names) - set(CONFIGS))
    if unknown:
        print(f"unknown provider(s) {unknown}; choose from {sorted(CONFIGS)}", file=sys.stderr)
        return 2
    with ExitStack() as stack:
        emulator = None
        for name in names or list(CONFIGS):
            config, where = dict(CONFIGS[name]), LIVE_WHEN_SET[name]
            if not os.environ.get(where):
                if emulator is None:
                    from llmx.testing import Emulator

                    emulator = stack.enter_context(Emulator())
                config["base_url"] = emulator.base_url_for(name)
                config["api_key"] = emulator.api_key
                where = "emulator"
            with llmx.Client.from_config(config) as client:
                answer = ask_weather(client, "What is the weather in Paris right now?")
            print(f"{name:>9} ({where}, {config['model']}): {answer}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

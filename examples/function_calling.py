"""Function calling: seed 000, "Function Calling".

The Go original builds a request with one tool and sends it::

    req := llmx.NewRequestBuilder().
        Model("llama-3.3-70b-versatile").
        AddUserMessage("北京今天天气怎么样？").
        AddTool(llmx.Tool{Name: "get_weather", Description: "获取指定城市的天气信息", ...}).
        Build()
    resp, err := client.Chat(context.Background(), req)

This script goes on where the seed stops: it runs the tool the model asked for, sends the result
back, and prints the model's final answer.
"""

from __future__ import annotations

import json
import os
from typing import Any

import llmx

WEATHER_TOOL = llmx.Tool(
    name="get_weather",
    description="获取指定城市的天气信息",
    parameters={
        "type": "object",
        "properties": {"city": {"type": "string", "description": "城市名称"}},
        "required": ["city"],
    },
)


def get_weather(city: str) -> dict[str, Any]:
    """A stand-in for a real weather service."""
    return {"city": city, "weather": "晴", "temperature_c": 23}


TOOLS = {"get_weather": get_weather}


def main() -> None:
    client = (
        llmx.ClientBuilder()
        .provider("groq", os.getenv("GROQ_API_KEY"))
        .model("llama-3.3-70b-versatile")
        .build()
    )
    with client:
        builder = (
            llmx.RequestBuilder()
            .model("llama-3.3-70b-versatile")
            .add_user_message("北京今天天气怎么样？")
            .add_tool(WEATHER_TOOL)
        )
        response = client.chat(builder.build())
        if not response.tool_calls:  # the model may answer directly
            print(response.text)
            return

        # Keep the assistant's turn (with its tool calls), then one result per call.
        builder = builder.add_assistant_message(
            response.text or None, tool_calls=response.tool_calls
        )
        for call in response.tool_calls:
            print(f"tool call: {call.name}({json.dumps(call.arguments, ensure_ascii=False)})")
            result = TOOLS[call.name](**call.arguments)
            print(f"tool result: {json.dumps(result, ensure_ascii=False)}")
            builder = builder.add_tool_result(call.id, result)

        final = client.chat(builder.build())
        print(f"answer: {final.text}")


if __name__ == "__main__":
    main()

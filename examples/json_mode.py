"""JSON mode and JSON schemas: seed 000 lists "支持 JSON Mode" among Groq's features.

``json_mode()`` asks for any JSON object (Groq wants the prompt to mention JSON, too).
``json_schema(...)`` constrains the output to a schema, on the models that support structured
outputs, such as openai/gpt-oss-20b (which also supports ``strict=True``). Either way the answer
is text: parse and validate it.
"""

from __future__ import annotations

import json
import os

from pydantic import BaseModel

import llmx


class Contact(BaseModel):
    name: str
    city: str


# strict=True (constrained decoding) wants every property required and no additional ones.
CONTACT_SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "city": {"type": "string"}},
    "required": ["name", "city"],
    "additionalProperties": False,
}


def main() -> None:
    with llmx.Client(provider="groq", api_key=os.getenv("GROQ_API_KEY")) as client:
        # 1. JSON mode: any JSON object.
        request = (
            llmx.RequestBuilder()
            .model("llama-3.3-70b-versatile")
            .add_system_message("Reply with a JSON object only.")
            .add_user_message("用 JSON 介绍一下 Groq，包含 name 和 answer 两个字段")
            .json_mode()
            .build()
        )
        data = json.loads(client.chat(request).text)
        print(f"json_mode -> {type(data).__name__} with keys {sorted(data)}")

        # 2. A JSON schema: the fields and types you asked for.
        request = (
            llmx.RequestBuilder()
            .model("openai/gpt-oss-20b")
            .add_user_message('Extract the contact: "Zhang San" lives in Hangzhou.')
            .json_schema("contact", CONTACT_SCHEMA, strict=True)
            .build()
        )
        contact = Contact.model_validate_json(client.chat(request).text)
        print(f"json_schema -> {contact!r}")


if __name__ == "__main__":
    main()

"""V: bad input (reliability.md §4 V1-V5). Each is a clear llmx error raised before anything is
sent: the emulator must see zero requests."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from typing import Any

import pydantic
import pytest
from reliability_support import make_client

import llmx
from llmx import Message, Request, Tool, ToolCall
from llmx.testing import Emulator


@pytest.fixture
def quiet(emu: Emulator) -> Iterator[llmx.Client]:
    """A client whose emulator must not be contacted."""
    with make_client(emu) as client:
        yield client
    assert emu.requests == []


def rejects(client: llmx.Client, request: Any = "hi", **overrides: Any) -> str:
    with pytest.raises(llmx.InvalidInputError) as info:
        client.chat(request, **overrides)
    with pytest.raises(llmx.InvalidInputError):
        client.stream(request, **overrides)
    return str(info.value)


def test_V1_bad_conversations(quiet: llmx.Client) -> None:
    assert "no messages" in rejects(quiet, Request(messages=[]))
    assert "messages.0.role" in rejects(quiet, messages=[{"role": "bot", "content": "x"}])
    assert "messages.0.content" in rejects(quiet, messages=[{"role": "user", "content": 123}])
    assert "has no content" in rejects(quiet, Request(messages=[Message(role="user")]))
    orphan = Request(messages=[Message.user("hi"), Message.tool("call_9", "42")])
    assert "call_9" in rejects(quiet, orphan)
    no_id = Request(messages=[Message.user("hi"), Message(role="tool", content="42")])
    assert "tool_call_id" in rejects(quiet, no_id)
    with pytest.raises(pydantic.ValidationError, match="role"):
        Message(role="bot", content="x")  # type: ignore[arg-type]


def test_V1_a_call_and_its_result_pass(emu: Emulator) -> None:
    call = ToolCall(id="call_1", name="f", arguments={})
    messages = [Message.user("hi"), Message.assistant(tool_calls=[call]),
                Message.tool("call_1", "42")]  # fmt: skip
    with make_client(emu) as client:
        assert client.chat(Request(messages=messages)).text
    assert len(emu.requests) == 1


def schema_error(**parameters: Any) -> str:
    with pytest.raises((pydantic.ValidationError, llmx.InvalidInputError)) as info:
        Tool(name="f", parameters=parameters)
    return str(info.value)


def test_V2_malformed_tool_schemas(quiet: llmx.Client) -> None:
    assert "type 'object'" in schema_error(type="string")
    assert "not in 'properties'" in schema_error(type="object", properties={}, required=["x"])
    for name in ("has space", "x" * 65, ""):
        with pytest.raises(pydantic.ValidationError, match="tool name"):
            Tool(name=name)
    twice = [Tool(name="f"), Tool(name="f")]
    assert "repeated" in rejects(quiet, tools=twice)
    bad_property = Tool(name="f", parameters={"type": "object", "properties": {"x": 5}})
    assert "not a JSON schema" in rejects(quiet, tools=[bad_property])
    loop = {"type": "object", "properties": {"x": {"$ref": "#/$defs/a"}},
            "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}}  # fmt: skip
    assert "leads back to itself" in rejects(quiet, tools=[Tool(name="f", parameters=loop)])
    assert "names no tool" in rejects(quiet, tools=[Tool(name="f")], tool_choice="g")


def test_V2_recursive_schemas_that_describe_something_are_fine(emu: Emulator) -> None:
    tree = {"type": "object", "properties": {"children": {"type": "array",
            "items": {"$ref": "#"}}}}  # fmt: skip
    with make_client(emu) as client:
        client.chat("hi", tools=[Tool(name="tree", parameters=tree)])
    assert len(emu.requests) == 1


def test_V3_oversized_input_gets_the_servers_413_once() -> None:
    with Emulator(api_key="k", max_body_bytes=1024 * 1024) as small:
        with llmx.Client("groq", api_key="k", base_url=small.base_url, model="m") as client:
            with pytest.raises(llmx.InvalidRequestError) as info:
                client.chat("x" * (2 * 1024 * 1024))
        assert info.value.status_code == 413 and info.value.attempts == 1


@pytest.mark.parametrize(
    "extra",
    [{"when": datetime.datetime(2026, 1, 1)}, {"blob": b"\x00\x01"}, {"tags": {"a", "b"}},
     {"score": float("nan")}, {"score": float("inf")}],
    ids=["datetime", "bytes", "set", "nan", "inf"],
)  # fmt: skip
def test_V4_values_json_cannot_carry_are_rejected(quiet: llmx.Client, extra: Any) -> None:
    options = {"groq": {"extra_body": extra}}
    assert "cannot be encoded as JSON" in rejects(quiet, provider_options=options)
    tool = Tool(name="f", parameters={"type": "object", "properties": {}, "examples": [extra]})
    assert "cannot be encoded as JSON" in rejects(quiet, tools=[tool])


def test_V4_lone_surrogates_and_nul_make_valid_json(emu: Emulator) -> None:
    with make_client(emu) as client:
        client.chat("lone \ud800 surrogate and a \x00 nul")
    (request,) = emu.requests
    body = json.loads(request.body)
    assert body["messages"][0]["content"] == "lone \ud800 surrogate and a \x00 nul"
    request.body.decode("utf-8")  # strictly valid UTF-8 on the wire


@pytest.mark.parametrize(
    ("setting", "value", "field"),
    [("max_tokens", 0, "max_tokens"), ("max_tokens", -5, "max_tokens"),
     ("temperature", 5.0, "temperature"), ("temperature", "hot", "temperature"),
     ("top_p", 1.5, "top_p"), ("temperature", float("nan"), "temperature"),
     ("presence_penalty", -3, "presence_penalty")],
)  # fmt: skip
def test_V5_out_of_range_and_mistyped_settings(
    quiet: llmx.Client, setting: str, value: Any, field: str
) -> None:
    assert field in rejects(quiet, **{setting: value})


def test_V5_unknown_settings_list_the_valid_ones(quiet: llmx.Client) -> None:
    message = rejects(quiet, temprature=0.5)
    assert "temprature" in message and "temperature" in message
    with pytest.raises(pydantic.ValidationError):
        Request(messages=[Message.user("x")], max_tokens=0)

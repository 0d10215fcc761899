"""Conversations cross providers: a history with tool calls, tool results and reasoning, built
with one provider (against the emulator's default responder), continues on every other.

Two histories per source: ``loop`` stops in the middle of a tool loop (its last message is the
tool result), ``done`` has the final answer and a new user question. Every registered adapter
must build a request from them that its API accepts (the emulator validates each wire the way
its API does), and the five native wires plus two presets answer them over the socket.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from scenarios import WEATHER, adapter, model_for, names, wire_of

import llmx
from llmx import Message, ReasoningOptions, Request
from llmx.testing import Emulator
from llmx.testing._dialects import base_path_for, validate_request

SOURCES = ["groq", "openai", "anthropic", "gemini", "ollama"]
TARGETS = ["groq", "openai", "anthropic", "gemini", "ollama", "deepseek", "mistral"]
REASONING = ReasoningOptions(effort="low", include=True)
RESULT = {"city": "Paris", "temp_c": 21, "sky": "sunny"}
History = dict[str, dict[str, list[Message]]]


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


def _client(emu: Emulator, name: str, model: str | None = None) -> llmx.Client:
    return llmx.Client(
        name,
        api_key=emu.api_key,
        base_url=emu.base_url_for(name),
        model=model or model_for(name),
        max_retries=0,
        timeout=10.0,
    )


@pytest.fixture(scope="module")
def histories(emu: Emulator) -> History:
    built: History = {}
    for source in SOURCES:
        with _client(emu, source) as client:
            opening = [
                Message.system("Answer in one sentence."),
                Message.user("What is the weather in Paris?"),
            ]
            first = client.chat(Request(messages=opening, tools=[WEATHER], reasoning=REASONING))
            call = first.tool_calls[0]
            loop = [*opening, first.message, Message.tool(call.id, RESULT)]
            final = client.chat(Request(messages=loop, tools=[WEATHER], reasoning=REASONING))
            done = [*loop, final.message, Message.user("Thanks! Is that warm for Paris?")]
        built[source] = {"loop": loop, "done": done}
    return built


@pytest.mark.parametrize("source", SOURCES)
def test_each_history_holds_tool_calls_results_and_reasoning(
    histories: History, source: str
) -> None:
    done = histories[source]["done"]
    assistant = done[2]
    assert assistant.role == "assistant" and assistant.tool_calls and assistant.reasoning
    assert assistant.tool_calls[0].name == "get_weather"
    assert assistant.tool_calls[0].arguments == {"city": "Paris"}
    assert done[3].role == "tool" and done[3].tool_call_id == assistant.tool_calls[0].id
    assert "21" in done[4].text, "the source answered from the tool result"


def _accepted(target: str, request: Request) -> None:
    a = adapter(target)
    for stream in (False, True):
        built = a.build_request(request, stream=stream)
        problem = validate_request(
            wire_of(target),
            path=base_path_for(target) + built.path,
            body=built.body,
            headers={**a.spec.default_headers, **built.headers},
            query=urlencode(dict(built.params)),
        )
        assert problem is None, f"{target} would answer 400: {problem}"
        sent = json.dumps(built.body, ensure_ascii=False)
        assert "Paris" in sent and "21" in sent, "the tool call or its result went missing"


@pytest.mark.parametrize("kind", ["loop", "done"])
@pytest.mark.parametrize("target", names())
@pytest.mark.parametrize("source", SOURCES)
def test_every_adapter_builds_a_request_its_api_accepts(
    histories: History, source: str, target: str, kind: str
) -> None:
    history = histories[source][kind]
    _accepted(target, Request(messages=history, tools=[WEATHER], model=model_for(target)))


@pytest.mark.parametrize("source", SOURCES)
def test_gemini_3_accepts_tool_calls_made_elsewhere(histories: History, source: str) -> None:
    """Gemini 3 wants a thought signature on the calls of the current turn."""
    history = histories[source]["loop"]
    _accepted("gemini", Request(messages=history, tools=[WEATHER], model="gemini-3-pro-preview"))


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("source", SOURCES)
def test_the_tool_loop_finishes_on_another_provider(
    emu: Emulator, histories: History, source: str, target: str
) -> None:
    with _client(emu, target) as client:
        answer = client.chat(Request(messages=histories[source]["loop"], tools=[WEATHER]))
        assert answer.finish_reason is llmx.FinishReason.STOP
        assert "get_weather" in answer.text and "21" in answer.text  # it read the tool result
        with client.stream(Request(messages=histories[source]["done"], tools=[WEATHER])) as s:
            follow_up = s.response()
    assert follow_up.tool_calls or follow_up.text
    assert emu.errors == []


@pytest.mark.parametrize(
    "source",
    SOURCES,
)
def test_anthropic_with_thinking_continues_any_tool_loop(
    emu: Emulator, histories: History, source: str
) -> None:
    """With thinking on, Anthropic wants the last tool-use turn to start with a signed thinking
    block, which only an Anthropic-built history has; for the others the adapter must make the
    request valid (e.g. leave thinking off for it, with a warning)."""
    request = Request(messages=histories[source]["loop"], tools=[WEATHER], reasoning=REASONING)
    with _client(emu, "anthropic") as client:
        answer = client.chat(request)
    assert "21" in answer.text
    if source != "anthropic":
        assert any("thinking" in warning for warning in answer.warnings)


def _signatures(message: Message) -> list[str]:
    found = [
        t["signature"]
        for t in (message.provider_metadata or {}).get("anthropic", {}).get("thinking", [])
    ]
    for call in message.tool_calls:
        signature = ((call.provider_metadata or {}).get("gemini") or {}).get("thought_signature")
        found += [signature] if signature else []
    return found


@pytest.mark.parametrize("source", ["anthropic", "gemini"])
def test_signatures_go_back_to_their_provider_only(histories: History, source: str) -> None:
    loop = histories[source]["loop"]
    signatures = _signatures(loop[2])
    assert signatures, f"the {source} history carries no signature"
    for target in names():
        request = Request(messages=loop, tools=[WEATHER], model=model_for(target))
        sent = json.dumps(adapter(target).build_request(request, stream=False).body)
        for signature in signatures:
            assert (signature in sent) == (target == source), (target, signature)

"""Canonical scenarios of the contract suite and the helpers that run them through an adapter.

A scenario is one provider-neutral ``Reply`` plus what every adapter must decode from it. The
emulator renders the reply in the adapter's own wire (``llmx.testing._dialects.render_wire``),
for the exact request the adapter built, so nothing here is written per provider.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:  # run as a script: python tests/contract/capabilities.py
    sys.path.insert(0, str(TESTS))

from support import decode, decode_all_ways  # noqa: E402

import llmx  # noqa: E402
from llmx import (  # noqa: E402
    AuthenticationError,
    Event,
    EventType,
    FinishReason,
    InvalidRequestError,
    LLMXError,
    Message,
    ProviderError,
    RateLimitError,
    Request,
    Response,
    ServerError,
    Tool,
)
from llmx._ndjson import NDJSONDecoder  # noqa: E402
from llmx._registry import default_registry  # noqa: E402
from llmx._sse import ServerSentEvent, SSEDecoder  # noqa: E402
from llmx.adapter import Adapter, HttpResponse  # noqa: E402
from llmx.testing import Reply  # noqa: E402
from llmx.testing._dialects import WireResponse, base_path_for, render_wire  # noqa: E402

MODELS = {
    "groq": "openai/gpt-oss-120b",
    "openai": "gpt-4.1-mini",
    "anthropic": "claude-sonnet-4-5",
    "gemini": "gemini-2.5-flash",
    "ollama": "qwen3:8b",
}
"""A model name per wire, for requests that need one."""
PROVIDER_MODELS = {
    "cerebras": "llama-3.3-70b",
    "deepseek": "deepseek-chat",
    "fireworks": "accounts/fireworks/models/llama-v3p3-70b-instruct",
    "llamacpp": "local-gguf",
    "lmstudio": "qwen3-8b",
    "mistral": "mistral-large-latest",
    "ollama_openai": "llama3.2",
    "openai_compatible": "local-model",
    "openrouter": "openai/gpt-4.1-mini",
    "together": "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    "vllm": "Qwen/Qwen3-8B",
    "xai": "grok-4",
}
"""Realistic model names of the OpenAI-compatible presets (the emulator answers ``grok-*``
models with xAI's usage counting)."""

WEATHER = Tool(
    name="get_weather",
    description="Current weather for a city.",
    parameters={
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
        "required": ["city"],
    },
)
TIME = Tool(
    name="get_time",
    parameters={"type": "object", "properties": {"timezone": {"type": "string"}}},
)
REFRESH = Tool(name="refresh", description="Refresh the list.")
TOOLS = [WEATHER, TIME, REFRESH]


# --- the adapters ----------------------------------------------------------------------------


def names() -> list[str]:
    """Every registered provider."""
    return default_registry.names()


@cache
def adapter(name: str) -> Adapter:
    return default_registry.create(name)


@cache
def wire_of(name: str) -> str:
    """The wire format the adapter speaks, read from the request it builds."""
    if name == "groq":
        return "groq"  # OpenAI-compatible, answered with Groq's own extensions
    built = adapter(name).build_request(
        Request(messages=[Message.user("x")], model="m"), stream=False
    )
    if adapter(name).spec.framing == "ndjson":
        return "ollama"
    if built.path.endswith("/messages"):
        return "anthropic"
    if ":generateContent" in built.path:
        return "gemini"
    return "openai"


def model_for(name: str) -> str:
    return PROVIDER_MODELS.get(name) or MODELS[wire_of(name)]


def request_for(name: str, **fields: Any) -> Request:
    """A small request for provider ``name``: one user message, the scenario tools."""
    fields.setdefault("messages", [Message.user("What is the weather in Paris?")])
    fields.setdefault("tools", TOOLS)
    return Request(model=model_for(name), **fields)


# --- canonical scenarios -----------------------------------------------------------------------

USAGE = {"prompt_tokens": 11, "completion_tokens": 7}


@dataclass(frozen=True)
class Expect:
    text: str
    reasoning: str | None
    calls: tuple[tuple[str, str, dict[str, Any]], ...]
    finish: FinishReason
    usage: tuple[int, int, int] = (11, 7, 18)


@dataclass(frozen=True)
class Scenario:
    name: str
    label: str
    reply: Reply
    expect: Expect


_PARIS = {"city": "Paris", "unit": "celsius"}
_TOKYO = {"timezone": "Asia/Tokyo"}
SCENARIOS = {
    s.name: s
    for s in (
        Scenario(
            "text",
            "text",
            Reply.text("Hello from the contract suite.", usage=USAGE, chunk_size=7),
            Expect("Hello from the contract suite.", None, (), FinishReason.STOP),
        ),
        Scenario(
            "reasoning",
            "reasoning",
            Reply.text("The answer is 4.", reasoning="Two plus two makes four.", usage=USAGE),
            Expect("The answer is 4.", "Two plus two makes four.", (), FinishReason.STOP),
        ),
        Scenario(
            "tool_call",
            "tool call",
            Reply.tool_calls(
                [{"id": "call_w1", "name": "get_weather", "arguments": _PARIS}], usage=USAGE
            ),
            Expect("", None, (("call_w1", "get_weather", _PARIS),), FinishReason.TOOL_CALLS),
        ),
        Scenario(
            "parallel_calls",
            "parallel calls",
            Reply.tool_calls(
                [
                    {"id": "call_w1", "name": "get_weather", "arguments": _PARIS},
                    {"id": "call_t2", "name": "get_time", "arguments": _TOKYO},
                ],
                text="Checking both.",
                usage=USAGE,
                fragmented=True,
                fragment_size=6,
            ),
            Expect(
                "Checking both.",
                None,
                (("call_w1", "get_weather", _PARIS), ("call_t2", "get_time", _TOKYO)),
                FinishReason.TOOL_CALLS,
            ),
        ),
        Scenario(
            "no_arguments",
            "call without arguments",
            Reply.tool_calls([{"id": "call_r1", "name": "refresh", "arguments": {}}], usage=USAGE),
            Expect("", None, (("call_r1", "refresh", {}),), FinishReason.TOOL_CALLS),
        ),
        Scenario(
            "length",
            "finish: length",
            Reply.text("The list begins with", finish_reason="length", usage=USAGE),
            Expect("The list begins with", None, (), FinishReason.LENGTH),
        ),
    )
}


@dataclass(frozen=True)
class Failure:
    name: str
    reply: Reply
    error: type[ProviderError]
    status: int
    retry_after: float | None = None
    text: str | None = None


_HTML = "<html><head><title>503 Service Unavailable</title></head><body>down</body></html>"
FAILURES = {
    f.name: f
    for f in (
        Failure(
            "http_400",
            Reply.error(400, message="Invalid value for 'temperature'."),
            InvalidRequestError,
            400,
            text="temperature",
        ),
        Failure("http_401", Reply.error(401), AuthenticationError, 401),
        Failure("http_404", Reply.error(404), InvalidRequestError, 404),
        Failure(
            "http_429",
            Reply.error(429, headers={"retry-after": "7"}),
            RateLimitError,
            429,
            retry_after=7.0,
        ),
        Failure("http_500", Reply.error(500), ServerError, 500),
        Failure(
            "http_503_html",
            Reply.error(503, body=_HTML),
            ServerError,
            503,
            text="503 Service Unavailable",
        ),
    )
}
MIDSTREAM = Reply.stream_error(
    after_events=4,
    message="The model is overloaded.",
    code=None,
    type="server_error",
    status_code=503,
    text="Partial answer.",
)
"""An error event after part of the answer: a ServerError keeping the partial text."""


# --- running a scenario through an adapter -----------------------------------------------------


def render_for(name: str, request: Request, reply: Reply, *, stream: bool) -> WireResponse:
    """The emulator's answer, in ``name``'s wire, to the request the adapter builds."""
    built = adapter(name).build_request(request, stream=stream)
    return render_wire(
        wire_of(name),
        reply,
        path=base_path_for(name) + built.path,
        body=built.body,
        query=urlencode(dict(built.params)),
        headers={**adapter(name).spec.default_headers, **built.headers},
    )


def exchange(
    name: str, request: Request, reply: Reply, *, stream: bool, all_ways: bool = False
) -> tuple[Response, list[Event]]:
    """Render, then decode as the client would: the Response, and the events of a stream.

    Error statuses raise the adapter's error; ``all_ways`` decodes streams in every chunking
    (and checks they agree)."""
    a = adapter(name)
    wire = render_for(name, request, reply, stream=stream)
    if wire.status >= 300:
        raise a.parse_error(HttpResponse(wire.status, wire.headers, wire.body))
    if not wire.streamed:
        return a.parse_response(HttpResponse(wire.status, wire.headers, wire.body), request), []
    events = decode_all_ways(a, request, wire.body) if all_ways else decode(a, request, [wire.body])
    return llmx.accumulate(events), events


def decode_until_error(
    name: str, request: Request, reply: Reply
) -> tuple[Response, LLMXError | None]:
    """Decode a stream as far as it goes: what accumulated, and the error that stopped it."""
    a = adapter(name)
    body = render_for(name, request, reply, stream=True).body
    if a.spec.framing == "ndjson":
        lines = NDJSONDecoder()
        frames = [ServerSentEvent(data=line) for line in [*lines.feed(body), *lines.close()]]
    else:
        sse = SSEDecoder()
        frames = [*sse.feed(body), *sse.close()]
    decoder, accumulator = a.stream_decoder(request), llmx.Accumulator()
    try:
        for frame in frames:
            for event in decoder.feed(frame):
                accumulator.add(event)
        for event in decoder.close():
            accumulator.add(event)
    except LLMXError as error:
        return accumulator.response(), error
    return accumulator.response(), None


def event_problems(events: list[Event]) -> list[str]:
    """Structural faults of a stream: one start and one finish, parts opened before use."""
    problems = []
    if not events or events[0].type is not EventType.RESPONSE_START:
        problems.append("the first event is not response-start")
    if not events or events[-1].type is not EventType.FINISH:
        problems.append("the last event is not finish")
    starts = sum(e.type is EventType.RESPONSE_START for e in events)
    finishes = sum(e.type is EventType.FINISH for e in events)
    if starts != 1 or finishes != 1:
        problems.append(f"{starts} response-start and {finishes} finish events")
    open_parts: dict[int, str] = {}
    seen: set[int] = set()
    for event in events:
        kind, _, phase = str(event.type).rpartition("-")
        if kind not in ("text", "reasoning", "tool-call"):
            continue
        index = getattr(event, "index", -1)
        if phase == "start":
            if index in seen:
                problems.append(f"part {index} started twice")
            seen.add(index)
            open_parts[index] = kind
        elif open_parts.get(index) != kind:
            problems.append(f"{event.type} for part {index}, which is not an open {kind} part")
        elif phase == "end":
            del open_parts[index]
    if open_parts:
        problems.append(f"parts never ended: {sorted(open_parts)}")
    return problems


def mismatches(response: Response, expect: Expect, *, ids: bool = True) -> list[str]:
    """How ``response`` differs from the canonical expectation (empty: it matches)."""
    out = []
    if response.text != expect.text:
        out.append(f"text {response.text!r} != {expect.text!r}")
    if (response.reasoning or None) != expect.reasoning:
        out.append(f"reasoning {response.reasoning!r} != {expect.reasoning!r}")
    calls = [(c.id if ids else "", c.name, c.arguments) for c in response.tool_calls]
    wanted = [(call_id if ids else "", name, args) for call_id, name, args in expect.calls]
    if calls != wanted:
        out.append(f"tool calls {calls} != {wanted}")
    if response.finish_reason is not expect.finish:
        out.append(f"finish {response.finish_reason} != {expect.finish}")
    usage = response.usage
    got = (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) if usage else None
    if got != expect.usage:
        out.append(f"usage {got} != {expect.usage}")
    return out

"""OpenAI-compatible presets: resolution, keys, each server's transcripts, and the quirks."""

from __future__ import annotations

import json
import re
from importlib.metadata import entry_points
from typing import Any

import pytest
from support import decode_all_ways, fixture_bytes, same_content

import llmx
from llmx import (
    Event,
    EventType,
    FinishReason,
    Message,
    ReasoningOptions,
    Request,
    ToolCall,
    accumulate,
)
from llmx._sse import SSEDecoder
from llmx.adapter import HttpResponse
from llmx.providers import openai_compatible
from llmx.providers.openai_compatible import (
    PRESETS,
    OpenAICompatibleAdapter,
    mistral_tool_call_id,
    preset,
)

REQUEST = Request(model="m", messages=[Message.user("hi")])

# name -> (default base URL, key variable, key required); written out here, not read from PRESETS
TABLE = {
    "deepseek": ("https://api.deepseek.com", "DEEPSEEK_API_KEY", True),
    "openrouter": ("https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", True),
    "together": ("https://api.together.xyz/v1", "TOGETHER_API_KEY", True),
    "fireworks": ("https://api.fireworks.ai/inference/v1", "FIREWORKS_API_KEY", True),
    "mistral": ("https://api.mistral.ai/v1", "MISTRAL_API_KEY", True),
    "cerebras": ("https://api.cerebras.ai/v1", "CEREBRAS_API_KEY", True),
    "xai": ("https://api.x.ai/v1", "XAI_API_KEY", True),
    "ollama_openai": ("http://localhost:11434/v1", "OLLAMA_API_KEY", False),
    "vllm": ("http://localhost:8000/v1", "VLLM_API_KEY", False),
    "llamacpp": ("http://127.0.0.1:8080/v1", "LLAMA_API_KEY", False),
    "lmstudio": ("http://localhost:1234/v1", "LM_API_TOKEN", False),
}
HOSTED = [name for name, row in TABLE.items() if row[2]]
LOCAL = [name for name, row in TABLE.items() if not row[2]]


def fixture(name: str) -> bytes:
    return fixture_bytes("openai", "presets", name)


def body_of(name: str, request: Request, *, stream: bool = False) -> dict[str, Any]:
    body = preset(name).build_request(request, stream=stream).body
    assert body is not None
    return body


def decode_until_error(
    adapter: OpenAICompatibleAdapter, data: bytes
) -> tuple[list[Event], Exception]:
    decoder = adapter.stream_decoder(REQUEST)
    events: list[Event] = []
    try:
        for frame in SSEDecoder().feed(data):
            events += decoder.feed(frame)
        events += decoder.close()
    except llmx.LLMXError as exc:
        return events, exc
    raise AssertionError("the transcript decoded without an error")


# -- the table, the registry and the keys ---------------------------------------------------


def test_the_table_lists_every_preset() -> None:
    assert sorted(PRESETS) == sorted(TABLE)


@pytest.mark.parametrize("name", list(TABLE), ids=list(TABLE))
def test_preset_resolves_through_the_client(name: str) -> None:
    base_url, key_env, key_required = TABLE[name]
    client = llmx.Client(name, model="m", api_key="k")
    assert f"provider={name!r}" in repr(client) and f"base_url={base_url!r}" in repr(client)
    spec = client._core.adapter.spec
    assert (spec.name, spec.api_key_env, spec.key_required) == (name, key_env, key_required)
    assert spec.base_url_env == f"{name.upper()}_BASE_URL"


@pytest.mark.parametrize("name", list(TABLE), ids=list(TABLE))
def test_preset_is_an_entry_point_of_its_factory(name: str) -> None:
    (entry,) = [e for e in entry_points(group="llmx.providers") if e.name == name]
    assert entry.value == f"llmx.providers.openai_compatible:{name}"
    factory = getattr(openai_compatible, name)
    assert entry.load() is factory
    assert factory().config is PRESETS[name]


@pytest.mark.parametrize("name", HOSTED, ids=HOSTED)
def test_missing_key_names_the_variable(name: str) -> None:
    with pytest.raises(llmx.MissingAPIKeyError) as info:
        llmx.Client(name, model="m")
    assert info.value.env_var == TABLE[name][1]
    assert TABLE[name][1] in str(info.value)


@pytest.mark.parametrize("name", HOSTED, ids=HOSTED)
def test_key_is_read_from_the_variable(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TABLE[name][1], "from-env")
    client = llmx.Client(name, model="m")
    assert client._core._headers["authorization"] == "Bearer from-env"


@pytest.mark.parametrize("name", LOCAL, ids=LOCAL)
def test_local_servers_need_no_key(name: str) -> None:
    client = llmx.Client(name, model="m")
    assert "authorization" not in client._core._headers


@pytest.mark.parametrize("name", list(TABLE), ids=list(TABLE))
def test_base_url_variable_moves_the_endpoint(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"{name.upper()}_BASE_URL", "http://10.0.0.5:9000/v1")
    client = llmx.Client(name, model="m", api_key="k")
    assert "base_url='http://10.0.0.5:9000/v1'" in repr(client)


def test_from_model_string() -> None:
    client = llmx.Client.from_model("deepseek:deepseek-reasoner", api_key="k")
    assert (client.provider, client.model) == ("deepseek", "deepseek-reasoner")


def test_unknown_preset() -> None:
    with pytest.raises(llmx.ConfigurationError, match="known: cerebras"):
        preset("nope")


# -- each server's transcript through its preset ----------------------------------------------

TRANSCRIPTS: dict[str, tuple[str, dict[str, Any]]] = {
    "deepseek_reasoning_stream.sse": (
        "deepseek",
        {
            "text": "There are 3.",
            "reasoning": "We need to count the r's.",
            "reason": "stop",
            "usage": (18, 219, 237),
            "cached": 0,
            "calls": [],
        },
    ),
    "deepseek_tool_stream.sse": (
        "deepseek",
        {
            "text": "",
            "reasoning": "Call the weather tool.",
            "reason": "tool_calls",
            "usage": (339, 83, 422),
            "cached": 320,
            "calls": [("call_00_ExampleDsTool0001", "weather", {"location": "San Francisco"})],
        },
    ),
    "groq_tool_stream.sse": (
        "openai_compatible",
        {
            "text": "",
            "reasoning": None,
            "reason": "tool_calls",
            "usage": (210, 15, 225),
            "cached": None,
            "calls": [("tk85n1k4m", "weather", {"location": "Paris"})],
        },
    ),
    "llamacpp_reasoning_stream.sse": (
        "llamacpp",
        {
            "text": "Hi!",
            "reasoning": "Thinking briefly.",
            "reason": "stop",
            "usage": (17, 6, 23),
            "cached": None,
            "calls": [],
        },
    ),
    "mistral_thinking_stream.sse": (
        "mistral",
        {
            "text": "2 + 2 = 4",
            "reasoning": "The user is asking for 2+2. That is 4.",
            "reason": "stop",
            "usage": (10, 46, 56),
            "cached": None,
            "calls": [],
        },
    ),
    "mistral_tool_stream.sse": (
        "mistral",
        {
            "text": "",
            "reasoning": None,
            "reason": "tool_calls",
            "usage": (124, 22, 146),
            "cached": None,
            "calls": [("gSIMJiOkT", "weather", {"location": "San Francisco"})],
        },
    ),
    "ollama_v1_tool_stream.sse": (
        "ollama_openai",
        {
            "text": "",
            "reasoning": "User wants weather; call get_weather.",
            "reason": "tool_calls",
            "usage": (172, 41, 213),
            "cached": None,
            "calls": [("call_k3x9q2ab", "get_weather", {"city": "Paris"})],
        },
    ),
    "openrouter_reasoning_stream.sse": (
        "openrouter",
        {
            "text": "2 + 2 = 4.",
            "reasoning": "Check the math.",
            "reason": "stop",
            "usage": (14, 60, 74),
            "cached": 0,
            "calls": [],
        },
    ),
    "vllm_reasoning_stream.sse": (
        "vllm",
        {
            "text": "4.",
            "reasoning": "Simple arithmetic. 2+2=4.",
            "reason": "stop",
            "usage": (14, 26, 40),
            "cached": None,
            "calls": [],
        },
    ),
    "xai_tool_stream.sse": (
        "xai",
        # completion_tokens 26 excludes the 196 reasoning tokens on xAI: llmx reports 222
        {
            "text": "",
            "reasoning": "First, the user wants weather.",
            "reason": "tool_calls",
            "usage": (291, 222, 513),
            "cached": 290,
            "calls": [("call_55117580", "weather", {"location": "San Francisco"})],
        },
    ),
}


def adapter_for(name: str) -> OpenAICompatibleAdapter:
    if name == "openai_compatible":
        return openai_compatible.create_adapter()
    return preset(name)


@pytest.mark.parametrize(
    "transcript", list(TRANSCRIPTS), ids=[t.split(".")[0] for t in TRANSCRIPTS]
)
def test_transcript_decodes_through_its_preset(transcript: str) -> None:
    name, expected = TRANSCRIPTS[transcript]
    events = decode_all_ways(adapter_for(name), REQUEST, fixture(transcript))
    assert events[0].type is EventType.RESPONSE_START and events[-1].type is EventType.FINISH
    assert sum(e.type is EventType.USAGE for e in events) == 1
    response = accumulate(events)
    assert response.provider == name
    assert response.text == expected["text"]
    assert response.reasoning == expected["reasoning"]
    assert response.finish_reason == FinishReason(expected["reason"])
    assert response.usage is not None
    usage = response.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == expected["usage"]
    assert usage.cached_tokens == expected["cached"]
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == expected["calls"]


PAIRS = [
    ("mistral", "mistral_thinking_stream.sse", "mistral_thinking_response.json"),
    ("xai", "xai_tool_stream.sse", "xai_tool_response.json"),
    ("deepseek", "deepseek_tool_stream.sse", "deepseek_tool_response.json"),
]


@pytest.mark.parametrize(("name", "stream", "whole"), PAIRS, ids=[p[0] for p in PAIRS])
def test_streamed_and_whole_responses_agree(name: str, stream: str, whole: str) -> None:
    adapter = preset(name)
    streamed = accumulate(decode_all_ways(adapter, REQUEST, fixture(stream)))
    response = adapter.parse_response(HttpResponse(200, {}, fixture(whole)), REQUEST)
    same_content(streamed, response)


# -- errors ---------------------------------------------------------------------------------------


def test_openrouter_midstream_error_keeps_the_partial_text() -> None:
    data = fixture("openrouter_midstream_error.sse")
    assert data.startswith(b": OPENROUTER PROCESSING")
    events, error = decode_until_error(preset("openrouter"), data)
    assert isinstance(error, llmx.ServerError) and error.provider == "openrouter"
    assert "Provider disconnected" in str(error)
    assert "".join(e.delta for e in events if e.type is EventType.TEXT_DELTA) == "Once upon"  # type: ignore[union-attr]


def test_llamacpp_legacy_error_line_is_a_typed_error() -> None:
    # llama.cpp (2025) sends a non-standard "error: {...}" SSE field; the SSE decoder reads it
    # as an error event, so the context overflow surfaces as ContextLengthError, not success
    events, error = decode_until_error(
        preset("llamacpp"), fixture("llamacpp_legacy_midstream_error.sse")
    )
    assert isinstance(error, llmx.ContextLengthError)
    assert "exceeds the available context size" in str(error)
    assert not [e for e in events if e.type is EventType.FINISH]


@pytest.mark.parametrize(
    "body", ["vllm_error_body_legacy.json", "vllm_error_body_new.json"], ids=["legacy", "new"]
)
def test_vllm_error_bodies(body: str) -> None:
    error = preset("vllm").parse_error(HttpResponse(400, {}, fixture(body)))
    assert isinstance(error, llmx.ContextLengthError)
    assert error.provider == "vllm" and error.code == "400"
    assert "maximum context length is 32768" in str(error)


# -- quirks ---------------------------------------------------------------------------------------

CALL = ToolCall.from_raw("call_abc_123", "weather", '{"city": "Paris"}')
TOOL_TURN = [
    Message.user("Weather in Paris?"),
    Message.assistant(tool_calls=[CALL], reasoning="I should call the tool."),
    Message.tool(CALL.id, "18C"),
    Message.assistant("It is 18C.", reasoning="Now answer."),
]
PLAIN_TURN = [Message.user("Hi"), Message.assistant("Hello!", reasoning="Greet back.")]


def test_deepseek_sends_reasoning_back_only_in_tool_turns() -> None:
    request = REQUEST.model_copy(
        update={"messages": [*PLAIN_TURN, *TOOL_TURN, Message.user("Thanks")]}
    )
    sent = [m.get("reasoning_content") for m in body_of("deepseek", request)["messages"]]
    assert sent == [None, None, None, "I should call the tool.", None, "Now answer.", None]


def test_reasoning_is_never_sent_back_by_default() -> None:
    request = REQUEST.model_copy(update={"messages": [*TOOL_TURN]})
    for name in ("openai_compatible", "vllm", "openrouter"):
        body = adapter_for(name).build_request(request, stream=False).body
        assert body is not None
        assert all("reasoning_content" not in m and "reasoning" not in m for m in body["messages"])


@pytest.mark.parametrize(
    ("raw", "preset_name", "reason"),
    [
        ("insufficient_system_resource", "deepseek", FinishReason.ERROR),
        ("model_length", "mistral", FinishReason.LENGTH),
        ("error", "openrouter", FinishReason.ERROR),
        ("eos", "together", FinishReason.STOP),
        ("model_length", "openai_compatible", FinishReason.OTHER),
    ],
    ids=[
        "deepseek-resources",
        "mistral-model_length",
        "openrouter-error",
        "together-eos",
        "generic",
    ],
)
def test_provider_finish_reasons(raw: str, preset_name: str, reason: FinishReason) -> None:
    chunk = {"id": "x", "choices": [{"index": 0, "delta": {"content": "a"}, "finish_reason": raw}]}
    data = b"data: " + json.dumps(chunk).encode() + b"\n\ndata: [DONE]\n\n"
    response = accumulate(decode_all_ways(adapter_for(preset_name), REQUEST, data))
    assert (response.finish_reason, response.raw_finish_reason) == (reason, raw)
    body = {"id": "x", "choices": [{"index": 0, "message": {"content": "a"}, "finish_reason": raw}]}
    whole = adapter_for(preset_name).parse_response(
        HttpResponse(200, {}, json.dumps(body).encode()), REQUEST
    )
    assert whole.finish_reason == reason


def test_mistral_request_body() -> None:
    request = REQUEST.model_copy(
        update={
            "seed": 7,
            "user": "u-1",
            "max_tokens": 100,
            "messages": [Message(role="user", content="hi", name="ann"), *TOOL_TURN],
        }
    )
    body = body_of("mistral", request, stream=True)
    assert body["random_seed"] == 7 and "seed" not in body
    assert "user" not in body and "stream_options" not in body
    assert body["max_tokens"] == 100
    assert "name" not in body["messages"][0]
    warnings = preset("mistral").warnings(request)
    assert warnings == ["mistral: user is not supported by this provider and was not sent"]


def test_mistral_tool_call_ids_are_rewritten_consistently() -> None:
    kept = ToolCall.from_raw("gSIMJiOkT", "weather", "{}")
    request = REQUEST.model_copy(
        update={
            "messages": [
                *TOOL_TURN,
                Message.assistant(tool_calls=[kept]),
                Message.tool(kept.id, "ok"),
            ]
        }
    )
    messages = body_of("mistral", request)["messages"]
    call_id = messages[1]["tool_calls"][0]["id"]
    assert re.fullmatch(r"[A-Za-z0-9]{9}", call_id)
    assert messages[2]["tool_call_id"] == call_id  # the result still answers the call
    assert messages[4]["tool_calls"][0]["id"] == "gSIMJiOkT" == messages[5]["tool_call_id"]
    # other presets send the ids as they are
    assert body_of("deepseek", request)["messages"][1]["tool_calls"][0]["id"] == "call_abc_123"


@pytest.mark.parametrize(
    "call_id", ["call_abc_123", "call_0", "toolu_01A09q90qw90lq917835lq9", "x", "ñandú-ñandú-1"]
)
def test_mistral_tool_call_id(call_id: str) -> None:
    mapped = mistral_tool_call_id(call_id)
    assert re.fullmatch(r"[A-Za-z0-9]{9}", mapped)
    assert mapped == mistral_tool_call_id(call_id) == mistral_tool_call_id(mapped)


def test_mistral_tool_call_ids_do_not_collide_for_parallel_calls() -> None:
    ids = {mistral_tool_call_id(f"call_{i}") for i in range(1000)}
    assert len(ids) == 1000


@pytest.mark.parametrize(
    ("reasoning", "expected"),
    [
        (ReasoningOptions(effort="high"), {"effort": "high"}),
        (ReasoningOptions(effort="low", include=False), {"effort": "low", "exclude": True}),
        (ReasoningOptions(budget_tokens=2000), {"max_tokens": 2000}),
        (ReasoningOptions(budget_tokens=2000, effort="high"), {"max_tokens": 2000}),
        (ReasoningOptions(effort="default"), None),
    ],
    ids=["effort", "exclude", "budget", "budget-wins", "default"],
)
def test_openrouter_reasoning_object(
    reasoning: ReasoningOptions, expected: dict[str, Any] | None
) -> None:
    body = body_of("openrouter", REQUEST.model_copy(update={"reasoning": reasoning}))
    assert body.get("reasoning") == expected
    assert "reasoning_effort" not in body


@pytest.mark.parametrize(
    ("name", "effort", "sent", "warned"),
    [
        ("deepseek", "high", "high", False),
        ("deepseek", "default", None, False),
        ("vllm", "default", None, False),
        ("openai_compatible", "default", "default", False),  # the generic adapter sends anything
    ],
    ids=["deepseek-high", "deepseek-default", "vllm-default", "generic-default"],
)
def test_reasoning_effort_values(name: str, effort: str, sent: str | None, warned: bool) -> None:
    request = REQUEST.model_copy(update={"reasoning": ReasoningOptions(effort=effort)})  # type: ignore[arg-type]
    adapter = adapter_for(name)
    body = adapter.build_request(request, stream=False).body
    assert body is not None and body.get("reasoning_effort") == sent
    assert bool(adapter.warnings(request)) is warned


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("cerebras", "max_completion_tokens"),
        ("deepseek", "max_tokens"),
        ("ollama_openai", "max_tokens"),
    ],
    ids=["cerebras", "deepseek", "ollama"],
)
def test_max_tokens_field(name: str, field: str) -> None:
    body = body_of(name, REQUEST.model_copy(update={"max_tokens": 64}))
    assert body[field] == 64 and len({"max_tokens", "max_completion_tokens"} & set(body)) == 1


@pytest.mark.parametrize("name", [n for n in TABLE if n != "mistral"])
def test_include_usage_is_requested(name: str) -> None:
    assert body_of(name, REQUEST, stream=True)["stream_options"] == {"include_usage": True}


def test_cerebras_time_info_fills_the_timings() -> None:
    body = {
        "id": "x",
        "choices": [{"index": 0, "message": {"content": "hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
        "time_info": {
            "queue_time": 0.001,
            "prompt_time": 0.002,
            "completion_time": 0.01,
            "total_time": 0.02,
        },
    }
    usage = (
        preset("cerebras")
        .parse_response(HttpResponse(200, {}, json.dumps(body).encode()), REQUEST)
        .usage
    )
    assert usage is not None and (usage.queue_time, usage.total_time) == (0.001, 0.02)


def test_deepseek_cache_hit_tokens_without_details() -> None:
    body = {
        "id": "x",
        "choices": [{"index": 0, "message": {"content": "hi"}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": 50,
            "completion_tokens": 2,
            "total_tokens": 52,
            "prompt_cache_hit_tokens": 40,
        },
    }
    usage = (
        preset("deepseek")
        .parse_response(HttpResponse(200, {}, json.dumps(body).encode()), REQUEST)
        .usage
    )
    assert usage is not None and usage.cached_tokens == 40


def test_xai_usage_counts_reasoning_in_completion_tokens_only_on_xai() -> None:
    data = fixture("xai_tool_stream.sse")
    usage = accumulate(decode_all_ways(preset("together"), REQUEST, data)).usage
    assert usage is not None and usage.completion_tokens == 26  # the wire's value, elsewhere


def test_provider_options_are_merged_as_given() -> None:
    request = REQUEST.model_copy(update={"provider_options": {"mistral": {"safe_prompt": True}}})
    assert body_of("mistral", request)["safe_prompt"] is True
    assert "safe_prompt" not in body_of("deepseek", request)


def test_developer_messages_become_system_messages() -> None:
    request = REQUEST.model_copy(update={"messages": [Message(role="developer", content="terse")]})
    for name in TABLE:
        assert body_of(name, request)["messages"][0]["role"] == "system"


def test_llamacpp_preset_sends_empty_content_beside_tool_calls() -> None:
    call = llmx.ToolCall(id="c1", name="f", arguments={}, raw_arguments="{}")
    request = llmx.Request(
        model="m",
        messages=[
            llmx.Message.user("hi"),
            llmx.Message.assistant(tool_calls=[call]),
            llmx.Message.tool("c1", "ok"),
        ],
    )
    sent = preset("llamacpp").build_request(request, stream=False).body
    generic = preset("vllm").build_request(request, stream=False).body
    assert sent is not None and generic is not None
    assert sent["messages"][1]["content"] == ""  # llama-cpp-python's templates need the key
    assert "content" not in generic["messages"][1]  # OpenAI's form: left out

"""The emulator's Anthropic, Gemini, Ollama and OpenAI wires: routing, auth, listings, framing,
validation, the shared default responder and faults, over a real socket (plain httpx)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import llmx
from llmx.testing import Emulator, Reply
from llmx.testing._dialects import render_wire, validate_request
from llmx.testing._neutral import signature

ANTHROPIC = {"x-api-key": "gsk_test_emulator", "anthropic-version": "2023-06-01"}
GEMINI = {"x-goog-api-key": "gsk_test_emulator"}
BEARER = {"authorization": "Bearer gsk_test_emulator"}
WEATHER = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}


@pytest.fixture(scope="module")
def server() -> Iterator[Emulator]:
    with Emulator(models=["my-fine-tune"]) as emulator:
        yield emulator


@pytest.fixture
def emu(server: Emulator) -> Emulator:
    server.reset()
    return server


def post(emu: Emulator, path: str, body: Any, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(emu.url + path, json=body, headers=headers, timeout=10.0)


def messages_body(**extra: Any) -> dict[str, Any]:
    user = {"role": "user", "content": "Hello there"}
    return {"model": "claude-sonnet-4-5", "max_tokens": 100, "messages": [user], **extra}


def gemini_body(**extra: Any) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": "Hello there"}]}], **extra}


def chat_body(**extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4.1", "messages": [{"role": "user", "content": "Hello there"}], **extra}


def sse_events(text: str) -> list[tuple[str | None, Any]]:
    out: list[tuple[str | None, Any]] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "data" in fields:
            data = fields["data"]
            out.append((fields.get("event"), data if data == "[DONE]" else json.loads(data)))
    return out


def test_base_urls_per_provider(emu: Emulator) -> None:
    url = emu.url
    assert emu.base_url_for("groq") == emu.base_url == url + "/openai/v1"
    assert emu.base_url_for("anthropic") == emu.base_url_for("ollama") == url
    assert emu.base_url_for("gemini") == url + "/v1beta"
    for name in ("openai", "deepseek", "vllm", "openai_compatible", "someone_else"):
        assert emu.base_url_for(name) == url + "/v1"


def test_each_wire_checks_the_key_in_its_own_header(emu: Emulator) -> None:
    r = post(emu, "/v1/messages", messages_body(), {"anthropic-version": "2023-06-01"})
    assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
    r = post(emu, "/v1/messages", messages_body(), {**BEARER, "anthropic-version": "2023-06-01"})
    assert r.status_code == 401 and r.json()["error"]["message"] == "x-api-key header is required"
    path = "/v1beta/models/gemini-2.5-flash:generateContent"
    r = post(emu, path, gemini_body(), {"x-goog-api-key": "nope"})
    assert r.status_code == 400 and r.json()["error"]["details"][0]["reason"] == "API_KEY_INVALID"
    assert post(emu, path, gemini_body(), {}).status_code == 403
    assert post(emu, path + "?key=gsk_test_emulator", gemini_body(), {}).status_code == 200
    r = post(emu, "/v1/chat/completions", chat_body(), {"authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
    ollama = {"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}], "stream": False}
    assert post(emu, "/api/chat", ollama, {}).status_code == 200  # Ollama needs no key
    r = post(emu, "/api/chat", ollama, {"authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json() == {"error": "unauthorized"}
    assert len(emu.requests) == 8


def test_no_key_check_when_the_emulator_has_no_key() -> None:
    with Emulator(api_key=None) as open_emu:
        r = post(open_emu, "/v1/messages", messages_body(), {"anthropic-version": "2023-06-01"})
        assert r.status_code == 200 and r.json()["type"] == "message"


def test_model_listings_and_unknown_paths(emu: Emulator) -> None:
    def get(path: str, headers: dict[str, str]) -> httpx.Response:
        return httpx.get(emu.url + path, headers=headers, timeout=10.0)

    openai = get("/v1/models", BEARER).json()
    assert openai["object"] == "list" and "my-fine-tune" in [m["id"] for m in openai["data"]]
    anthropic = get("/v1/models", ANTHROPIC).json()
    assert anthropic["has_more"] is False and anthropic["data"][0]["type"] == "model"
    gemini = get("/v1beta/models", GEMINI).json()
    assert "models/gemini-2.5-flash" in [m["name"] for m in gemini["models"]]
    assert get("/v1beta/models/gemini-2.5-pro", GEMINI).json()["name"] == "models/gemini-2.5-pro"
    assert "my-fine-tune" in [m["name"] for m in get("/api/tags", {}).json()["models"]]
    assert get("/api/version", {}).json()["version"]
    assert get("/v1/nowhere", BEARER).status_code == 404
    assert get("/v1/models/nope", ANTHROPIC).json()["error"]["type"] == "not_found_error"
    assert get("/v1beta/nowhere", GEMINI).json()["error"]["status"] == "NOT_FOUND"
    assert get("/api/nowhere", {}).json() == {"error": "404 page not found"}


def test_anthropic_stream_has_every_event_in_order(emu: Emulator) -> None:
    call = {"name": "get_weather", "arguments": {"city": "Oslo"}}
    emu.script(Reply.tool_calls([call], text="Checking.", reasoning="Think first."))
    r = post(emu, "/v1/messages", messages_body(stream=True), ANTHROPIC)
    assert r.headers["content-type"].startswith("text/event-stream") and r.headers["request-id"]
    events = sse_events(r.text)
    assert all(name == data["type"] for name, data in events)
    kinds = [data["type"] for _, data in events]
    assert kinds[:2] == ["message_start", "ping"] and kinds[-2:] == [
        "message_delta",
        "message_stop",
    ]
    blocks = [d["content_block"]["type"] for _, d in events if d["type"] == "content_block_start"]
    assert blocks == ["thinking", "text", "tool_use"]
    signed = [d["delta"]["signature"] for _, d in events if d.get("delta", {}).get("signature")]
    assert signed == [signature("thinking", "Think first.")]
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"


def test_gemini_sse_and_json_array_streams(emu: Emulator) -> None:
    path = "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    emu.script(Reply.text("One two three"), Reply.text("One two three"))
    sse = post(emu, path + "?alt=sse", gemini_body(), GEMINI)
    chunks = [data for _, data in sse_events(sse.text)]
    assert (
        "".join(c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks)
        == "One two three"
    )
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    assert chunks[-1]["modelVersion"] == "gemini-2.5-flash"
    array = post(emu, path, gemini_body(), GEMINI)
    assert array.headers["content-type"].startswith("application/json")
    assert [c["candidates"][0]["content"] for c in array.json()] == [
        c["candidates"][0]["content"] for c in chunks
    ]


def test_ollama_streams_ndjson_unless_told_otherwise(emu: Emulator) -> None:
    body = {"model": "llama3.2", "messages": [{"role": "user", "content": "Hi"}]}
    r = post(emu, "/api/chat", body, {})
    assert r.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert lines[-1]["done"] is True and lines[-1]["eval_count"] > 0
    assert all(line["done"] is False for line in lines[:-1])
    whole = post(emu, "/api/chat", {**body, "stream": False}, {}).json()
    assert whole["message"]["content"] == "".join(line["message"]["content"] for line in lines)


def test_openai_usage_chunk_follows_include_usage(emu: Emulator) -> None:
    emu.script(Reply.text("Hi"), Reply.text("Hi"))
    body = chat_body(stream=True, stream_options={"include_usage": True})
    separate = sse_events(post(emu, "/v1/chat/completions", body, BEARER).text)
    assert separate[-1] == (None, "[DONE]")
    assert separate[-2][1]["choices"] == [] and separate[-2][1]["usage"]["total_tokens"] > 0
    inline = sse_events(post(emu, "/v1/chat/completions", chat_body(stream=True), BEARER).text)
    assert inline[-2][1]["choices"][0]["finish_reason"] == "stop" and inline[-2][1]["usage"]


@pytest.mark.parametrize(
    ("wire", "path", "body", "message"),
    [
        (
            "anthropic",
            "/v1/messages",
            messages_body(messages=[{"role": "system", "content": "x"}]),
            'Unexpected role "system"',
        ),
        (
            "anthropic",
            "/v1/messages",
            messages_body(
                messages=[
                    {"role": "user", "content": "hi"},
                    {
                        "role": "assistant",
                        "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}],
                    },
                    {"role": "user", "content": "and?"},
                ]
            ),
            "`tool_use` ids were found without `tool_result`",
        ),
        (
            "anthropic",
            "/v1/messages",
            messages_body(
                messages=[
                    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t9"}]}
                ]
            ),
            "unexpected `tool_use_id`",
        ),
        (
            "anthropic",
            "/v1/messages",
            messages_body(
                messages=[
                    {"role": "user", "content": "hi"},
                    {
                        "role": "assistant",
                        "content": [{"type": "thinking", "thinking": "x", "signature": "forged"}],
                    },
                    {"role": "user", "content": "more"},
                ]
            ),
            "Invalid `signature`",
        ),
        (
            "anthropic",
            "/v1/messages",
            messages_body(
                temperature=0.5,
                thinking={"type": "enabled", "budget_tokens": 1024},
                max_tokens=2048,
            ),
            "`temperature` may only",
        ),
        (
            "anthropic",
            "/v1/messages",
            messages_body(thinking={"type": "enabled", "budget_tokens": 1024}),
            "must be greater than `thinking.budget_tokens`",
        ),
        (
            "gemini",
            "/v1beta/models/gemini-2.5-flash:generateContent",
            gemini_body(
                contents=[
                    {"role": "user", "parts": [{"text": "hi"}]},
                    {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}]},
                    {"role": "user", "parts": [{"text": "no answer"}]},
                ]
            ),
            "function response turn",
        ),
        (
            "gemini",
            "/v1beta/models/gemini-2.5-flash:generateContent",
            gemini_body(
                contents=[
                    {"role": "user", "parts": [{"text": "hi"}]},
                    {
                        "role": "model",
                        "parts": [
                            {"functionCall": {"name": "f", "args": {}}},
                            {"functionCall": {"name": "g", "args": {}}},
                        ],
                    },
                    {
                        "role": "user",
                        "parts": [{"functionResponse": {"name": "f", "response": {}}}],
                    },
                ]
            ),
            "number of function response parts",
        ),
        (
            "gemini",
            "/v1beta/models/gemini-3-pro-preview:generateContent",
            gemini_body(
                contents=[
                    {"role": "user", "parts": [{"text": "hi"}]},
                    {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}]},
                    {
                        "role": "user",
                        "parts": [{"functionResponse": {"name": "f", "response": {}}}],
                    },
                ]
            ),
            "missing a thought_signature",
        ),
        (
            "gemini",
            "/v1beta/models/gemini-2.5-flash:generateContent",
            gemini_body(contents=[{"role": "assistant", "parts": [{"text": "x"}]}]),
            "valid role",
        ),
        (
            "openai",
            "/v1/chat/completions",
            chat_body(
                messages=[
                    {"role": "user", "content": "hi"},
                    {"role": "tool", "tool_call_id": "c1", "content": "1"},
                ]
            ),
            "must be a response to a preceeding message with 'tool_calls'",
        ),
        (
            "openai",
            "/v1/chat/completions",
            chat_body(
                messages=[
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "id": "c1",
                                "type": "function",
                                "function": {"name": "f", "arguments": "{}"},
                            }
                        ],
                    },
                    {"role": "user", "content": "hi"},
                ]
            ),
            "did not have response messages: c1",
        ),
        (
            "ollama",
            "/api/chat",
            {
                "model": "llama3.2",
                "messages": [
                    {
                        "role": "assistant",
                        "tool_calls": [{"function": {"name": "f", "arguments": "{}"}}],
                    }
                ],
            },
            "cannot unmarshal string",
        ),
        ("ollama", "/api/chat", {"messages": []}, "model is required"),
    ],
)
def test_validation_answers_like_the_api(
    emu: Emulator, wire: str, path: str, body: dict[str, Any], message: str
) -> None:
    headers = {"anthropic": ANTHROPIC, "gemini": GEMINI, "openai": BEARER, "ollama": {}}[wire]
    problem = validate_request(wire, path=path, body=body, headers=headers)
    assert problem is not None and message in problem
    r = post(emu, path, body, headers)
    assert r.status_code == 400 and message in " ".join(_strings(r.json()))
    assert emu.pending == 0


def _strings(doc: Any) -> list[str]:
    if isinstance(doc, dict):
        return [text for value in doc.values() for text in _strings(value)]
    if isinstance(doc, list):
        return [text for value in doc for text in _strings(value)]
    return [doc] if isinstance(doc, str) else []


def test_validation_can_be_turned_off() -> None:
    with Emulator(validate=False) as loose:
        body = messages_body(messages=[{"role": "system", "content": "x"}])
        assert post(loose, "/v1/messages", body, ANTHROPIC).status_code == 200


def _client(emu: Emulator, name: str, model: str) -> llmx.Client:
    return llmx.Client(name, api_key=emu.api_key, base_url=emu.base_url_for(name), model=model)


@pytest.mark.parametrize(
    ("name", "model", "reasoning"),
    [
        ("anthropic", "claude-sonnet-4-5", llmx.ReasoningOptions(effort="low")),
        ("gemini", "gemini-2.5-flash", llmx.ReasoningOptions(include=True)),
        ("ollama", "qwen3:8b", llmx.ReasoningOptions(effort="low")),
        ("openai", "o4-mini", llmx.ReasoningOptions(effort="low")),
    ],
)
def test_default_responder_speaks_every_wire(
    emu: Emulator, name: str, model: str, reasoning: llmx.ReasoningOptions
) -> None:
    tool = llmx.Tool(name="get_weather", parameters=WEATHER)
    with _client(emu, name, model) as client:
        assert client.simple_chat("Hello there").startswith(f"Hello from {model}")
        assert client.chat("Hello there").reasoning is None
        request = llmx.Request(messages=[llmx.Message.user("Weather in Oslo?")], tools=[tool])
        called = client.chat(request.model_copy(update={"reasoning": reasoning}))
        assert called.tool_calls[0].arguments == {"city": "Oslo"} and called.reasoning
        result = llmx.Message.tool(called.tool_calls[0].id, {"temp_c": -3})
        follow = [*request.messages, called.message, result]
        with client.stream(llmx.Request(messages=follow, tools=[tool])) as stream:
            assert "-3" in stream.response().text
        schema = llmx.JSONSchemaFormat(name="city", schema=WEATHER)
        answer = client.chat("Name a city", response_format=schema)
        assert set(json.loads(answer.text)) == {"city"}
    assert emu.pending == 0 and emu.errors == []


def test_switched_off_reasoning_is_not_sent(emu: Emulator) -> None:
    scripted = Reply.text("Yes.", reasoning="hidden thoughts")
    emu.script(scripted, scripted, scripted)
    off = llmx.ReasoningOptions(include=False)
    with _client(emu, "gemini", "gemini-2.5-flash") as gemini:
        assert gemini.chat("q?", reasoning=off).reasoning is None
    with _client(emu, "ollama", "qwen3:8b") as ollama:
        assert ollama.chat("q?", reasoning=llmx.ReasoningOptions(effort="none")).reasoning is None
    with _client(emu, "openrouter", "x/y") as openrouter:
        assert openrouter.chat("q?", reasoning=off).reasoning is None
    assert emu.pending == 0


def test_faults_handlers_and_the_shared_script(emu: Emulator) -> None:
    seen: list[str] = []

    def handler(request: Any) -> Reply:
        seen.append(request.path)
        return Reply.text("from the handler")

    emu.script(
        Reply.error(429, headers={"retry-after": "3"}),
        Reply.handler(handler),
        Reply.text("Partial answer that never ends", chunk_size=4, disconnect_after=3),
        Reply.default(headers={"x-extra": "1"}),
    )
    with _client(emu, "anthropic", "claude-sonnet-4-5") as client:
        with pytest.raises(llmx.RateLimitError) as info:
            client.chat("hi", max_retries=0)
        assert info.value.retry_after == 3.0
        assert client.chat("hi").text == "from the handler"
    with _client(emu, "ollama", "llama3.2") as ollama, pytest.raises(llmx.LLMXError) as cut:
        with ollama.stream("hi", max_retries=0) as stream:
            list(stream)
    assert cut.value.partial is not None and cut.value.partial.text == "Partial answ"
    r = post(emu, "/v1beta/models/gemini-2.5-flash:generateContent", gemini_body(), GEMINI)
    assert r.headers["x-extra"] == "1" and "Hello from gemini-2.5-flash" in r.text
    assert seen == ["/v1/messages"] and emu.pending == 0


def test_render_wire_is_deterministic_and_offline() -> None:
    reply = Reply.tool_calls([{"name": "f", "arguments": {"a": 1}}], reasoning="r")
    paths = {
        "anthropic": "/v1/messages",
        "ollama": "/api/chat",
        "gemini": "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
        "openai": "/v1/chat/completions",
        "groq": "/openai/v1/chat/completions",
    }
    for wire, path in paths.items():
        body = {"model": "m", "stream": True, "messages": []}
        first = render_wire(wire, reply, path=path, body=body, query="alt=sse")
        assert first == render_wire(wire, reply, path=path, body=body, query="alt=sse")
        assert first.status == 200 and first.streamed and "date" not in first.headers
        assert b'"f"' in first.body and b"a" in first.body


def test_grok_models_count_usage_the_xai_way(emu: Emulator) -> None:
    emu.script(Reply.text("4", reasoning="two and two", usage={"completion_tokens": 9}))
    body = post(emu, "/v1/chat/completions", chat_body(model="grok-4"), BEARER).json()
    usage = body["usage"]
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 3
    assert (usage["completion_tokens"], usage["total_tokens"]) == (6, usage["prompt_tokens"] + 9)

"""The Groq client end to end over a real loopback socket, sync and async, via llmx.testing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support import FIXTURES, same_content

import llmx
from llmx import EventType, FinishReason
from llmx.testing import Emulator, Reply

GROQ = FIXTURES / "groq"
PAIRS = sorted(p.stem for p in GROQ.glob("pair_*.sse"))
WEATHER = llmx.Tool(
    name="get_weather",
    description="获取指定城市的天气信息",
    parameters={
        "type": "object",
        "properties": {"city": {"type": "string", "description": "城市名称"}},
        "required": ["city"],
    },
)


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def emulator(emu: Emulator) -> Emulator:
    emu.reset()
    return emu


def client(emu: Emulator, **kwargs: object) -> llmx.Client:
    return llmx.Client(
        "groq",
        api_key=emu.api_key,
        base_url=emu.base_url,
        model="llama-3.3-70b-versatile",
        **kwargs,  # type: ignore[arg-type]
    )


def async_client(emu: Emulator, **kwargs: object) -> llmx.AsyncClient:
    return llmx.AsyncClient(
        "groq",
        api_key=emu.api_key,
        base_url=emu.base_url,
        model="llama-3.3-70b-versatile",
        **kwargs,  # type: ignore[arg-type]
    )


def _request() -> llmx.Request:
    return llmx.Request(messages=[llmx.Message.user("hi")], model="openai/gpt-oss-120b")


@pytest.mark.parametrize("pair", PAIRS)
def test_stream_accumulates_to_what_chat_returns_sync(emulator: Emulator, pair: str) -> None:
    emulator.script(Reply.json_file(GROQ / f"{pair}.json"), Reply.sse_file(GROQ / f"{pair}.sse"))
    with client(emulator) as c:
        whole = c.chat(_request())
        with c.stream(_request()) as stream:
            events = list(stream)
            streamed = stream.response()
    same_content(whole, streamed)
    assert events[0].type is EventType.RESPONSE_START and events[-1].type is EventType.FINISH
    assert llmx.accumulate(events).text == streamed.text
    assert whole.request_id and streamed.request_id
    assert whole.rate_limit is not None and streamed.rate_limit is not None


@pytest.mark.anyio
@pytest.mark.parametrize("pair", PAIRS)
async def test_stream_accumulates_to_what_chat_returns_async(emulator: Emulator, pair: str) -> None:
    emulator.script(Reply.json_file(GROQ / f"{pair}.json"), Reply.sse_file(GROQ / f"{pair}.sse"))
    async with async_client(emulator) as c:
        whole = await c.chat(_request())
        async with c.stream(_request()) as stream:
            events = [event async for event in stream]
            streamed = await stream.response()
    same_content(whole, streamed)
    assert events[0].type is EventType.RESPONSE_START and events[-1].type is EventType.FINISH
    assert sum(e.type is EventType.FINISH for e in events) == 1


def test_seed_examples_against_the_default_responder(emulator: Emulator) -> None:
    c = client(emulator, defaults={"temperature": 0.7, "max_tokens": 1024})
    answer = c.simple_chat("你好，介绍一下 Groq")
    assert isinstance(answer, str) and answer
    body = emulator.chat_requests[-1].json
    assert body is not None
    assert body["temperature"] == 0.7 and body["max_completion_tokens"] == 1024
    assert body["messages"] == [{"role": "user", "content": "你好，介绍一下 Groq"}]
    deltas = [
        event.delta
        for event in c.simple_stream_chat("用 Go 写一个 HTTP 服务器")
        if event.type == EventType.TEXT_DELTA
    ]
    assert "".join(deltas)
    request = (
        llmx.RequestBuilder()
        .model("llama-3.3-70b-versatile")
        .add_user_message("北京今天天气怎么样？")
        .add_tool(WEATHER)
        .build()
    )
    response = c.chat(request)
    assert response.finish_reason is FinishReason.TOOL_CALLS
    call = response.tool_calls[0]
    assert call.name == "get_weather" and call.arguments == {"city": "北京"}
    follow_up = llmx.Request(
        messages=[*request.messages, response.message,
                  llmx.Message.tool(call.id, {"temperature": "25°C"})],
        tools=[WEATHER],
    )  # fmt: skip
    final = c.chat(follow_up)
    assert "25°C" in final.text
    sent = emulator.chat_requests[-1].json
    assert sent is not None and sent["messages"][-1] == {
        "role": "tool", "tool_call_id": call.id, "content": '{"temperature": "25°C"}'
    }  # fmt: skip
    c.close()


@pytest.mark.anyio
async def test_async_seed_flow(emulator: Emulator) -> None:
    async with async_client(emulator) as c:
        assert await c.simple_chat("你好")
        text = [d async for d in c.simple_stream_chat("写一首诗").text_stream()]
        assert "".join(text)
        models = await c.list_models()
    assert any(m.id == "llama-3.3-70b-versatile" and m.context_window for m in models)


def test_per_request_overrides_and_model_default(emulator: Emulator) -> None:
    with client(emulator, defaults={"temperature": 0.7}) as c:
        c.chat("hi", model="llama-3.1-8b-instant", temperature=0.1, max_tokens=5)
        body = emulator.chat_requests[-1].json
        assert body is not None
        assert (body["model"], body["temperature"], body["max_completion_tokens"]) == (
            "llama-3.1-8b-instant", 0.1, 5
        )  # fmt: skip
        with pytest.raises(llmx.InvalidInputError, match="temprature"):
            c.chat("hi", temprature=1)
    assert len(emulator.chat_requests) == 1


def test_errors_are_typed_and_carry_details(emulator: Emulator) -> None:
    emulator.script(Reply.error(404, code="model_not_found"))
    with client(emulator, max_retries=0) as c:
        with pytest.raises(llmx.InvalidRequestError) as info:
            c.chat("hi")
    error = info.value
    assert error.status_code == 404 and error.code == "model_not_found"
    assert error.provider == "groq" and error.request_id and error.attempts == 1


def test_rate_limit_is_retried_after_retry_after(emulator: Emulator) -> None:
    emulator.script(Reply.error(429, headers={"retry-after": "0.2"}), Reply.text("ok"))
    with client(emulator) as c:
        response = c.chat("hi")
    assert response.text == "ok"
    first, second = emulator.chat_requests
    assert second.received_at - first.received_at >= 0.2


def test_mid_stream_tool_use_failed_keeps_partial(emulator: Emulator) -> None:
    emulator.script(Reply.sse_file(GROQ / "stream_error_tool_choice_required.sse"))
    with client(emulator) as c, pytest.raises(llmx.InvalidRequestError) as info:
        with c.stream("hi") as stream:
            for _ in stream:
                pass
    assert info.value.partial is not None
    assert info.value.partial.finish_reason is FinishReason.ERROR


def test_list_models_has_context_windows(emulator: Emulator) -> None:
    with client(emulator) as c:
        models = {m.id: m for m in c.list_models()}
    assert models["llama-3.3-70b-versatile"].context_window == 131072


def test_sync_client_works_inside_a_running_event_loop(emulator: Emulator) -> None:
    import anyio

    async def main() -> str:
        with client(emulator) as c:  # a sync client called from async code (e.g. Jupyter)
            return c.simple_chat("hi")

    assert anyio.run(main)

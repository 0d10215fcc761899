"""Each server's quirks, seen through llmx: what a user gets, and that it is handled.

The wire behaviour behind each test is pinned in test_servers_smoke.py. Nothing
here is special-cased in llmx: the generic OpenAI-compatible code and the
`llamacpp` preset (one configuration row) must cope as they are. Where a server
cannot do something, the test records what llmx reports instead.
"""

from __future__ import annotations

import json
import time

import pytest
from test_llmx_checks import (
    LCP,
    LS,
    MESSAGES,
    OVERFLOW,
    PROVIDERS,
    REQUEST,
    TOOL_MAX_TOKENS,
    WEATHER,
    Target,
    check_response,
    check_tool_calls,
    make_target,
    schema_errors,
    target_id,
)

import llmx
from llmx import FinishReason

# quick retries: the point is that a retry happens, not how long it waits
FAST_RETRIES = llmx.RetryPolicy(initial_backoff=0.02, max_backoff=0.05)


# ids name the server, so -k "not llama_server" deselects every test that needs it
@pytest.fixture(params=[(LCP, provider) for provider in PROVIDERS], ids=target_id)
def lcp(request: pytest.FixtureRequest) -> Target:
    return make_target(request, *request.param, key=False)


@pytest.fixture(params=[(LS, provider) for provider in PROVIDERS], ids=target_id)
def ls(request: pytest.FixtureRequest) -> Target:
    return make_target(request, *request.param, key=False)


def wait_for_log(target: Target, offset: int, needle: bytes, timeout: float = 5.0) -> bool:
    """Whether `needle` shows up in the server's log after `offset` (the server may write
    its log after it has answered)."""
    deadline = time.monotonic() + timeout
    while True:
        with target.server.log_path.open("rb") as log:
            log.seek(offset)
            if needle in log.read():
                return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


def check_empty_stream(error: llmx.StreamError) -> None:
    # 200, text/event-stream, no bytes: never an empty success
    assert not isinstance(error, llmx.ProviderError)
    assert "without [DONE] or a finish_reason" in error.message
    assert error.partial is not None and error.partial.finish_reason is FinishReason.ERROR
    assert error.partial.text == "" and error.partial.tool_calls == []


# -- llama-cpp-python ------------------------------------------------------------------------


def test_lcp_empty_streams_and_dropped_connections(lcp: Target) -> None:
    """Quirk: llama-cpp-python reports some failures of a stream after its headers: 200,
    an empty SSE body (a clean end of the chunked body, no [DONE], no error event), and
    a few ms later it closes the keep-alive connection it said it would keep. Seen:
    tool_choice "auto" when streaming, a context overflow when streaming.

    llmx raises StreamError (the cause cannot be known). The pooled connection then dies
    under the next request sent at once, about half of the time ("Server disconnected
    without sending a response", or a reset): llmx's ordinary retry of connection
    failures must absorb that, so every next request succeeds."""
    with lcp.client(retry_policy=FAST_RETRIES) as client:
        for _ in range(3):
            for bad in (
                {"tools": [WEATHER], "tool_choice": "auto"},
                {"messages": [llmx.Message.user(OVERFLOW)], "max_tokens": 10},
            ):
                with pytest.raises(llmx.StreamError) as caught:
                    with client.stream(REQUEST, **bad) as stream:
                        list(stream)
                check_empty_stream(caught.value)
                response = client.chat(REQUEST, max_tokens=2)
                check_response(response, lcp)


@pytest.mark.anyio
async def test_lcp_empty_streams_and_dropped_connections_async(
    lcp: Target, anyio_backend: str
) -> None:
    async with lcp.async_client(retry_policy=FAST_RETRIES) as client:
        for _ in range(3):
            with pytest.raises(llmx.StreamError) as caught:
                async with client.stream(REQUEST, tools=[WEATHER], tool_choice="auto") as stream:
                    [event async for event in stream]
            check_empty_stream(caught.value)
            check_response(await client.chat(REQUEST, max_tokens=2), lcp)


def test_lcp_auto_tool_choice_works_without_streaming(lcp: Target) -> None:
    with lcp.client() as client:
        response = client.chat(
            REQUEST, tools=[WEATHER], tool_choice="auto", max_tokens=TOOL_MAX_TOKENS
        )
    # quirk: besides tool_calls, a legacy message.function_call (its name "" here); ignored
    assert response.raw is not None and response.raw["choices"][0]["message"]["function_call"]
    check_tool_calls(response, lcp)


def test_lcp_required_tool_choice_is_a_server_error(lcp: Target) -> None:
    # quirk: "required" is not implemented: an assert in the handler -> HTTP 500, empty message
    with lcp.client(max_retries=0) as client, pytest.raises(llmx.ServerError) as caught:
        client.chat(REQUEST, tools=[WEATHER], tool_choice="required", max_tokens=TOOL_MAX_TOKENS)
    error = caught.value
    assert error.status_code == 500 and error.error_type == "internal_server_error"
    assert error.is_retryable  # a 5xx: with retries on, llmx repeats it (in vain)


def test_lcp_json_schema_format_is_a_server_error(lcp: Target) -> None:
    # quirk: OpenAI's json_schema response format fails validation -> HTTP 500; the
    # schema goes through its own json_object+schema form (test_json_schema)
    schema = llmx.JSONSchemaFormat(name="p", schema={"type": "object"})
    with lcp.client(max_retries=0) as client, pytest.raises(llmx.ServerError) as caught:
        client.chat(REQUEST, response_format=schema, max_tokens=20)
    assert caught.value.status_code == 500
    assert "Input should be 'text' or 'json_object'" in caught.value.message


def test_lcp_json_object_does_not_end_by_itself(lcp: Target) -> None:
    # quirk: without a schema, the json_object grammar lets this model open a string and
    # never close it: the reply runs to max_tokens and is a truncated JSON prefix. llmx
    # hands it over as text, finish_reason length (it never claims the JSON is complete).
    # temperature 0: the same reply every time.
    with lcp.client() as client:
        response = client.chat(REQUEST, response_format="json_object", max_tokens=40, temperature=0)
    assert response.finish_reason is FinishReason.LENGTH
    assert response.text.startswith('{ "')
    with pytest.raises(ValueError):
        json.loads(response.text)


def test_lcp_tool_results_need_assistant_content(lcp: Target) -> None:
    """Quirk: llama-cpp-python's chat handler reads `content` of every message. llmx sends
    an assistant message that only calls tools without `content` (as OpenAI's API allows);
    the template then fails: HTTP 500 (streamed: 200 and an empty body). `"content": null`
    fails its request validation as well; only `""` is accepted, which llmx cannot be told
    to send with the generic provider; the `llamacpp` preset sends `""` and goes through."""
    with lcp.client(retry_policy=FAST_RETRIES) as client:  # see the dropped connections above
        called = client.chat(
            REQUEST, tools=[WEATHER], tool_choice=WEATHER.name, max_tokens=TOOL_MAX_TOKENS
        )
        results = [llmx.Message.tool(call.id, {"temp_c": 18}) for call in called.tool_calls]
        follow_up = llmx.Request(
            messages=[*MESSAGES, llmx.Message.assistant(tool_calls=called.tool_calls), *results],
            tools=[WEATHER],
        )
        if lcp.provider == "llamacpp":
            check_response(client.chat(follow_up, max_tokens=4), lcp)
            return
        with pytest.raises(llmx.ServerError) as caught:
            client.chat(follow_up, max_tokens=16, max_retries=0)  # a 500: retried by default
        assert caught.value.status_code == 500
        assert "'dict object' has no attribute 'content'" in caught.value.message
        with pytest.raises(llmx.StreamError) as streamed:
            with client.stream(follow_up, max_tokens=16) as stream:
                list(stream)
        check_empty_stream(streamed.value)
        # the same conversation with text beside the calls goes through
        with_text = llmx.Message.assistant("Checking.", tool_calls=called.tool_calls)
        answer = client.chat(
            follow_up.model_copy(update={"messages": [*MESSAGES, with_text, *results]}),
            max_tokens=4,
        )
    check_response(answer, lcp)


def test_lcp_request_id(lcp: Target) -> None:
    # llama-cpp-python sends x-request-id: llmx puts it on responses and errors
    with lcp.client(max_retries=0) as client:
        response = client.chat(REQUEST, max_tokens=2)
        with pytest.raises(llmx.ContextLengthError) as caught:
            client.chat(OVERFLOW, max_tokens=2)
    assert response.request_id is not None and len(response.request_id) == 32
    assert caught.value.request_id is not None and caught.value.request_id != response.request_id


# -- llama-server ----------------------------------------------------------------------------


def test_ls_named_tool_choice_means_auto(ls: Target) -> None:
    # quirk: llmx sends OpenAI's named form {"type": "function", "function": {"name": ...}};
    # llama-server logs "Wrong type supplied" and treats it as "auto". Nothing on the wire
    # says so, so llmx cannot warn; whatever comes back is a valid answer.
    before = ls.server.log_path.stat().st_size
    with ls.client() as client:
        response = client.chat(
            REQUEST, tools=[WEATHER], tool_choice=WEATHER.name, max_tokens=TOOL_MAX_TOKENS
        )
    check_response(response, ls)
    assert response.warnings == []
    for call in response.tool_calls:
        assert call.name == WEATHER.name and not schema_errors(call.arguments, WEATHER.parameters)
    assert wait_for_log(ls, before, b"Wrong type supplied for parameter 'tool_choice'")


def test_ls_no_request_id(ls: Target) -> None:
    # llama-server sends no request-id header
    with ls.client() as client:
        assert client.chat(REQUEST, max_tokens=2).request_id is None


def test_ls_image_input_is_a_server_error(ls: Target) -> None:
    # quirk: without a multimodal projector, an image is refused with HTTP 500 (not a 4xx),
    # so llmx sees a ServerError, which its default policy retries (in vain)
    image = llmx.ImagePart.from_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png")
    message = llmx.Message.user([llmx.TextPart(text="What is this?"), image])
    with ls.client(max_retries=0) as client, pytest.raises(llmx.ServerError) as caught:
        client.chat(llmx.Request(messages=[message]), max_tokens=4)
    assert caught.value.status_code == 500
    assert "image input is not supported" in caught.value.message


def test_lcp_content_parts_are_rendered_as_text(lcp: Target) -> None:
    # quirk: llama-cpp-python's chat handler does not join a list of content parts: the
    # list goes into the prompt as text, an image as the characters of its data URL. No
    # error, just a longer prompt (the tokenizer is deterministic: exact comparisons)
    image = llmx.ImagePart.from_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png")
    text = llmx.TextPart(text="What is this?")
    with lcp.client() as client:
        plain = client.chat("What is this?", max_tokens=2)
        parts = client.chat(llmx.Request(messages=[llmx.Message.user([text])]), max_tokens=2)
        with_image = client.chat(
            llmx.Request(messages=[llmx.Message.user([text, image])]), max_tokens=2
        )
    for response in (plain, parts, with_image):
        check_response(response, lcp)
    assert plain.usage and parts.usage and with_image.usage
    assert plain.usage.prompt_tokens < parts.usage.prompt_tokens < with_image.usage.prompt_tokens


def test_ls_content_parts_are_joined(ls: Target) -> None:
    # unlike llama-cpp-python, llama-server renders a text part as its text
    with ls.client() as client:
        plain = client.chat("What is this?", max_tokens=2)
        parts = client.chat(
            llmx.Request(messages=[llmx.Message.user([llmx.TextPart(text="What is this?")])]),
            max_tokens=2,
        )
    assert plain.usage and parts.usage
    assert plain.usage.prompt_tokens == parts.usage.prompt_tokens


# -- connection reuse ------------------------------------------------------------------------


def test_ls_requests_right_after_streams(ls: Target) -> None:
    """Quirk: llama-server closes the connection right after every streamed response,
    although it announced "Keep-Alive: timeout=5, max=100". A request sent at once may go
    out on that connection before the close is noticed and fail with "Server disconnected
    without sending a response" (seen for 0-40% of such requests depending on load; plain
    httpx hits it too). llmx's ordinary retry of connection failures absorbs it: every
    request succeeds. (With RetryPolicy(retry_if_sent=False) or max_retries=0 those
    requests fail with ConnectError; the race is too irregular for a test to pin.)"""
    with ls.client(retry_policy=FAST_RETRIES) as client:
        for _ in range(20):
            with client.stream(REQUEST, max_tokens=4) as stream:
                check_response(stream.response(), ls)
            check_response(client.chat(REQUEST, max_tokens=2), ls)


@pytest.mark.anyio
async def test_ls_requests_right_after_streams_async(ls: Target, anyio_backend: str) -> None:
    async with ls.async_client(retry_policy=FAST_RETRIES) as client:
        for _ in range(20):
            async with client.stream(REQUEST, max_tokens=4) as stream:
                check_response(await stream.response(), ls)
            check_response(await client.chat(REQUEST, max_tokens=2), ls)


# -- the llamacpp preset and the generic provider, configured from the environment -----------


@pytest.mark.parametrize(
    ("provider", "key_env", "url_env"),
    [
        ("llamacpp", "LLAMA_API_KEY", "LLAMACPP_BASE_URL"),
        ("openai_compatible", "OPENAI_COMPATIBLE_API_KEY", "OPENAI_COMPATIBLE_BASE_URL"),
    ],
)
@pytest.mark.parametrize("kind", [LCP, LS])
def test_configured_from_environment(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    provider: str,
    key_env: str,
    url_env: str,
) -> None:
    target = make_target(request, kind, provider, key=True)
    assert target.server.api_key
    monkeypatch.setenv(key_env, target.server.api_key)
    monkeypatch.setenv(url_env, target.server.base_url)
    with llmx.Client.from_model(f"{provider}:{target.server.model}") as client:
        check_response(client.chat(REQUEST, max_tokens=2), target)
        assert [model.id for model in client.list_models()] == [target.server.model]
    monkeypatch.delenv(key_env)
    with llmx.Client(provider, model=target.server.model) as client:  # keyless by default
        with pytest.raises(llmx.AuthenticationError) as caught:
            client.chat(REQUEST, max_tokens=2)
    assert key_env in caught.value.message  # says where the key comes from

"""The contract end to end: llmx.Client and AsyncClient over a real loopback socket against the
emulator, which speaks each provider's own wire (Groq, OpenAI and two presets on the OpenAI
path, Anthropic, Gemini, Ollama NDJSON)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from scenarios import (
    FAILURES,
    MIDSTREAM,
    SCENARIOS,
    Failure,
    Scenario,
    event_problems,
    mismatches,
    model_for,
    request_for,
    wire_of,
)
from support import same_content

import llmx
from llmx import Event, Response, ServerError
from llmx.testing import Emulator

PROVIDERS = ["groq", "openai", "anthropic", "gemini", "ollama", "deepseek", "mistral", "openrouter"]
PATHS = {
    "groq": "/openai/v1/chat/completions",
    "openai": "/v1/chat/completions",
    "anthropic": "/v1/messages",
    "gemini": "/v1beta/models/",
    "ollama": "/api/chat",
}


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def emulator(emu: Emulator) -> Emulator:
    emu.reset()
    return emu


def _settings(emu: Emulator, name: str) -> dict[str, Any]:
    return {
        "api_key": emu.api_key,
        "base_url": emu.base_url_for(name),
        "model": model_for(name),
        "max_retries": 0,
        "timeout": 10.0,
    }


def _check(
    name: str, case: Scenario, whole: Response, streamed: Response, events: list[Event]
) -> None:
    assert mismatches(whole, case.expect) == []
    assert mismatches(streamed, case.expect) == []
    assert event_problems(events) == []
    same_content(whole, streamed)
    assert whole.provider == streamed.provider == name


def _check_failure(error: llmx.ProviderError, name: str, failure: Failure) -> None:
    assert isinstance(error, failure.error), error
    assert (error.status_code, error.provider, error.attempts) == (failure.status, name, 1)
    if failure.retry_after is not None:
        assert error.retry_after == failure.retry_after


def _paths(emu: Emulator, count: int) -> list[str]:
    return [r.path for r in emu.requests[-count:]]


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("name", PROVIDERS)
def test_scenario_over_the_socket(emulator: Emulator, name: str, scenario: str) -> None:
    case = SCENARIOS[scenario]
    emulator.script(case.reply, case.reply)
    with llmx.Client(name, **_settings(emulator, name)) as client:
        whole = client.chat(request_for(name))
        with client.stream(request_for(name)) as stream:
            events = list(stream)
            streamed = stream.response()
    _check(name, case, whole, streamed, events)
    assert all(p.startswith(PATHS[wire_of(name)]) for p in _paths(emulator, 2))
    assert emulator.errors == []


@pytest.mark.parametrize("failure", sorted(FAILURES))
@pytest.mark.parametrize("name", PROVIDERS)
def test_error_status_over_the_socket(emulator: Emulator, name: str, failure: str) -> None:
    spec = FAILURES[failure]
    emulator.script(spec.reply, spec.reply)
    with llmx.Client(name, **_settings(emulator, name)) as client:
        with pytest.raises(llmx.ProviderError) as whole:
            client.chat(request_for(name))
        with pytest.raises(llmx.ProviderError) as streamed, client.stream(request_for(name)) as s:
            list(s)
    _check_failure(whole.value, name, spec)
    _check_failure(streamed.value, name, spec)


@pytest.mark.parametrize("name", PROVIDERS)
def test_error_mid_stream_over_the_socket_keeps_the_partial_answer(
    emulator: Emulator, name: str
) -> None:
    emulator.script(MIDSTREAM, MIDSTREAM)
    with llmx.Client(name, **_settings(emulator, name)) as client:
        with pytest.raises(ServerError) as info, client.stream(request_for(name)) as stream:
            for _ in stream:
                pass
        with pytest.raises(ServerError) as whole:
            client.chat(request_for(name))
    partial = info.value.partial
    assert partial is not None and partial.text and "Partial answer.".startswith(partial.text)
    assert info.value.provider == name and info.value.is_retryable
    assert whole.value.status_code == 503


@pytest.mark.anyio
@pytest.mark.parametrize("name", PROVIDERS)
async def test_every_scenario_over_the_socket_async(emulator: Emulator, name: str) -> None:
    async with llmx.AsyncClient(name, **_settings(emulator, name)) as client:
        for case in SCENARIOS.values():
            emulator.script(case.reply, case.reply)
            whole = await client.chat(request_for(name))
            async with client.stream(request_for(name)) as stream:
                events = [event async for event in stream]
                streamed = await stream.response()
            _check(name, case, whole, streamed, events)
        for spec in FAILURES.values():
            emulator.script(spec.reply)
            with pytest.raises(llmx.ProviderError) as info:
                await client.chat(request_for(name))
            _check_failure(info.value, name, spec)
    assert len(emulator.requests) == 2 * len(SCENARIOS) + len(FAILURES)
    assert emulator.errors == []


@pytest.mark.anyio
@pytest.mark.parametrize("name", PROVIDERS)
async def test_error_mid_stream_over_the_socket_async(emulator: Emulator, name: str) -> None:
    emulator.script(MIDSTREAM)
    async with llmx.AsyncClient(name, **_settings(emulator, name)) as client:
        with pytest.raises(ServerError) as info:
            async with client.stream(request_for(name)) as stream:
                async for _ in stream:
                    pass
    partial = info.value.partial
    assert partial is not None and partial.text and "Partial answer.".startswith(partial.text)


@pytest.mark.parametrize("name", PROVIDERS)
def test_model_listing_over_the_socket(emulator: Emulator, name: str) -> None:
    with llmx.Client(name, **_settings(emulator, name)) as client:
        models = client.list_models()
    assert models and all(m.provider == name and m.id for m in models)


@pytest.mark.parametrize("name", PROVIDERS)
def test_a_wrong_key_is_an_authentication_error_in_every_wire(
    emulator: Emulator, name: str
) -> None:
    settings = {**_settings(emulator, name), "api_key": "wrong-key"}
    with llmx.Client(name, **settings) as client:
        with pytest.raises(llmx.AuthenticationError) as info:
            client.chat(request_for(name))
    assert info.value.provider == name and "wrong-key" not in str(info.value)

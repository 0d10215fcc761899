"""Contract, request side, over every registered adapter: each generic setting is sent, or
reported as a warning on response-start, or refused with UnsupportedFeatureError; never dropped.

Known violations are strict xfails naming the bug; they turn into failures once fixed, so the
entry here (and the ‼ in docs/providers.md) goes away with the fix.
"""

from __future__ import annotations

import pytest
from capabilities import SETTING, SETTINGS, setting_outcome
from scenarios import SCENARIOS, adapter, exchange, model_for, names

from llmx import Message, Request, UnsupportedFeatureError

_COMPATIBLE = (
    "cerebras",
    "deepseek",
    "fireworks",
    "llamacpp",
    "lmstudio",
    "mistral",
    "ollama_openai",
    "openai_compatible",
    "together",
    "vllm",
    "xai",
)
KNOWN_GAPS: dict[tuple[str, str], str] = {}


def _cases() -> list[object]:
    cases: list[object] = []
    for name in names():
        for setting in SETTINGS:
            gap = KNOWN_GAPS.get((name, setting.key))
            marks = [pytest.mark.xfail(strict=True, reason=gap)] if gap else []
            cases.append(pytest.param(name, setting.key, marks=marks, id=f"{name}-{setting.key}"))
    return cases


@pytest.mark.parametrize(("name", "key"), _cases())
def test_no_setting_is_dropped_silently(name: str, key: str) -> None:
    outcome = setting_outcome(name, key)
    assert outcome != "dropped", (
        f"{name}: {SETTING[key].label} does not reach the request, raises nothing and adds no "
        "warning"
    )


def _probe(name: str, key: str) -> Request:
    setting = SETTING[key]
    fields = {"messages": [Message.user("probe")], **setting.base, **setting.fields}
    return Request(model=model_for(name), **fields)


def _warned() -> list[tuple[str, str]]:
    return [
        (name, s.key)
        for name in names()
        for s in SETTINGS
        if setting_outcome(name, s.key) in ("warned", "sent+warned")
    ]


@pytest.mark.parametrize(("name", "key"), _warned())
def test_warnings_reach_response_start_and_the_response(name: str, key: str) -> None:
    request = _probe(name, key)
    expected = adapter(name).warnings(request)
    assert expected
    reply = SCENARIOS["text"].reply
    whole, _ = exchange(name, request, reply, stream=False)
    streamed, events = exchange(name, request, reply, stream=True)
    assert whole.warnings == expected
    assert streamed.warnings == expected
    start = events[0]
    assert start.type == "response-start" and list(start.warnings) == expected  # type: ignore[union-attr]
    assert all(warning.startswith(f"{name}: ") for warning in expected), expected


def _refused() -> list[tuple[str, str]]:
    return [
        (name, s.key)
        for name in names()
        for s in SETTINGS
        if setting_outcome(name, s.key) == "unsupported"
    ]


@pytest.mark.parametrize(("name", "key"), _refused())
def test_refusals_name_the_provider_and_happen_before_sending(name: str, key: str) -> None:
    with pytest.raises(UnsupportedFeatureError) as info:
        adapter(name).build_request(_probe(name, key), stream=False)
    assert info.value.provider == name
    assert name in str(info.value).lower()


@pytest.mark.parametrize("name", names())
def test_stream_and_whole_requests_carry_the_same_settings(name: str) -> None:
    """Every setting the adapter sends for chat() it sends for stream() too."""
    request = _probe(name, "temp").model_copy(
        update={"max_tokens": 777, "stop": ["STOPSEQ"], "top_p": 0.91, "seed": 4242}
    )
    whole = adapter(name).build_request(request, stream=False)
    streamed = adapter(name).build_request(request, stream=True)
    assert whole.method == streamed.method == "POST"
    assert whole != streamed, "a streamed request must say so (a flag, a path or a parameter)"
    for marker in ("0.37", "777", "STOPSEQ", "0.91", "4242"):
        if marker in repr(whole.body):
            assert marker in repr(streamed.body), marker


def test_every_registered_provider_is_probed() -> None:
    assert len(names()) >= 17
    assert {"groq", "openai", "anthropic", "gemini", "ollama"} <= set(names())
    assert all(setting_outcome(name, s.key) for name in names() for s in SETTINGS)

"""C: configuration errors (reliability.md §4 C1-C6), raised when the client is built."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from reliability_support import CANARY, MODEL

import llmx
from llmx.testing import Emulator, Reply


@pytest.mark.parametrize(
    ("provider", "env_var"),
    [("groq", "GROQ_API_KEY"), ("openai", "OPENAI_API_KEY"),
     ("anthropic", "ANTHROPIC_API_KEY"), ("gemini", "GEMINI_API_KEY")],
)  # fmt: skip
def test_C1_missing_key_names_the_environment_variable(provider: str, env_var: str) -> None:
    with pytest.raises(llmx.MissingAPIKeyError) as info:
        llmx.Client(provider, model="m")
    assert env_var in str(info.value) and "api_key=" in str(info.value)
    assert info.value.env_var == env_var


def test_C1_ollama_needs_no_key() -> None:
    llmx.Client("ollama", model="llama3.2").close()


def test_C1_unknown_provider_lists_the_known_ones_and_the_closest() -> None:
    with pytest.raises(llmx.ProviderNotFoundError) as info:
        llmx.Client("grok", api_key="k", model="m")
    assert info.value.suggestion == "groq" and "anthropic" in info.value.known
    assert "Did you mean 'groq'?" in str(info.value)


@pytest.mark.parametrize("key", ["", "   ", "\n"])
def test_C2_empty_keys_are_missing_keys(key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(llmx.MissingAPIKeyError):
        llmx.Client("groq", api_key=key, model="m")
    monkeypatch.setenv("GROQ_API_KEY", key)
    with pytest.raises(llmx.MissingAPIKeyError):
        llmx.Client("groq", model="m")


def test_C2_pasted_whitespace_is_stripped_and_inner_breaks_rejected(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GROQ_API_KEY", f"  {CANARY}\n")
    with llmx.Client("groq", base_url=emu.base_url, model=MODEL) as client:
        assert client.chat("hi").text  # the emulator accepts exactly "Bearer <key>"
    assert emu.requests[0].headers["authorization"] == f"Bearer {CANARY}"
    with pytest.raises(llmx.ConfigurationError) as info:
        llmx.Client("groq", api_key=CANARY[:10] + "\n" + CANARY[10:], model="m")
    assert CANARY[:8] not in str(info.value)


def test_C3_base_url_forms(emu: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(llmx.ConfigurationError, match="http:// or https://"):
        llmx.Client("groq", api_key="k", base_url="api.groq.com/openai/v1", model="m")
    with llmx.Client("groq", api_key=CANARY, base_url=emu.base_url + "/", model=MODEL) as c:
        c.chat("hi")
    assert emu.requests[-1].path == "/openai/v1/chat/completions"  # one slash, not two
    caplog.set_level(logging.WARNING, logger="llmx")
    llmx.Client("groq", api_key="k", base_url="http://api.example.com/v1", model="m").close()
    assert any("plain http" in r.getMessage() for r in caplog.records)
    caplog.clear()
    llmx.Client("groq", api_key="k", base_url="http://127.0.0.1:8080/v1", model="m").close()
    assert not caplog.records  # loopback is fine


@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/latest", "http://[fe80::1]/v1", "file:///etc/passwd",
     "gopher://example.com/", "ftp://example.com/"],
)  # fmt: skip
def test_C4_metadata_addresses_and_other_schemes_are_rejected(url: str) -> None:
    with pytest.raises(llmx.ConfigurationError):
        llmx.Client("groq", api_key="k", base_url=url, model="m")


def test_C4_explicit_opt_in_and_local_ollama() -> None:
    llmx.Client("groq", api_key="k", base_url="http://169.254.169.254/v1", model="m",
                allow_link_local=True).close()  # fmt: skip
    llmx.Client("ollama", base_url="http://localhost:11434", model="m").close()


@pytest.mark.parametrize(
    "settings",
    [{"timeout": -1}, {"timeout": 0}, {"max_retries": -1},
     {"max_retries": 11}, {"timeout": "soon"}, {"max_connections": 0}],
    ids=["timeout", "zero", "retries<0", "retries>10", "timeout-type", "connections"],
)  # fmt: skip
def test_C5_bad_numbers_are_value_errors(settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        llmx.Client("groq", api_key="k", model="m", **settings)
    with pytest.raises(ValueError):
        llmx.Timeout(read=-1)
    with pytest.raises(ValueError):
        llmx.RetryPolicy(max_retries=11)


def test_C5_bad_per_call_settings_too(emu: Emulator) -> None:
    with llmx.Client("groq", api_key=CANARY, base_url=emu.base_url, model=MODEL) as client:
        with pytest.raises(ValueError):
            client.chat("hi", timeout=-1)
        with pytest.raises(ValueError):
            client.chat("hi", max_retries=-1)
    assert emu.requests == []


PROXY_CANARY = "PROXYPASS0123456789"


def test_C6_environment_proxy_only_with_trust_env(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    emu.set_default(Reply.text("via proxy"))
    proxy = emu.url.replace("http://", f"http://user:{PROXY_CANARY}@")
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    target = "http://llm.example.invalid/openai/v1"
    with llmx.Client("groq", api_key=CANARY, base_url=target, model=MODEL, max_retries=0) as c:
        with pytest.raises(llmx.LLMXError) as info:  # the emulator answers as a proxy: 404
            c.chat("hi")
    (request,) = emu.requests
    assert request.path.startswith("http://llm.example.invalid/")  # absolute form: a proxy
    assert "proxy-authorization" in request.headers
    text = str(info.value) + "\n".join(r.getMessage() for r in caplog.records)
    assert PROXY_CANARY not in text
    with llmx.Client("groq", api_key=CANARY, base_url=target, model=MODEL, max_retries=0,
                     trust_env=False) as c:  # fmt: skip
        with pytest.raises(llmx.ConnectError):
            c.chat("hi")  # straight to the (unresolvable) host
    assert len(emu.requests) == 1

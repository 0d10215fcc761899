"""ClientBuilder, RequestBuilder, Client construction from keywords, dicts, strings and env."""

from __future__ import annotations

import pickle

import pytest

import llmx
from llmx import ClientBuilder, RequestBuilder


def test_builder_is_immutable_and_builds_the_seed_form() -> None:
    base = ClientBuilder().groq("gsk_secret").model("llama-3.3-70b-versatile")
    tuned = base.temperature(0.7).max_tokens(1024)
    client = tuned.build()
    settings = client._core.settings
    assert (settings.provider, settings.model) == ("groq", "llama-3.3-70b-versatile")
    assert dict(settings.defaults) == {"temperature": 0.7, "max_tokens": 1024}
    assert dict(base.build()._core.settings.defaults) == {}
    assert settings.base_url == "https://api.groq.com/openai/v1"


def test_builder_builds_async_client() -> None:
    client = ClientBuilder().provider("groq", "gsk_x").model("m").top_p(0.5).build_async()
    assert isinstance(client, llmx.AsyncClient)
    assert client._core.settings.defaults["top_p"] == 0.5


@pytest.mark.parametrize(
    ("builder", "message"),
    [
        pytest.param(ClientBuilder().groq("k").temperature(3), "temperature", id="temperature"),
        pytest.param(ClientBuilder().groq("k").top_p(-1), "top_p", id="top_p"),
        pytest.param(ClientBuilder().groq("k").max_tokens(0), "max_tokens", id="max_tokens"),
        pytest.param(ClientBuilder().groq("k").max_retries(-1), "max_retries", id="retries"),
        pytest.param(ClientBuilder().groq("k").base_url("ftp://x"), "http", id="scheme"),
        pytest.param(ClientBuilder().groq("k").default("colour", 1), "colour", id="unknown"),
    ],
)
def test_builder_validates_on_build(builder: ClientBuilder, message: str) -> None:
    with pytest.raises(llmx.ConfigurationError, match=message):
        builder.build()


def test_missing_key_names_the_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GROQ_API_KEY", raising=False)
    with pytest.raises(llmx.MissingAPIKeyError, match="GROQ_API_KEY") as info:
        ClientBuilder().groq().model("m").build()
    assert info.value.env_var == "GROQ_API_KEY"


def test_key_and_base_url_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROQ_API_KEY", "gsk_env")
    monkeypatch.setenv("GROQ_BASE_URL", "http://127.0.0.1:9/openai/v1")
    client = llmx.Client("groq", model="m")
    assert client._core.settings.api_key is not None
    assert client._core.settings.api_key.get_secret_value() == "gsk_env"
    assert client._core.settings.base_url == "http://127.0.0.1:9/openai/v1"


def test_unknown_provider_lists_known_and_closest() -> None:
    with pytest.raises(llmx.ProviderNotFoundError) as info:
        llmx.Client("grok", api_key="k")
    assert info.value.suggestion == "groq"
    assert "groq" in info.value.known and "openai_compatible" in info.value.known
    assert "Did you mean 'groq'" in str(info.value)


@pytest.mark.parametrize(
    ("spec", "provider", "model"),
    [
        ("groq:llama-3.1-8b-instant", "groq", "llama-3.1-8b-instant"),
        ("groq:openai/gpt-oss-120b", "groq", "openai/gpt-oss-120b"),
        ("openai_compatible:llama3:8b", "openai_compatible", "llama3:8b"),
    ],
)
def test_from_model(spec: str, provider: str, model: str) -> None:
    client = llmx.Client.from_model(spec, api_key="k", base_url="http://127.0.0.1:1/v1")
    assert (client.provider, client.model) == (provider, model)


def test_from_model_without_provider_is_an_error() -> None:
    with pytest.raises(llmx.ConfigurationError, match="provider:model"):
        llmx.Client.from_model("llama-3.1-8b-instant")


def test_from_config_dict() -> None:
    client = llmx.Client.from_config(
        {
            "provider": "openai_compatible",
            "base_url": "http://127.0.0.1:8080/v1",
            "model": "local",
            "temperature": 0.2,
            "timeout": 30,
            "max_retries": 0,
        }
    )
    settings = client._core.settings
    assert (settings.provider, settings.model, settings.base_url) == (
        "openai_compatible",
        "local",
        "http://127.0.0.1:8080/v1",
    )
    assert settings.defaults == {"temperature": 0.2}
    assert settings.retry.max_retries == 0
    assert settings.timeout.read == 30


def test_from_config_rejects_unknown_keys() -> None:
    with pytest.raises(llmx.ConfigurationError, match="temprature"):
        llmx.Client.from_config({"provider": "groq", "api_key": "k", "temprature": 1})


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMX_MODEL", "groq:llama-3.1-8b-instant")
    monkeypatch.setenv("GROQ_API_KEY", "gsk_env")
    monkeypatch.setenv("LLMX_MAX_RETRIES", "5")
    client = llmx.AsyncClient.from_env()
    assert (client.provider, client.model) == ("groq", "llama-3.1-8b-instant")
    assert client._core.settings.retry.max_retries == 5
    monkeypatch.setenv("LLMX_TIMEOUT", "soon")
    with pytest.raises(llmx.ConfigurationError, match="LLMX_TIMEOUT"):
        llmx.Client.from_env()


def test_openai_compatible_needs_a_base_url() -> None:
    with pytest.raises(llmx.ConfigurationError, match="base_url"):
        llmx.Client("openai_compatible", model="m")


def test_request_builder_builds_the_seed_tool_request() -> None:
    request = (
        RequestBuilder()
        .model("llama-3.3-70b-versatile")
        .add_system_message("你是助手")
        .add_user_message("北京今天天气怎么样？")
        .add_tool(
            llmx.Tool(
                name="get_weather",
                description="获取指定城市的天气信息",
                parameters={
                    "type": "object",
                    "properties": {"city": {"type": "string", "description": "城市名称"}},
                    "required": ["city"],
                },
            )
        )
        .temperature(0.2)
        .stop("END")
        .build()
    )
    assert [m.role for m in request.messages] == ["system", "user"]
    assert request.tools[0].name == "get_weather"
    assert request.stop == ["END"]


def test_request_builder_validates() -> None:
    with pytest.raises(llmx.InvalidInputError, match="no messages"):
        RequestBuilder().model("m").build()
    with pytest.raises(llmx.InvalidInputError, match="temperature"):
        RequestBuilder().add_user_message("x").temperature(5).build()
    with pytest.raises(llmx.InvalidInputError, match="tool name"):
        RequestBuilder().add_tool("bad name!")
    with pytest.raises(llmx.InvalidInputError, match="not in 'properties'"):
        RequestBuilder().add_tool(
            "t", parameters={"type": "object", "required": ["x"], "properties": {}}
        )


def test_request_builder_images_json_and_provider_options() -> None:
    request = (
        RequestBuilder()
        .add_user_message(
            "what is this?",
            images=[
                "https://example.com/a.png",
                llmx.ImagePart.from_bytes(b"\x89PNG", "image/png"),
            ],
        )
        .json_schema("City", {"type": "object", "properties": {}}, strict=True)
        .provider_options("groq", service_tier="flex")
        .provider_options("groq", reasoning_format="parsed")
        .build()
    )
    content = request.messages[0].content
    assert isinstance(content, list) and len(content) == 3
    assert isinstance(request.response_format, llmx.JSONSchemaFormat)
    assert request.provider_options == {
        "groq": {"service_tier": "flex", "reasoning_format": "parsed"}
    }


def test_image_part_needs_one_source() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        llmx.ImagePart()
    part = llmx.ImagePart.from_bytes(b"abc", "image/png")
    assert part.data_url() == "data:image/png;base64,YWJj"


def test_errors_pickle_with_their_fields() -> None:
    error = llmx.RateLimitError("slow down", provider="groq", status_code=429, retry_after=2.5)
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is llmx.RateLimitError
    assert (clone.status_code, clone.retry_after, str(clone)) == (429, 2.5, "slow down")
    assert clone.is_retryable


def test_request_builder_add_message_keeps_any_message() -> None:
    call = llmx.ToolCall(id="c1", name="f", arguments={"a": 1}, raw_arguments='{"a":1}')
    request = (
        RequestBuilder()
        .add_message(llmx.Message.user("hi"))
        .add_message(llmx.Message.assistant(tool_calls=[call]))
        .add_tool_result("c1", {"ok": True})
        .build()
    )
    assert [m.role for m in request.messages] == ["user", "assistant", "tool"]
    assert request.messages[1].tool_calls == [call]
    assert request.messages[2].content == '{"ok": true}'

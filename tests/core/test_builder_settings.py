"""ClientBuilder: the transport and safety settings, the key kept secret, immutability."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest
from pydantic import SecretStr

import llmx
from llmx import ClientBuilder

KEY = "gsk_test_builder_secret_123456"
URL = "http://127.0.0.1:9/openai/v1"


def base() -> ClientBuilder:
    return ClientBuilder().groq(KEY).model("m").base_url(URL)


# (setter, argument, ClientSettings field, expected value); every value differs from the default
SETTINGS: list[tuple[str, Any, str, Any]] = [
    ("follow_redirects", (), "follow_redirects", True),
    ("max_connections", (7,), "max_connections", 7),
    ("max_keepalive_connections", (3,), "max_keepalive_connections", 3),
    ("max_response_bytes", (4096,), "max_response_bytes", 4096),
    ("max_error_bytes", (2048,), "max_error_bytes", 2048),
    ("max_event_bytes", (8192,), "max_event_bytes", 8192),
    ("trust_env", (False,), "trust_env", False),
    ("verify", (False,), "verify", False),
    ("allow_link_local", (), "allow_link_local", True),
    ("http_backend", ("httpx",), "http_backend", "httpx"),
]
IDS = [setter for setter, *_ in SETTINGS]


def configured(setter: str, args: tuple[Any, ...]) -> ClientBuilder:
    builder: ClientBuilder = getattr(base(), setter)(*args)
    return builder


@pytest.mark.parametrize(("setter", "args", "field", "expected"), SETTINGS, ids=IDS)
def test_setter_reaches_the_sync_client(
    setter: str, args: tuple[Any, ...], field: str, expected: Any
) -> None:
    client = configured(setter, args).build()
    try:
        assert getattr(client._core.settings, field) == expected
    finally:
        client.close()


@pytest.mark.anyio
@pytest.mark.parametrize(("setter", "args", "field", "expected"), SETTINGS, ids=IDS)
async def test_setter_reaches_the_async_client(
    setter: str, args: tuple[Any, ...], field: str, expected: Any
) -> None:
    client = configured(setter, args).build_async()
    try:
        assert getattr(client._core.settings, field) == expected
    finally:
        await client.aclose()


def test_explicit_false_flags_reach_the_client() -> None:
    builder = base().follow_redirects(True).follow_redirects(False).allow_link_local(False)
    client = builder.trust_env(True).verify(True).build()
    try:
        settings = client._core.settings
        assert (settings.follow_redirects, settings.allow_link_local) == (False, False)
        assert (settings.trust_env, settings.verify) == (True, True)
    finally:
        client.close()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_aiohttp_backend_reaches_the_async_client() -> None:
    pytest.importorskip("aiohttp")
    client = base().http_backend("aiohttp").build_async()
    try:
        assert client._core.settings.http_backend == "aiohttp"
    finally:
        await client.aclose()


def test_allow_link_local_lets_a_metadata_address_through() -> None:
    builder = ClientBuilder().groq(KEY).model("m").base_url("http://169.254.169.254/v1")
    with pytest.raises(llmx.ConfigurationError, match="allow_link_local"):
        builder.build()
    client = builder.allow_link_local().build()
    try:
        assert client._core.settings.base_url == "http://169.254.169.254/v1"
    finally:
        client.close()


def test_api_key_env_reads_the_named_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_GATEWAY_KEY", KEY)
    builder = ClientBuilder().groq().model("m").base_url(URL).api_key_env("MY_GATEWAY_KEY")
    client = builder.build()
    try:
        key = client._core.settings.api_key
        assert key is not None and key.get_secret_value() == KEY
    finally:
        client.close()


@pytest.mark.anyio
async def test_api_key_env_reaches_the_async_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_GATEWAY_KEY", KEY)
    builder = ClientBuilder().groq().model("m").base_url(URL).api_key_env("MY_GATEWAY_KEY")
    built = builder.build_async()
    try:
        key = built._core.settings.api_key
        assert key is not None and key.get_secret_value() == KEY
    finally:
        await built.aclose()


def test_api_key_env_that_is_unset_names_the_variable() -> None:
    builder = ClientBuilder().groq().model("m").base_url(URL).api_key_env("MY_MISSING_KEY")
    with pytest.raises(llmx.MissingAPIKeyError, match="MY_MISSING_KEY"):
        builder.build()
    with pytest.raises(llmx.MissingAPIKeyError, match="MY_MISSING_KEY"):
        builder.build_async()


INVALID: list[tuple[str, Any]] = [
    ("max_connections", 0),
    ("max_keepalive_connections", -1),
    ("max_response_bytes", 10),
    ("max_error_bytes", 10),
    ("max_event_bytes", 10),
    ("http_backend", "curl"),
    ("follow_redirects", "sometimes"),
    ("trust_env", "sometimes"),
    ("verify", "sometimes"),
    ("allow_link_local", "sometimes"),
]


@pytest.mark.parametrize(("setter", "value"), INVALID, ids=[s for s, _ in INVALID])
def test_invalid_values_fail_at_build_naming_the_setting(setter: str, value: Any) -> None:
    builder = configured(setter, (value,))  # the setter itself accepts anything
    for build in (builder.build, builder.build_async):
        with pytest.raises(llmx.InvalidInputError, match=setter) as info:
            build()
        assert KEY not in str(info.value)
    # the same message as the constructor
    with pytest.raises(llmx.InvalidInputError) as direct:
        llmx.Client("groq", api_key=KEY, model="m", base_url=URL, **{setter: value})
    with pytest.raises(llmx.InvalidInputError) as built:
        builder.build()
    assert str(built.value) == str(direct.value)


def test_setters_do_not_change_the_original() -> None:
    original = base()
    before = repr(original)
    changed = original.max_connections(5).verify(False).http_backend("httpx").api_key_env("X")
    changed = changed.follow_redirects().allow_link_local().trust_env(False)
    assert repr(original) == before
    assert "max_connections" not in original._settings
    assert changed is not original and changed._settings["max_connections"] == 5
    client = original.build()
    try:
        settings = client._core.settings
        assert (settings.max_connections, settings.verify, settings.follow_redirects) == (
            100,
            True,
            False,
        )
    finally:
        client.close()


def builders() -> list[ClientBuilder]:
    return [
        base(),
        ClientBuilder().api_key(KEY),
        ClientBuilder().provider("openai", KEY).max_connections(0),
        base().max_connections(3).verify(False).http_backend("httpx").header("X-A", "b"),
    ]


def test_the_key_is_held_as_a_secret() -> None:
    for builder in builders():
        held = builder._settings["api_key"]
        assert isinstance(held, SecretStr) and held.get_secret_value() == KEY


def test_no_view_of_the_builder_shows_the_key() -> None:
    for builder in builders():
        state = {name: getattr(builder, name) for name in ClientBuilder.__slots__}
        for text in (repr(builder), str(builder), repr(state), str(state)):
            assert KEY not in text and KEY[:8] not in text, text
        with pytest.raises(TypeError):
            vars(builder)  # no __dict__ to look into


def test_invalid_build_does_not_echo_the_key() -> None:
    builder = ClientBuilder().provider("openai", KEY).max_connections(0)
    with pytest.raises(llmx.InvalidInputError) as info:
        builder.build()
    assert KEY not in str(info.value) and KEY not in repr(info.value)


def test_pickling_a_builder_is_refused_without_the_key() -> None:
    for builder in builders():
        with pytest.raises(TypeError, match="cannot be pickled") as info:
            pickle.dumps(builder)
        assert KEY not in str(info.value) and KEY not in repr(info.value)


def test_copies_are_the_same_immutable_builder() -> None:
    builder = base().max_connections(3)
    assert copy.copy(builder) is builder
    assert copy.deepcopy({"b": builder})["b"] is builder


def test_the_key_is_unwrapped_when_building() -> None:
    client = base().build()
    try:
        key = client._core.settings.api_key
        assert key is not None and key.get_secret_value() == KEY
    finally:
        client.close()

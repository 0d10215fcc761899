"""The two ways the transport sends: llmx's own httpx clients are driven straight to their
connection pool (no cookie, auth or hook layers); a client the user passes in goes through
``httpx.Client.send`` with everything it was configured with. Both over a loopback socket."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import llmx
from llmx.testing import Emulator, Reply

MODEL = "llama-3.3-70b-versatile"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


def _sync(emu: Emulator, **kwargs: Any) -> llmx.Client:
    return llmx.Client("groq", api_key=emu.api_key, base_url=emu.base_url, model=MODEL, **kwargs)


def _async(emu: Emulator, **kwargs: Any) -> llmx.AsyncClient:
    return llmx.AsyncClient(
        "groq", api_key=emu.api_key, base_url=emu.base_url, model=MODEL, **kwargs
    )


def test_own_pool_sends_what_httpx_client_would(emu: Emulator) -> None:
    emu.set_default(Reply.text("ok"))
    with _sync(emu, headers={"X-Custom": "1"}) as client:
        assert client.chat("hi").text == "ok"
        assert client.chat("hi", top_p=0.5).text == "ok"  # the cached URL is reused
    first, second = emu.requests
    assert first.path == "/openai/v1/chat/completions"
    for name, value in {
        "authorization": f"Bearer {emu.api_key}",
        "content-type": "application/json",
        "accept": "application/json",
        "x-custom": "1",
        "connection": "keep-alive",
    }.items():
        assert first.headers[name] == value
    assert "gzip" in first.headers["accept-encoding"]
    assert first.headers["user-agent"].startswith("llmx/")
    assert first.headers["host"] == emu.base_url.split("//")[1].split("/")[0]
    assert int(first.headers["content-length"]) == len(first.body)
    assert b'"top_p":0.5' in second.body


def test_own_pool_keeps_no_cookies(emu: Emulator) -> None:
    emu.set_default(Reply.text("ok", headers={"set-cookie": "session=abc; Path=/"}))
    with _sync(emu) as client:
        client.chat("hi")
        client.chat("hi")
    assert all("cookie" not in request.headers for request in emu.requests)


def test_users_http_client_is_used_with_its_settings(emu: Emulator) -> None:
    emu.set_default(Reply.text("ok", headers={"set-cookie": "session=abc; Path=/"}))
    seen: list[str] = []
    hooks = {"request": [lambda request: seen.append(request.url.path)]}
    with httpx.Client(event_hooks=hooks) as http, _sync(emu, http_client=http) as client:
        assert client.chat("hi").text == "ok"
        assert client.chat("hi").text == "ok"
    assert seen == ["/openai/v1/chat/completions"] * 2
    assert emu.requests[1].headers.get("cookie") == "session=abc"  # its cookie jar at work


@pytest.mark.parametrize("own", [True, False], ids=["own_pool", "users_client"])
@pytest.mark.anyio
async def test_async_redirect_followed_without_credentials(emu: Emulator, own: bool) -> None:
    with Emulator(api_key=None) as other:
        target = other.base_url + "/chat/completions"
        emu.set_default(Reply.raw(307, b"", headers={"location": target}))
        http = None if own else httpx.AsyncClient()
        try:
            async with _async(emu, follow_redirects=True, http_client=http) as client:
                assert (await client.chat("hi")).text
        finally:
            if http is not None:
                await http.aclose()
        (request,) = other.requests
    assert request.path == "/openai/v1/chat/completions"
    assert "authorization" not in request.headers
    assert request.body == emu.requests[0].body  # 307 keeps the method and the body


@pytest.mark.parametrize("own", [True, False], ids=["own_pool", "users_client"])
def test_sync_redirect_not_followed_by_default(emu: Emulator, own: bool) -> None:
    emu.set_default(Reply.raw(302, b"", headers={"location": emu.base_url + "/elsewhere"}))
    with httpx.Client() as http, _sync(emu, http_client=None if own else http) as client:
        with pytest.raises(llmx.ProviderError, match="redirect to .*/elsewhere was not followed"):
            client.chat("hi")
    assert [r.path for r in emu.requests] == ["/openai/v1/chat/completions"]


def test_closed_client_says_so(emu: Emulator) -> None:
    client = _sync(emu)
    client.close()
    for call in (lambda: client.chat("hi"), lambda: list(client.stream("hi"))):
        with pytest.raises(llmx.TransportError, match="groq: the client is closed") as info:
            call()
        assert not info.value.retryable
    assert emu.requests == []


@pytest.mark.anyio
async def test_closed_async_client_says_so(emu: Emulator) -> None:
    client = _async(emu)
    await client.aclose()
    with pytest.raises(llmx.TransportError, match="groq: the client is closed"):
        await client.chat("hi")
    assert emu.requests == []


def test_fallback_through_send_when_httpx_lacks_the_private_methods(emu: Emulator) -> None:
    """Without httpx's ``_transport_for_url`` the own pool goes through ``send()``: the same
    requests, redirects still handled by llmx."""
    emu.script(
        Reply.raw(307, b"", headers={"location": emu.base_url + "/chat/completions"}),
        Reply.text("after redirect"),
    )
    with _sync(emu, follow_redirects=True) as client:
        transport = client._transport
        assert transport._direct
        transport._direct = False
        assert client.chat("hi").text == "after redirect"
    first, second = emu.requests
    assert second.path == "/openai/v1/chat/completions"
    assert second.headers["authorization"] == first.headers["authorization"]  # same origin
    assert second.body == first.body

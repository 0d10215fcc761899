"""X: secrets (reliability.md §4 X1-X6). A canary key goes through every error path; it must
never show up in an error, a log record (llmx, httpx and httpcore at DEBUG), a traceback, a
repr or a pickle."""

from __future__ import annotations

import logging
import pickle
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
from reliability_support import CANARY, MODEL, make_client

import llmx
from llmx.testing import Emulator, Reply

ECHO = f"Incorrect API key provided: {CANARY}. You can find your key at console.groq.com"
PREFIX_ECHO = f"Incorrect API key provided: {CANARY[:12]}****{CANARY[-4:]}"


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = f"{record.getMessage()} {record.args!r}"
        if record.exc_info:
            text += "".join(traceback.format_exception(*record.exc_info))
        self.texts.append(text)


@pytest.fixture
def logs() -> Iterator[Collect]:
    handler = Collect()
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in ("llmx", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old)
    for name in ("llmx", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.NOTSET)


SCENARIOS: dict[str, Reply] = {
    "401-echo": Reply.error(401, message=ECHO),
    "401-prefix": Reply.error(401, message=PREFIX_ECHO),
    "429": Reply.error(429, message=ECHO, headers={"retry-after": "0"}),
    "500-html": Reply.error(500, body=f"<html><title>oops</title>{ECHO}</html>"),
    "400-tool-use": Reply.error(400, code="tool_use_failed", failed_generation=ECHO),
    "redirect": Reply.raw(307, b"", headers={"location": f"http://evil.test/?k={CANARY}"}),
    "html-200": Reply.raw(200, f"<html>{ECHO}</html>", content_type="text/html"),
    "stream-error": Reply.stream_error(
        2, message=ECHO, code=None, type="server_error", status_code=500
    ),  # fmt: skip
    "malformed": Reply.text("a b c", chunk_size=1, malformed_after=1),
    "disconnect": Reply.text("a b c", chunk_size=1, disconnect_after=2),
    "reset": Reply.drop(reset=True),
    "stall": Reply.text("a b c", stall_after=1),
    "wrong-type": Reply.raw(200, [ECHO.encode()], content_type="text/plain"),
    "garbage": Reply.wire(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nZZ\r\n"),
}


def shown(error: BaseException) -> str:
    """Everything an error shows: str, repr, attributes, the formatted traceback chain."""
    parts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    parts += [repr(value) for key, value in vars(error).items() if key != "partial"]
    return "\n".join(parts)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_X1_the_canary_never_shows_in_errors_logs_or_tracebacks(
    emu: Emulator, logs: Collect, name: str
) -> None:
    emu.set_default(SCENARIOS[name])
    timeout = llmx.Timeout(read=0.5, idle=0.3)
    errors: list[BaseException] = []
    with make_client(emu, follow_redirects=False) as client:
        for call in (lambda: client.chat("hi", timeout=timeout),
                     lambda: client.stream("hi", timeout=timeout).response()):  # fmt: skip
            try:
                call()
            except llmx.LLMXError as error:
                errors.append(error)
    assert errors, "the scenario should fail"
    for error in errors:
        text = shown(error)
        assert CANARY not in text and CANARY[:8] not in text, name
    joined = "\n".join(logs.texts)
    assert logs.texts and CANARY not in joined and CANARY[:8] not in joined


def test_X2_no_object_shows_the_key(emu: Emulator) -> None:
    builder = llmx.ClientBuilder().groq(CANARY).model(MODEL).base_url(emu.base_url)
    with builder.build() as client:
        core = client._core
        prepared = core.prepare(core.build_request("hi", {}), stream=False, timeout=None,
                                max_retries=None)  # fmt: skip
        settings = core.settings
        for text in (repr(client), str(client), repr(core), repr(settings), str(settings),
                     repr(settings.model_dump()), settings.model_dump_json(), repr(prepared),
                     repr(prepared.headers), repr(builder), repr(client.stream("hi"))):  # fmt: skip
            assert CANARY not in text and CANARY[:8] not in text, text
        assert CANARY.encode() not in pickle.dumps(settings)
        assert pickle.loads(pickle.dumps(settings)).api_key is None
        for thing in (client, core, prepared.headers):
            with pytest.raises(TypeError):
                pickle.dumps(thing)
        assert client.chat("hi").text  # and the key is still used where it belongs


def test_X3_gemini_key_travels_in_a_header_not_the_url(emu: Emulator) -> None:
    base = emu.base_url_for("gemini")
    with llmx.Client("gemini", api_key=CANARY, base_url=base, model="gemini-2.5-flash") as c:
        try:
            c.chat("hi")
        except llmx.LLMXError:
            pass  # only the request matters here
    request = emu.requests[-1]
    assert request.headers.get("x-goog-api-key") == CANARY
    assert CANARY not in request.query and "key=" not in request.query
    assert CANARY not in request.path


@pytest.mark.parametrize("message", [ECHO, PREFIX_ECHO], ids=["whole", "prefix"])
def test_X4_echoed_keys_are_redacted_from_message_and_body(emu: Emulator, message: str) -> None:
    emu.set_default(Reply.error(401, message=message))
    with make_client(emu) as client, pytest.raises(llmx.AuthenticationError) as info:
        client.chat("hi")
    error: Any = info.value
    assert "[redacted]" in str(error)
    assert CANARY[:8] not in str(error) and CANARY[:8] not in repr(error.body)


@pytest.mark.parametrize(
    "url",
    [f"https://user:{CANARY}@api.groq.com/openai/v1", f"https://api.groq.com/openai/v1?key={CANARY}",
     f"https://api.groq.com/openai/v1?api_key={CANARY}"],
    ids=["userinfo", "key", "api_key"],
)  # fmt: skip
def test_X6_credentials_in_base_url_are_rejected_without_echo(url: str) -> None:
    with pytest.raises(llmx.ConfigurationError) as info:
        llmx.Client("groq", api_key="gsk_other", base_url=url, model=MODEL)
    assert CANARY not in str(info.value) and CANARY[:8] not in str(info.value)

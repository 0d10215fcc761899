"""N: connection faults (reliability.md §4 N1-N7), over real loopback sockets."""

from __future__ import annotations

import json
import logging
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_support import CANARY, MODEL, assert_released, make_client

import llmx
from llmx.testing import Emulator, Reply


def test_N1_reset_before_any_response_byte_is_retried(emu: Emulator) -> None:
    emu.script(Reply.drop(reset=True), Reply.text("ok"))
    with make_client(emu) as client:
        assert client.chat("hi").text == "ok"
        emu.set_default(Reply.drop(reset=True))
        with pytest.raises(llmx.ConnectError) as info:
            client.chat("hi")
    assert info.value.attempts == 3 and len(emu.requests) == 5


def test_N2_body_shorter_than_content_length_is_a_retried_connection_error(
    emu: Emulator,
) -> None:
    short = Reply.raw(
        200, b'{"id": "x", "choices": [' + b" " * 176, headers={"content-length": "1000"}
    )
    emu.script(short, Reply.text("ok"))
    with make_client(emu) as client:
        assert client.chat("hi").text == "ok"
        emu.set_default(short)
        with pytest.raises(llmx.ConnectError) as info:
            client.chat("hi")
    assert info.value.sent is True and info.value.possibly_duplicated is True
    assert "broke while reading" in str(info.value)


def test_N3_drop_after_three_events_keeps_the_partial_output(emu: Emulator) -> None:
    emu.set_default(Reply.text("one two three four five six", chunk_size=1, disconnect_after=3))
    with make_client(emu) as client:
        with pytest.raises(llmx.StreamError) as info:
            list(client.stream("hi"))
        assert info.value.attempts == 1 and len(emu.requests) == 1
        partial = info.value.partial
        assert partial is not None and partial.text and "one two three".startswith(partial.text)
        assert_released(client, emu)


def test_N4_unresolvable_host_names_the_host_not_the_key() -> None:
    policy = llmx.RetryPolicy(initial_backoff=0.01)
    with llmx.Client("groq", api_key=CANARY, base_url="https://nonexistent.invalid/openai/v1",
                     model=MODEL, retry_policy=policy) as client:  # fmt: skip
        with pytest.raises(llmx.ConnectError) as info:
            client.chat("hi")
    assert info.value.attempts <= 3
    assert "nonexistent.invalid" in str(info.value) and CANARY[:8] not in str(info.value)


def test_N5_connection_closed_by_the_server_while_idle_is_not_reused(emu: Emulator) -> None:
    body = json.dumps({"id": "c", "object": "chat.completion", "model": MODEL, "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "first"},
         "finish_reason": "stop"}]}).encode()  # fmt: skip
    head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
    # a complete keep-alive response, then the server closes the connection while it is idle
    closing = Reply.wire([head.encode() + b"\r\n" + body])
    with make_client(emu, timeout=llmx.Timeout(read=30)) as client:
        emu.script(closing, Reply.text("second"))
        assert client.chat("hi").text == "first"
        time.sleep(0.3)  # the server's close has arrived: the stale connection is noticed
        started = time.monotonic()
        assert client.chat("hi").text == "second"
        assert emu.total_connections == 2 and len(emu.requests) == 2
        emu.script(closing, Reply.text("third"), Reply.text("third"))
        assert client.chat("hi").text == "first"
        assert client.chat("hi").text == "third"  # at once: noticed, or a quick retry
    assert time.monotonic() - started < 10  # never the 30 s read timeout


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a self-signed certificate")
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[str]:
    """An HTTPS server with a self-signed certificate answering every request with a
    completion."""
    cert, key = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    body = json.dumps({"id": "c", "object": "chat.completion", "model": MODEL, "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "over tls"},
         "finish_reason": "stop"}]}).encode()  # fmt: skip
    answer = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n"
              b"content-length: %d\r\n\r\n%s") % (len(body), body)  # fmt: skip

    stop = threading.Event()
    listener.settimeout(0.1)

    def serve() -> None:
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            raw.settimeout(5)
            try:
                with context.wrap_socket(raw, server_side=True) as conn:
                    data = b""
                    while b"\r\n\r\n" not in data:
                        data += conn.recv(65536)
                    head, _, rest = data.partition(b"\r\n\r\n")
                    length = 0
                    for line in head.split(b"\r\n"):
                        if line.lower().startswith(b"content-length:"):
                            length = int(line.split(b":")[1])
                    while len(rest) < length:
                        rest += conn.recv(65536)
                    conn.sendall(answer)
            except (OSError, ssl.SSLError, ValueError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{port}/openai/v1"
    stop.set()
    thread.join(5)
    listener.close()


def test_N6_self_signed_certificate_fails_once_and_clearly(
    tls_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    with llmx.Client("groq", api_key=CANARY, base_url=tls_server, model=MODEL) as client:
        with pytest.raises(llmx.ConnectError) as info:
            client.chat("hi")
    assert info.value.attempts == 1 and info.value.retryable is False  # not transient
    assert "certificate" in str(info.value)
    caplog.set_level(logging.WARNING, logger="llmx")
    with llmx.Client("groq", api_key=CANARY, base_url=tls_server, model=MODEL,
                     verify=False) as client:  # fmt: skip
        assert client.chat("hi").text == "over tls"
    assert any("verification is OFF" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "garbage",
    [b"NOT HTTP AT ALL\r\n\r\n",
     b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nZZZZ\r\nnot a chunk\r\n"],
    ids=["status-line", "chunked"],
)  # fmt: skip
def test_N7_malformed_http_is_a_typed_connection_error(emu: Emulator, garbage: bytes) -> None:
    emu.script(Reply.wire(garbage), Reply.text("ok"))
    with make_client(emu) as client:
        assert client.chat("hi").text == "ok"  # mapped, retried
        emu.set_default(Reply.wire(garbage))
        with pytest.raises(llmx.ConnectError):
            client.chat("hi")
        assert_released(client, emu)

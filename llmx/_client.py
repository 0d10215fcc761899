"""The synchronous client: the thin request loop over httpx.Client, and its Stream."""

from __future__ import annotations

import itertools
import time
from collections.abc import Generator, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._config import RetryPolicy, Timeout
from ._core import Call, ClientCore, Prepared, StreamState
from ._errors import LLMXError
from ._events import Event, TextDelta
from ._replay import events_from_response
from ._resolve import ClientFactory
from ._stream import Outcome
from ._types import ModelInfo, Request, Response
from .adapter import HttpResponse

if TYPE_CHECKING:  # httpx is imported with the first client, not with llmx
    from ._transport import SyncTransport

__all__ = ["Client", "Stream"]


class Client(ClientFactory):
    """A synchronous client for one provider. Thread-safe; close it (or use ``with``)."""

    _transport: SyncTransport

    def _open_transport(self, http_client: Any) -> None:
        from ._transport import SyncTransport

        self._transport = SyncTransport(self._core.settings, http_client, self._core.secret_headers)

    def chat(
        self,
        request: Request | str,
        *,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
        retry_policy: RetryPolicy | None = None,
        **overrides: Any,
    ) -> Response:
        """Send one request and return the whole Response."""
        core = self._core
        built = core.build_request(request, overrides)
        prepared = core.prepare(
            built, stream=False, timeout=timeout, max_retries=max_retries, retry_policy=retry_policy
        )
        status, headers, body = self._send(prepared)
        return core.parse(status, headers, body, built)

    def stream(
        self,
        request: Request | str,
        *,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
        retry_policy: RetryPolicy | None = None,
        **overrides: Any,
    ) -> Stream:
        """Start a streamed request: iterate the Stream for events, then call ``response()``."""
        core = self._core
        built = core.build_request(request, overrides)
        prepared = core.prepare(
            built, stream=True, timeout=timeout, max_retries=max_retries, retry_policy=retry_policy
        )
        return Stream(core, self._transport, prepared)

    def simple_chat(self, prompt: str, **overrides: Any) -> str:
        """Ask one question, get the answer text."""
        return self.chat(prompt, **overrides).text

    def simple_stream_chat(self, prompt: str, **overrides: Any) -> Stream:
        """Ask one question and stream the answer's events."""
        return self.stream(prompt, **overrides)

    def list_models(self) -> list[ModelInfo]:
        """The models the provider offers (merged with llmx's catalog where it knows more)."""
        prepared = self._core.prepare_models()
        status, headers, body = self._send(prepared)
        return self._core.adapter.parse_models(HttpResponse(status, headers, body))

    def _send(self, prepared: Prepared) -> tuple[int, Mapping[str, str], bytes]:
        call = self._core.call(prepared, stream=False)
        while True:
            try:
                return self._attempt(call)
            except LLMXError as error:
                time.sleep(call.retry(error))

    def _attempt(self, call: Call) -> tuple[int, Mapping[str, str], bytes]:
        core, prepared = self._core, call.prepared
        settings = core.settings
        with self._transport.open(
            prepared.method,
            prepared.url,
            content=prepared.content,
            headers=call.headers(),
            params=prepared.params,
            timeout=call.timeout(),
            timer=call.timer(),
            attempt=call.attempt,
        ) as body:
            status, headers = body.status_code, body.headers
            if status >= 300:
                raise core.error_for(status, headers, body.read(settings.max_error_bytes))
            content = body.read(settings.max_response_bytes)
            if body.truncated:
                raise core.too_large(status, headers, content)
            return status, headers, content

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class Stream:
    """Events of one streamed response. Iterate it (once), then ``response()``.

    Use it as a context manager, or iterate it to the end, so the connection is released; a
    Stream you drop is released as soon as it is garbage-collected.
    """

    def __init__(self, core: ClientCore, transport: SyncTransport, prepared: Prepared) -> None:
        self._outcome = Outcome()
        self._events = _run(core, transport, prepared, self._outcome)

    def __enter__(self) -> Stream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __iter__(self) -> Iterator[Event]:
        return self

    def __next__(self) -> Event:
        return next(self._events)

    def text_stream(self) -> Iterator[str]:
        """Only the text deltas."""
        for event in self:
            if isinstance(event, TextDelta):
                yield event.delta

    def response(self) -> Response:
        """The accumulated Response; reads the rest of the stream first if needed."""
        for _ in self:
            pass
        return self._outcome.result()

    @property
    def partial(self) -> Response | None:
        """What has arrived so far."""
        return self._outcome.partial()

    def close(self) -> None:
        """Stop reading and release the connection."""
        self._events.close()


def _run(
    core: ClientCore, transport: SyncTransport, prepared: Prepared, outcome: Outcome
) -> Generator[Event, None, None]:
    """The events of one streamed call, with retries until the first event is delivered."""
    call = core.call(prepared, stream=True)
    settings = core.settings
    request = prepared.request
    while True:
        outcome.state = None
        timer = call.timer()
        try:
            with transport.open(
                prepared.method,
                prepared.url,
                content=prepared.content,
                headers=call.headers(),
                params=prepared.params,
                timeout=call.timeout(),
                timer=timer,
                attempt=call.attempt,
            ) as body:
                status, headers = body.status_code, body.headers
                if status >= 300:
                    raise core.error_for(status, headers, body.read(settings.max_error_bytes))
                kind = core.stream_kind(headers)
                chunks = body.chunks()
                first = b""
                if kind == "sniff":
                    first = next(chunks, b"")
                    kind = core.sniff(first)
                if kind != "frames":
                    whole = kind == "json"
                    limit = settings.max_response_bytes if whole else settings.max_error_bytes
                    content = first + body.read(limit)
                    if not whole:
                        raise core.unexpected(status, headers, content, "not an event stream")
                    if body.truncated:
                        raise core.too_large(status, headers, content)
                    response = outcome.final = core.parse(status, headers, content, request)
                    yield from events_from_response(response)
                    return
                state = outcome.state = StreamState(core, request, headers)
                if first:
                    chunks = itertools.chain((first,), chunks)
                for chunk in chunks:
                    events = state.feed(chunk)
                    if timer is not None:
                        timer.tick(time.monotonic(), bool(events))
                    if events:
                        yield from events
                        if state.finished:
                            break
                yield from state.close()
                outcome.final = state.response()
                body.finish()
                return
        except LLMXError as error:
            try:
                delay = call.retry(error, outcome.state)
            except LLMXError as final:
                outcome.error = final
                raise
            time.sleep(delay)

"""The synchronous client: the thin request loop over httpx.Client, and its Stream."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any

from ._config import RetryPolicy, Timeout
from ._core import ClientCore, Prepared, StreamState, check_timing
from ._errors import LLMXError
from ._events import Event, EventType
from ._registry import Registry
from ._replay import events_from_response
from ._resolve import ClientFactory, resolve_core
from ._transport import SyncTransport
from ._types import ModelInfo, Request, Response
from .adapter import Adapter, HttpResponse

__all__ = ["Client", "Stream"]


class Client(ClientFactory):
    """A synchronous client for one provider. Thread-safe; close it (or use ``with``)."""

    def __init__(
        self,
        provider: str | None = None,
        *,
        api_key: str | None = None,
        model: str | None = None,
        base_url: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
        retry_policy: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        defaults: Mapping[str, Any] | None = None,
        adapter: Adapter | None = None,
        registry: Registry | None = None,
        http_client: Any = None,
        **options: Any,
    ) -> None:
        self._core: ClientCore = resolve_core(
            provider,
            api_key=api_key,
            model=model,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            retry_policy=retry_policy,
            headers=headers,
            defaults=defaults,
            adapter=adapter,
            registry=registry,
            **options,
        )
        self._transport = SyncTransport(self._core.settings, http_client)

    def __repr__(self) -> str:
        s = self._core.settings
        return f"Client(provider={s.provider!r}, model={s.model!r}, base_url={s.base_url!r})"

    @property
    def provider(self) -> str:
        return self._core.settings.provider

    @property
    def model(self) -> str | None:
        return self._core.settings.model

    def chat(
        self,
        request: Request | str,
        *,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
        **overrides: Any,
    ) -> Response:
        """Send one request and return the whole Response."""
        core = self._core
        built = core.build_request(request, overrides)
        prepared = core.prepare(built, stream=False, timeout=timeout, max_retries=max_retries)
        status, headers, body = self._send(prepared)
        return core.parse(status, headers, body, built)

    def stream(
        self,
        request: Request | str,
        *,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
        **overrides: Any,
    ) -> Stream:
        """Start a streamed request: iterate the Stream for events, then call ``response()``."""
        core = self._core
        built = core.build_request(request, overrides)
        prepared = core.prepare(built, stream=True, timeout=timeout, max_retries=max_retries)
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
        core = self._core
        retries = 0
        while True:
            try:
                timeout = _remaining(prepared)
                with self._transport.open(
                    prepared.method,
                    prepared.url,
                    content=prepared.content,
                    headers=prepared.headers,
                    params=prepared.params,
                    timeout=timeout,
                ) as body:
                    content = body.read()
                    if body.status_code < 300:
                        return body.status_code, body.headers, content
                    raise core.error_for(body.status_code, body.headers, content)
            except LLMXError as error:
                delay = core.retry_delay(error, retries, prepared)
                if delay is None:
                    raise core.give_up(error, retries, None) from error.__cause__
                retries += 1
                time.sleep(delay)

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


def _remaining(prepared: Prepared) -> Timeout:
    """The timeout for the next attempt, with reads capped by what is left of the deadline."""
    if prepared.deadline is None:
        return prepared.timeout
    left = max(prepared.deadline - time.monotonic(), 0.001)
    timeout = prepared.timeout
    return timeout.model_copy(
        update={
            "read": min(timeout.read or left, left),
            "connect": min(timeout.connect or left, left),
        }
    )


class Stream:
    """Events of one streamed response. Iterate it (once), then ``response()``.

    Use it as a context manager, or iterate it to the end, so the connection is released; it is
    also released when the stream is garbage-collected.
    """

    def __init__(self, core: ClientCore, transport: SyncTransport, prepared: Prepared) -> None:
        self._core = core
        self._transport = transport
        self._prepared = prepared
        self._events: Iterator[Event] | None = None
        self._state: StreamState | None = None
        self._final: Response | None = None

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
        if self._events is None:
            self._events = self._run()
        return next(self._events)

    def text_stream(self) -> Iterator[str]:
        """Only the text deltas."""
        for event in self:
            if event.type is EventType.TEXT_DELTA:
                yield event.delta  # type: ignore[union-attr]

    def response(self) -> Response:
        """The accumulated Response; reads the rest of the stream first if needed."""
        for _ in self:
            pass
        assert self._final is not None
        return self._final

    @property
    def partial(self) -> Response | None:
        """What has arrived so far."""
        return self._state.response() if self._state is not None else None

    def close(self) -> None:
        """Stop reading and release the connection."""
        if self._events is None:
            self._events = iter(())
        else:
            self._events.close()  # type: ignore[attr-defined]

    def _run(self) -> Iterator[Event]:
        core, prepared = self._core, self._prepared
        retries = 0
        provider = core.settings.provider
        timeout = prepared.timeout
        timed = bool(timeout.first_event or timeout.idle or prepared.deadline)
        while True:
            state: StreamState | None = None
            try:
                with self._transport.open(
                    prepared.method,
                    prepared.url,
                    content=prepared.content,
                    headers=prepared.headers,
                    params=prepared.params,
                    timeout=_remaining(prepared),
                ) as body:
                    if body.status_code >= 300:
                        raise core.error_for(body.status_code, body.headers, body.read())
                    if body.headers.get("content-type", "").startswith("application/json"):
                        response = core.parse(
                            body.status_code, body.headers, body.read(), prepared.request
                        )
                        self._final = response
                        yield from events_from_response(response)
                        return
                    state = self._state = StreamState(core, prepared.request, body.headers)
                    started = last = time.monotonic()
                    for chunk in body.iter_bytes():
                        events = state.feed(chunk)
                        if timed:
                            if events:
                                last = time.monotonic()
                            check_timing(
                                started,
                                last,
                                state.events_seen > 0,
                                timeout,
                                prepared.deadline,
                                provider,
                            )
                        yield from events
                    yield from state.close()
                    self._final = state.response()
                    return
            except LLMXError as error:
                delay = core.stream_retry_delay(error, retries, prepared, state)
                if delay is None:
                    raise core.give_up(error, retries, state) from error.__cause__
                retries += 1
                time.sleep(delay)

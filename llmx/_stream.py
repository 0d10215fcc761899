"""The decoding state of one stream: framing, the adapter's decoder and the accumulator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ._errors import ConnectError, LLMXError, StreamError
from ._events import Accumulator, Event
from ._ndjson import NDJSONDecoder
from ._sse import ServerSentEvent, SSEDecoder
from ._types import Request, Response

if TYPE_CHECKING:
    from ._core import ClientCore

__all__ = ["Outcome", "StreamState"]

_DECODER_BUGS = (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError)
_KEEPALIVE_DATA = frozenset({"keep-alive", "keepalive", "ping", "heartbeat"})


def _keepalive(data: str) -> bool:
    """``data: keep-alive`` and ``data: : COMMENT`` lines some gateways send: not events."""
    text = data.strip()
    return text.startswith(":") or (len(text) <= 16 and text.lower() in _KEEPALIVE_DATA)


class Outcome:
    """What a stream's loop leaves behind for its Stream object: the decoding state of the
    current attempt and the final Response. (The loop holds this, not the Stream, so a Stream
    that is dropped is collected at once and its connection closed.)"""

    __slots__ = ("state", "final", "error")

    def __init__(self) -> None:
        self.state: StreamState | None = None
        self.final: Response | None = None
        self.error: LLMXError | None = None

    def result(self) -> Response:
        """The final Response; the stream's error if it failed."""
        if self.final is not None:
            return self.final
        if self.error is not None:
            raise self.error
        raise StreamError(
            "the stream was closed before it finished; its output so far is in .partial"
        )

    def partial(self) -> Response | None:
        if self.state is not None:
            return self.state.response()
        return self.final


class StreamState:
    """Decoding state of one stream: framing, the adapter's decoder, and the accumulator."""

    __slots__ = (
        "_frames",
        "_ndjson",
        "_decoder",
        "accumulator",
        "_core",
        "_headers",
        "events_seen",
        "finished",
    )

    def __init__(self, core: ClientCore, request: Request, headers: Mapping[str, str]) -> None:
        self._core = core
        self._headers = headers
        limit = core.settings.max_event_bytes
        ndjson = core.adapter.spec.framing == "ndjson"
        self._ndjson = NDJSONDecoder(max_line_bytes=limit) if ndjson else None
        self._frames = (
            None if ndjson else SSEDecoder(max_line_bytes=limit + 64, max_event_bytes=limit)
        )
        self._decoder = core.adapter.stream_decoder(request)
        self.accumulator = Accumulator()
        self.events_seen = 0
        self.finished = False
        """The finish event was decoded: the loop stops reading."""

    def feed(self, chunk: bytes) -> list[Event]:
        out: list[Event] = []
        add = self.accumulator.add
        decode = self._decoder.feed
        try:
            if self._frames is not None:
                frames = self._frames.feed(chunk)
            else:
                assert self._ndjson is not None
                frames = [ServerSentEvent(data=line) for line in self._ndjson.feed(chunk)]
            for frame in frames:
                data = frame.data
                if data and data[0] not in "{[" and _keepalive(data):
                    continue
                for event in decode(frame):
                    add(event)
                    out.append(event)
        except LLMXError as error:
            if error.provider is None:  # from the framing: name the provider and the setting
                provider = error.provider = self._core.settings.provider
                error.message = f"{provider}: {error.message}"
                if "exceeded max_" in error.message:
                    error.message += "; the client setting max_event_bytes raises the limit"
                error.args = (error.message,)
            raise
        except _DECODER_BUGS as exc:
            raise self._malformed(exc) from None
        if out:
            self.events_seen += len(out)
            self.finished = self.accumulator.finished
        return out

    def _malformed(self, exc: BaseException) -> StreamError:
        provider = self._core.settings.provider
        return StreamError(
            f"{provider}: a stream event could not be decoded ({type(exc).__name__}: "
            f"{str(exc)[:200]})",
            provider=provider,
        )

    def close(self) -> list[Event]:
        out: list[Event] = []
        try:
            if self._frames is not None:
                frames = self._frames.close()
            else:
                assert self._ndjson is not None
                frames = [ServerSentEvent(data=line) for line in self._ndjson.close()]
            for frame in frames:
                out.extend(self._decoder.feed(frame))
            out.extend(self._decoder.close())
        except _DECODER_BUGS as exc:
            raise self._malformed(exc) from None
        for event in out:
            self.accumulator.add(event)
        if not self.accumulator.finished:
            provider = self._core.settings.provider
            raise StreamError(
                f"{provider}: the stream ended before its finish event (connection closed early?)",
                provider=provider,
            )
        self.finished = True
        return out

    def response(self) -> Response:
        return self._core.finish(self.accumulator.response(), self._headers)

    def fail(self, error: LLMXError) -> LLMXError:
        """The error to raise for a stream that broke: a connection that broke after events
        arrived is a StreamError; either way it carries the partial output."""
        if self.events_seen and type(error) is ConnectError:
            broken = StreamError(error.message, provider=error.provider)
            broken.__dict__.update(error.__dict__)
            error = broken
        error.partial = self.response()
        if error.request_id is None:
            error.request_id = self._core.request_id(self._headers)
        return error

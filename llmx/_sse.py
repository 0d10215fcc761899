"""Sans-IO Server-Sent-Events decoder (WHATWG EventSource parsing rules).

Feed it raw bytes as they arrive; it returns the events completed so far. Lines are split on
bytes (CR, LF and CRLF are ASCII and never occur inside a multi-byte UTF-8 sequence) and each
value is decoded only once its line is complete. That does what an incremental decoder would:
a character split across chunks decodes exactly as if the stream had arrived whole, and invalid
UTF-8 becomes U+FFFD. The common chunk shape, whole ``data: {...}\\n\\n`` blocks with LF
endings and nothing buffered, takes a short path: a few bytes scans per chunk and one
``decode`` per event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import NoReturn

from ._errors import StreamError

__all__ = ["SSEDecoder", "ServerSentEvent"]

_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched event."""

    event: str = "message"
    """The event type; ``"message"`` when the block had no (or an empty) ``event:`` field."""
    data: str = ""
    """The ``data:`` lines of the block joined with ``"\\n"``."""
    id: str = ""
    """The last event ID in effect when the event was dispatched (``""`` if none)."""
    retry: int | None = None
    """The ``retry:`` value in milliseconds if the block set one, else None."""


def _event_factory() -> Callable[[str, str, str, int | None], ServerSentEvent]:
    # A frozen dataclass's __init__ sets each field through object.__setattr__; calling the
    # slot descriptors directly builds an identical instance in about 60% of the time.
    assert [f.name for f in fields(ServerSentEvent)] == ["event", "data", "id", "retry"]
    new = object.__new__
    slots = vars(ServerSentEvent)
    set_event, set_data = slots["event"].__set__, slots["data"].__set__
    set_id, set_retry = slots["id"].__set__, slots["retry"].__set__

    def make(event: str, data: str, id: str, retry: int | None) -> ServerSentEvent:
        self = new(ServerSentEvent)
        set_event(self, event)
        set_data(self, data)
        set_id(self, id)
        set_retry(self, retry)
        return self

    return make


_make_event = _event_factory()


class SSEDecoder:
    """Incremental SSE parser: ``feed()`` bytes, get :class:`ServerSentEvent` objects back.

    Any chunking of the same bytes yields the same events. A line longer than
    ``max_line_bytes`` or an event whose data exceeds ``max_event_bytes`` raises
    :class:`~llmx.StreamError`; nothing else is raised for any input.
    """

    __slots__ = (
        "_at_start",
        "_buf",
        "_data",
        "_event",
        "_fast_max",
        "_idle",
        "_last_id",
        "_max_event",
        "_max_line",
        "_open",
        "_retry",
        "_size",
        "_skip_lf",
    )

    def __init__(
        self, *, max_line_bytes: int = 4 * 1024 * 1024, max_event_bytes: int = 16 * 1024 * 1024
    ) -> None:
        self._max_line = max_line_bytes
        self._max_event = max_event_bytes
        self._buf = bytearray()  # the incomplete last line
        self._at_start = True  # no line completed yet: a leading BOM may still be arriving
        self._skip_lf = False  # the last chunk ended in CR: a leading LF is part of that CRLF
        self._data: list[bytes] = []  # data values of the current block
        self._size = 0  # bytes in _data, counting the joining newlines
        self._event = b""
        self._retry: int | None = None
        self._last_id = ""
        self._open = False  # a non-data field line was seen in the current block
        self._idle = False  # none of the above is pending: feed() may take its fast path
        self._fast_max = min(max_line_bytes, max_event_bytes)  # fast-path chunks fit both limits

    @property
    def pending(self) -> bool:
        """True while part of a line or of an event block is buffered (a cut stream)."""
        return bool(self._buf or self._data or self._open)

    def close(self) -> list[ServerSentEvent]:
        """End of stream. Per WHATWG an unterminated event is discarded, so this returns [].

        ``pending`` keeps telling whether something was discarded.
        """
        return []

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Parse the next bytes of the stream and return the events they complete."""
        # Fast path: nothing buffered and the chunk is whole "data: ...\n\n" blocks, LF only.
        if (
            self._idle
            and chunk[:6] == b"data: "
            and chunk[-2:] == b"\n\n"
            and len(chunk) <= self._fast_max
            and b"\r" not in chunk
        ):
            body = chunk[6:-2]
            if b"\n" not in body:
                return [
                    _make_event("message", body.decode("utf-8", "replace"), self._last_id, None)
                ]
            blocks = body.split(b"\n\ndata: ")
            if body.count(b"\n") == 2 * len(blocks) - 2:  # every LF is in a block separator
                last_id = self._last_id
                return [
                    _make_event("message", b.decode("utf-8", "replace"), last_id, None)
                    for b in blocks
                ]
        return self._feed(chunk)

    def _feed(self, chunk: bytes) -> list[ServerSentEvent]:
        self._idle = False
        if self._skip_lf and chunk:
            self._skip_lf = False
            if chunk[0] == 0x0A:
                chunk = chunk[1:]
        buf = self._buf
        has_cr = b"\r" in chunk
        if not has_cr and b"\n" not in chunk:
            buf += chunk
            size = len(buf)
            if self._at_start:
                if size < 3 and _BOM.startswith(buf):
                    return []  # maybe the start of a BOM; decide once more bytes arrive
                if buf.startswith(_BOM):
                    size -= 3
            if size > self._max_line:
                self._line_too_long(size)
            return []
        if buf:
            buf += chunk
            chunk = bytes(buf)
            buf.clear()
        if self._at_start:
            self._at_start = False
            if chunk.startswith(_BOM):
                chunk = chunk[3:]
        if has_cr:
            self._skip_lf = chunk.endswith(b"\r")
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = chunk.split(b"\n")
        tail = lines.pop()
        if len(chunk) > self._max_line:
            longest = max(len(tail), *map(len, lines))
            if longest > self._max_line:
                self._line_too_long(longest)
        if tail:
            buf += tail
        events = self._lines(lines)
        self._idle = not (buf or self._data or self._open or self._skip_lf)
        return events

    def _lines(self, lines: list[bytes]) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        data = self._data
        for line in lines:
            if line[:5] == b"data:":
                value = line[6:] if line[5:6] == b" " else line[5:]
                data.append(value)
                self._size += len(value) + 1
                if self._size > self._max_event:
                    self._event_too_big()
            elif not line:
                if data:
                    events.append(
                        _make_event(
                            self._event.decode("utf-8", "replace") if self._event else "message",
                            b"\n".join(data).decode("utf-8", "replace"),
                            self._last_id,
                            self._retry,
                        )
                    )
                    data.clear()
                    self._size = 0
                self._event = b""
                self._retry = None
                self._open = False
            elif line[0] != 0x3A:  # not a comment
                self._field(line)
        return events

    def _field(self, line: bytes) -> None:
        name, colon, value = line.partition(b":")
        if colon and value[:1] == b" ":
            value = value[1:]
        if name == b"data":  # "data" without a colon; "data:..." never gets here
            self._data.append(value)
            self._size += len(value) + 1
            if self._size > self._max_event:
                self._event_too_big()
            return
        self._open = True
        if name == b"event":
            self._event = value
        elif name == b"id":
            if b"\x00" not in value:
                self._last_id = value.decode("utf-8", "replace")
        elif name == b"error" and not self._data:
            # Not WHATWG: llama.cpp servers (2025) send `error: {json}` instead of
            # `event: error` + `data:`. Read it as that pair so the error is not lost.
            self._event = b"error"
            self._data.append(value)
            self._size += len(value) + 1
        elif name == b"retry" and value.isdigit():  # bytes.isdigit(): ASCII digits only
            try:
                self._retry = int(value.lstrip(b"0") or b"0")
            except ValueError:  # more digits than int() may parse: no usable delay
                pass

    def _line_too_long(self, size: int) -> NoReturn:
        raise StreamError(
            f"SSE line exceeded max_line_bytes={self._max_line} (reached {size} bytes "
            "without a line break)"
        )

    def _event_too_big(self) -> NoReturn:
        raise StreamError(
            f"SSE event exceeded max_event_bytes={self._max_event} (its data reached "
            f"{self._size} bytes)"
        )

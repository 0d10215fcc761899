"""Recorded requests and fault options (transport misbehaviour applied to a reply)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

__all__ = ["FaultOptions", "Faults", "RecordedRequest"]


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request as the emulator received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any
    query: str = ""
    received_at: float = 0.0  # time.monotonic() when the request was complete

    @property
    def is_chat(self) -> bool:
        return self.method == "POST" and self.path.endswith("/chat/completions")


class FaultOptions(TypedDict, total=False):
    """Keyword options accepted by every ``Reply`` constructor and ``Reply.with_faults``.

    "Units" are SSE events (or list items of ``Reply.raw``) on chunked/streamed responses and
    body *bytes* on ``Content-Length`` responses.

    - ``delay``: seconds before the status line (the client sees nothing meanwhile).
    - ``headers``: extra response headers, e.g. ``retry-after``, ``retry-after-ms``,
      ``x-should-retry``; a ``None`` value removes a default header (``x-request-id``,
      ``x-ratelimit-*``...). A ``content-length`` here is sent as-is (can lie).
    - ``stall_after``: send N units then hang, connection open, until the client leaves or the
      emulator stops.
    - ``disconnect_after``: send N units then close without finishing the HTTP message.
    - ``reset``: with ``disconnect_after`` or ``Reply.drop``: TCP RST instead of FIN.
    - ``trickle``: seconds between writes (units, or ``split_bytes`` pieces).
    - ``keepalive``: during stalls/trickle pauses of an SSE body, send ``: keep-alive``
      comments at this interval.
    - ``malformed_after``: SSE: insert a non-JSON ``data:`` line after N events (the rest
      follows). JSON: cut the body to N bytes (consistent ``Content-Length``).
    - ``omit_done``: end the SSE body cleanly but without ``data: [DONE]``.
    - ``content_type``: override the header; ``application/json`` /
      ``text/event-stream`` also choose how completions are rendered.
    - ``split_bytes``: write the body in K-byte pieces (one HTTP chunk each when streamed).
    - ``stream``: force SSE (True) or JSON (False) rendering whatever the request asked.
    """

    delay: float
    headers: Mapping[str, str | None]
    stall_after: int
    disconnect_after: int
    reset: bool
    trickle: float
    keepalive: float
    malformed_after: int
    omit_done: bool
    content_type: str
    split_bytes: int
    stream: bool


@dataclass(frozen=True)
class Faults:
    """Transport-level behaviour applied while a reply is written (see ``FaultOptions``)."""

    delay: float = 0.0
    headers: tuple[tuple[str, str | None], ...] = ()
    stall_after: int | None = None
    disconnect_after: int | None = None
    reset: bool = False
    trickle: float = 0.0
    keepalive: float | None = None
    malformed_after: int | None = None
    omit_done: bool = False
    content_type: str | None = None
    split_bytes: int | None = None
    stream: bool | None = None

    def merged(self, options: FaultOptions) -> Faults:
        values: dict[str, Any] = dict(options)
        unknown = set(values) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise TypeError(f"unknown fault option(s): {', '.join(sorted(unknown))}")
        if "headers" in values:
            extra = tuple((k.lower(), v) for k, v in values["headers"].items())
            values["headers"] = self.headers + extra
        for name in ("stall_after", "disconnect_after", "malformed_after", "split_bytes"):
            value = values.get(name)
            if value is not None and (value < 0 or (name == "split_bytes" and value < 1)):
                raise ValueError(f"{name} must be {'>= 1' if name == 'split_bytes' else '>= 0'}")
        return dataclasses.replace(self, **values)

"""Scripted replies: immutable descriptions of what the emulator answers to one request."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from ._faults import FaultOptions, Faults, RecordedRequest
from ._groq import dumps

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["Faults", "FaultOptions", "RecordedRequest", "Reply"]


# --- specs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: str  # JSON text, sent verbatim
    id: str | None = None


@dataclass(frozen=True)
class TextSpec:
    text: str
    reasoning: str | None = None
    model: str | None = None
    usage: tuple[tuple[str, Any], ...] | None = None
    finish_reason: str = "stop"
    chunk_size: int | None = None


@dataclass(frozen=True)
class ToolCallsSpec:
    calls: tuple[ToolCall, ...]
    text: str | None = None
    reasoning: str | None = None
    model: str | None = None
    usage: tuple[tuple[str, Any], ...] | None = None
    fragmented: bool = False
    fragment_size: int = 8


@dataclass(frozen=True)
class ErrorSpec:
    status: int
    message: str | None = None
    type: str | None = None
    code: str | None = None
    extra: tuple[tuple[str, Any], ...] = ()
    body: bytes | None = None


@dataclass(frozen=True)
class StreamErrorSpec:
    after_events: int
    message: str
    code: str | None
    type: str
    status_code: int
    failed_generation: str | None
    text: str | None
    model: str | None


@dataclass(frozen=True)
class RawSpec:
    status: int
    parts: tuple[bytes, ...]
    chunked: bool
    default_content_type: str


@dataclass(frozen=True)
class SseSpec:
    status: int
    events: tuple[bytes, ...]


@dataclass(frozen=True)
class HandlerSpec:
    fn: Callable[[RecordedRequest], Reply]


@dataclass(frozen=True)
class DefaultSpec:
    pass


@dataclass(frozen=True)
class DropSpec:
    pass


@dataclass(frozen=True)
class WireSpec:
    data: tuple[bytes, ...]


Spec: TypeAlias = (
    TextSpec
    | ToolCallsSpec
    | ErrorSpec
    | StreamErrorSpec
    | RawSpec
    | SseSpec
    | HandlerSpec
    | DefaultSpec
    | DropSpec
    | WireSpec
)

_EVENT_SPLIT = re.compile(rb"(?<=\n\n)|(?<=\r\r)|(?<=\r\n\r\n)")


def _usage(usage: Mapping[str, Any] | None) -> tuple[tuple[str, Any], ...] | None:
    return None if usage is None else tuple(usage.items())


def _event_bytes(event: str | bytes | Mapping[str, Any]) -> bytes:
    if isinstance(event, Mapping):
        return f"data: {dumps(dict(event))}\n\n".encode()
    data = event.encode() if isinstance(event, str) else event
    if data.strip() == b"[DONE]":
        return b"data: [DONE]\n\n"
    return data if data.endswith((b"\n", b"\r")) else data + b"\n\n"


@dataclass(frozen=True)
class Reply:
    """What the emulator answers to one chat request. Build with the class methods.

    Every constructor accepts fault options (``FaultOptions``): ``delay``, ``headers``,
    ``stall_after``, ``disconnect_after``, ``reset``, ``trickle``, ``keepalive``,
    ``malformed_after``, ``omit_done``, ``content_type``, ``split_bytes``, ``stream``.
    """

    spec: Spec
    faults: Faults = field(default_factory=Faults)

    def with_faults(self, **options: Unpack[FaultOptions]) -> Reply:
        """A copy with more fault options (headers are added to the existing ones)."""
        return Reply(self.spec, self.faults.merged(options))

    @staticmethod
    def _make(spec: Spec, options: FaultOptions) -> Reply:
        return Reply(spec, Faults().merged(options))

    @classmethod
    def text(
        cls,
        text: str,
        *,
        reasoning: str | None = None,
        model: str | None = None,
        usage: Mapping[str, Any] | None = None,
        finish_reason: str = "stop",
        chunk_size: int | None = None,
        **faults: Unpack[FaultOptions],
    ) -> Reply:
        """A normal completion (JSON, or SSE when the request has ``"stream": true``)."""
        if chunk_size is not None and chunk_size < 1:
            raise ValueError("chunk_size must be >= 1")
        spec = TextSpec(text, reasoning, model, _usage(usage), finish_reason, chunk_size)
        return cls._make(spec, faults)

    @classmethod
    def tool_calls(
        cls,
        calls: Sequence[Mapping[str, Any]],
        *,
        text: str | None = None,
        reasoning: str | None = None,
        model: str | None = None,
        usage: Mapping[str, Any] | None = None,
        fragmented: bool = False,
        fragment_size: int = 8,
        **faults: Unpack[FaultOptions],
    ) -> Reply:
        """``finish_reason: "tool_calls"``. Each call: ``{"name", "arguments", "id"?}``;
        ``arguments`` is a dict (JSON-encoded) or a string sent verbatim (may be invalid)."""
        parsed: list[ToolCall] = []
        for call in calls:
            args = call.get("arguments", {})
            args_text = args if isinstance(args, str) else dumps(args)
            parsed.append(ToolCall(str(call["name"]), args_text, call.get("id")))
        spec = ToolCallsSpec(
            tuple(parsed), text, reasoning, model, _usage(usage), fragmented, max(1, fragment_size)
        )
        return cls._make(spec, faults)

    @classmethod
    def error(
        cls,
        status: int,
        *,
        message: str | None = None,
        type: str | None = None,
        code: str | None = None,
        failed_generation: str | None = None,
        param: str | None = None,
        body: str | bytes | Mapping[str, Any] | None = None,
        **faults: Unpack[FaultOptions],
    ) -> Reply:
        """An HTTP error with Groq's body ``{"error": {"message", "type", "code"}}``.

        Defaults per status mimic Groq (401 invalid_api_key, 404 model_not_found, 429/413
        rate_limit_exceeded, 498 capacity_exceeded). ``body`` replaces the JSON entirely:
        a string/bytes (e.g. an HTML page; content type guessed) or a mapping."""
        raw: bytes | None
        if body is None:
            raw = None
        elif isinstance(body, Mapping):
            raw = dumps(dict(body)).encode()
        else:
            raw = body.encode() if isinstance(body, str) else bytes(body)
        extra = (("failed_generation", failed_generation), ("param", param))
        spec = ErrorSpec(status, message, type, code, extra, raw)
        return cls._make(spec, faults)

    @classmethod
    def stream_error(
        cls,
        after_events: int = 1,
        *,
        message: str = "Tool choice is required, but model did not call a tool",
        code: str | None = "tool_use_failed",
        type: str = "invalid_request_error",
        status_code: int = 400,
        failed_generation: str | None = None,
        text: str | None = None,
        model: str | None = None,
        **faults: Unpack[FaultOptions],
    ) -> Reply:
        """HTTP 200 SSE: ``after_events`` data events (role chunk first, then content deltas of
        ``text``), then ``event: error`` with ``status_code``; no ``[DONE]``. A non-streaming
        request gets the same error as a plain HTTP ``status_code`` response."""
        if after_events < 0:
            raise ValueError("after_events must be >= 0")
        spec = StreamErrorSpec(
            after_events, message, code, type, status_code, failed_generation, text, model
        )
        return cls._make(spec, faults)

    @classmethod
    def raw(
        cls, status: int, body: bytes | str | Sequence[bytes], **faults: Unpack[FaultOptions]
    ) -> Reply:
        """Exact body bytes (``Content-Length``); a list is written as separate chunks with
        ``Transfer-Encoding: chunked``. Content type: ``content_type=`` (default JSON)."""
        if isinstance(body, str):
            body = body.encode()
        if isinstance(body, bytes):
            spec = RawSpec(status, (body,), False, "application/json")
        else:
            spec = RawSpec(status, tuple(bytes(p) for p in body), True, "application/json")
        return cls._make(spec, faults)

    @classmethod
    def json(
        cls,
        body: Mapping[str, Any] | Sequence[Any],
        status: int = 200,
        **faults: Unpack[FaultOptions],
    ) -> Reply:
        """Any JSON value as the body (compact encoding)."""
        payload = dumps(body if isinstance(body, Sequence) else dict(body)).encode()
        return cls._make(RawSpec(status, (payload,), False, "application/json"), faults)

    @classmethod
    def sse(
        cls,
        events: Iterable[str | bytes | Mapping[str, Any]],
        *,
        status: int = 200,
        **faults: Unpack[FaultOptions],
    ) -> Reply:
        """Verbatim SSE. A mapping becomes ``data: <json>``; ``"[DONE]"`` becomes
        ``data: [DONE]``; text not ending in a newline gets the blank line appended; text
        ending in a newline is sent exactly. No ``[DONE]`` is added for you."""
        return cls._make(SseSpec(status, tuple(_event_bytes(e) for e in events)), faults)

    @classmethod
    def sse_file(
        cls, path: str | os.PathLike[str], *, status: int = 200, **faults: Unpack[FaultOptions]
    ) -> Reply:
        """Replay a recorded ``.sse`` transcript byte for byte (split into events on blank
        lines, so ``stall_after`` etc. count recorded events). Read when called."""
        with open(path, "rb") as fh:
            data = fh.read()
        events = tuple(e for e in _EVENT_SPLIT.split(data) if e)
        return cls._make(SseSpec(status, events), faults)

    @classmethod
    def json_file(
        cls,
        path: str | os.PathLike[str],
        *,
        status: int | None = None,
        **faults: Unpack[FaultOptions],
    ) -> Reply:
        """Replay a JSON body. Accepts a bare body, ``{"status", "body"}`` or a recording with
        ``{"response": {"status", "body"}}`` (the fixture layout)."""
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
        file_status, body = 200, doc
        if isinstance(doc, dict):
            holder = doc.get("response") if isinstance(doc.get("response"), dict) else doc
            if isinstance(holder, dict) and "body" in holder:
                file_status, body = int(holder.get("status", 200)), holder["body"]
        payload = dumps(body).encode()
        spec = RawSpec(status or file_status, (payload,), False, "application/json")
        return cls._make(spec, faults)

    @classmethod
    def handler(cls, fn: Callable[[RecordedRequest], Reply]) -> Reply:
        """Decide per request: ``fn(request) -> Reply`` (runs in a worker thread)."""
        return Reply(HandlerSpec(fn))

    @classmethod
    def default(cls, **faults: Unpack[FaultOptions]) -> Reply:
        """The built-in deterministic responder, optionally with faults."""
        return cls._make(DefaultSpec(), faults)

    @classmethod
    def drop(cls, **faults: Unpack[FaultOptions]) -> Reply:
        """Close the connection without answering (after ``delay``); ``reset=True`` sends a
        TCP RST instead of a FIN."""
        return cls._make(DropSpec(), faults)

    @classmethod
    def wire(cls, data: bytes | Sequence[bytes], **faults: Unpack[FaultOptions]) -> Reply:
        """Write these bytes to the socket as-is (no status line or framing), then close;
        for garbage status lines or broken chunked encoding."""
        parts = (data,) if isinstance(data, bytes) else tuple(data)
        return cls._make(WireSpec(parts), faults)

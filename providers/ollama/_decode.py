"""Ollama ``/api/chat`` NDJSON lines (and whole responses) -> llmx events."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from llmx import (
    Event,
    Finish,
    FinishReason,
    ProviderError,
    ResponseStart,
    Usage,
    UsageEvent,
)
from llmx.adapter import (
    PartTracker,
    ServerSentEvent,
    ThinkTagSplitter,
    error_from_status,
    stream_error,
)

__all__ = ["LineDecoder", "call_id", "finish_reason", "parse_usage", "stream_failure"]

NAME = "ollama"

_REASONS = {
    "stop": FinishReason.STOP,
    "length": FinishReason.LENGTH,
    "load": FinishReason.OTHER,
    "unload": FinishReason.OTHER,
}
_DURATIONS = ("total_duration", "load_duration", "prompt_eval_duration", "eval_duration")


def finish_reason(raw: str | None, has_tool_calls: bool) -> FinishReason:
    """Normalize ``done_reason``; Ollama says ``stop`` even when the model called tools."""
    if has_tool_calls and raw in (None, "stop"):
        return FinishReason.TOOL_CALLS
    return _REASONS.get(raw or "", FinishReason.OTHER)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _seconds(value: Any) -> float | None:
    nanos = _int(value)
    return nanos / 1e9 if nanos is not None else None


def parse_usage(line: dict[str, Any]) -> Usage | None:
    """Token counts and timings (ns on the wire, seconds here) of a ``done`` line, if any."""
    prompt = _int(line.get("prompt_eval_count"))
    completion = _int(line.get("eval_count"))
    if prompt is None and completion is None and _int(line.get("total_duration")) is None:
        return None
    prompt, completion = prompt or 0, completion or 0
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=prompt + completion,
        prompt_time=_seconds(line.get("prompt_eval_duration")),
        completion_time=_seconds(line.get("eval_duration")),
        total_time=_seconds(line.get("total_duration")),
    )


def _metadata(line: dict[str, Any]) -> dict[str, Any] | None:
    found = {name: line[name] for name in _DURATIONS if _int(line.get(name)) is not None}
    if line.get("created_at"):
        found["created_at"] = line["created_at"]
    return {NAME: found} if found else None


def call_id(call: dict[str, Any], position: int, name: str, raw_arguments: str) -> str:
    """The call's own id, or one derived from its position, name and arguments, so the
    streamed and the non-streamed reply give the same id (same shape as Ollama's own)."""
    given = call.get("id")
    if isinstance(given, str) and given:
        return given
    digest = hashlib.sha256(f"{position}\0{name}\0{raw_arguments}".encode()).hexdigest()
    return f"call_{digest[:8]}"


def stream_failure(error: Any, body: Any, status: int = 500) -> ProviderError:
    """The typed error for an in-stream ``{"error": ...}`` line (the HTTP status was 200)."""
    if isinstance(error, dict):
        error = error.get("message") or json.dumps(error)[:300]
    return error_from_status(NAME, status, str(error), body=body)


class LineDecoder:
    """Stream decoder for ``/api/chat`` lines (one instance per stream or response)."""

    __slots__ = (
        "_parts",
        "_think",
        "_hide",
        "_warnings",
        "_started",
        "_done",
        "_calls",
    )

    def __init__(self, warnings: list[str], *, split_think: bool, hide_reasoning: bool) -> None:
        self._parts = PartTracker()
        self._think = ThinkTagSplitter() if split_think else None
        self._hide = hide_reasoning
        self._warnings = tuple(warnings)
        self._started = False
        self._done = False
        self._calls = 0

    def feed(self, frame: ServerSentEvent) -> list[Event]:
        if self._done:
            return []
        return self.line(_parse(frame.data))

    def line(self, line: dict[str, Any]) -> list[Event]:
        """Events for one decoded line (or a whole non-streamed response)."""
        if "error" in line:
            raise stream_failure(line["error"], line)
        out: list[Event] = []
        if not self._started:
            self._started = True
            model = line.get("model")
            model = model if isinstance(model, str) else None
            out.append(ResponseStart(None, model, NAME, self._warnings))
        message = line.get("message")
        if isinstance(message, dict):
            self._message(message, out)
        if line.get("done") is True:
            self._finish(line, out)
        return out

    def _message(self, message: dict[str, Any], out: list[Event]) -> None:
        thinking = message.get("thinking")
        if thinking and isinstance(thinking, str):
            self._reasoning(thinking, out)
        content = message.get("content")
        if content and isinstance(content, str):
            if self._think is None:
                self._parts.text(content, out)
            else:
                for is_reasoning, piece in self._think.feed(content):
                    self._piece(is_reasoning, piece, out)
        calls = message.get("tool_calls")
        if isinstance(calls, list):
            for call in calls:
                if isinstance(call, dict):
                    self._tool_call(call, out)

    def _reasoning(self, text: str, out: list[Event]) -> None:
        if not self._hide:
            self._parts.reasoning(text, out)

    def _piece(self, is_reasoning: bool, text: str, out: list[Event]) -> None:
        if is_reasoning:
            self._reasoning(text, out)
        else:
            self._parts.text(text, out)

    def _tool_call(self, call: dict[str, Any], out: list[Event]) -> None:
        function = call.get("function")
        function = function if isinstance(function, dict) else {}
        name = str(function.get("name") or "")
        arguments = function.get("arguments")
        if isinstance(arguments, str):  # a JSON string, as some proxies send
            raw = arguments
        else:
            raw = "" if arguments is None else json.dumps(arguments, ensure_ascii=False)
        position = self._calls
        self._calls += 1
        parts = self._parts
        parts.start_tool(position, call_id(call, position, name, raw), name, out)
        parts.tool_arguments(position, raw, out)
        parts.end_tool(position, out)

    def _finish(self, line: dict[str, Any], out: list[Event]) -> None:
        self._done = True
        if self._think is not None:
            for is_reasoning, piece in self._think.close():
                self._piece(is_reasoning, piece, out)
        self._parts.end_all(out)
        usage = parse_usage(line)
        if usage is not None:
            out.append(UsageEvent(usage))
        raw = line.get("done_reason")
        raw = raw if isinstance(raw, str) and raw else None
        out.append(Finish(finish_reason(raw, self._calls > 0), raw, usage, _metadata(line)))

    def close(self) -> list[Event]:
        if not self._done:
            raise stream_error(
                "the reply ended without its final done:true line (connection closed early?)",
                provider=NAME,
            )
        return []


def _parse(data: str) -> dict[str, Any]:
    try:
        line = json.loads(data)
    except ValueError:
        raise stream_error(f"a line is not JSON: {data[:120]!r}", provider=NAME) from None
    if type(line) is not dict:
        raise stream_error(f"a line is not a JSON object: {data[:120]!r}", provider=NAME)
    return line

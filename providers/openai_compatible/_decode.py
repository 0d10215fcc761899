"""Chat-completions responses and SSE chunks -> llmx Responses and events."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from llmx import (
    Event,
    Finish,
    FinishReason,
    Message,
    Response,
    ResponseStart,
    ToolCall,
    Usage,
    UsageEvent,
)
from llmx.adapter import PartTracker, ServerSentEvent, ThinkTagSplitter, stream_error

if TYPE_CHECKING:
    from ._adapter import OpenAICompatibleAdapter

__all__ = ["ChunkDecoder", "finish_reason", "parse_usage", "response_from_body"]

_REASONS = {
    "stop": FinishReason.STOP,
    "end_turn": FinishReason.STOP,
    "eos": FinishReason.STOP,
    "length": FinishReason.LENGTH,
    "max_tokens": FinishReason.LENGTH,
    "tool_calls": FinishReason.TOOL_CALLS,
    "function_call": FinishReason.TOOL_CALLS,
    "content_filter": FinishReason.CONTENT_FILTER,
    "error": FinishReason.ERROR,
}


def finish_reason(raw: str | None, has_tool_calls: bool) -> FinishReason:
    """Normalize; a plain ``stop`` that carried tool calls (Ollama, some servers) is tool_calls."""
    reason = _REASONS.get(raw or "", FinishReason.OTHER)
    if has_tool_calls and reason is FinishReason.STOP:
        return FinishReason.TOOL_CALLS
    return reason


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def parse_usage(raw: dict[str, Any]) -> Usage:
    """OpenAI-style usage, with cached/reasoning details and Groq's timings when present."""
    prompt = _int(raw.get("prompt_tokens")) or 0
    completion = _int(raw.get("completion_tokens")) or 0
    prompt_details = raw.get("prompt_tokens_details") or {}
    completion_details = raw.get("completion_tokens_details") or {}
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=_int(raw.get("total_tokens")) or prompt + completion,
        cached_tokens=_int(prompt_details.get("cached_tokens")),
        reasoning_tokens=_int(completion_details.get("reasoning_tokens")),
        queue_time=_float(raw.get("queue_time")),
        prompt_time=_float(raw.get("prompt_time")),
        completion_time=_float(raw.get("completion_time")),
        total_time=_float(raw.get("total_time")),
    )


def _split_think(text: str) -> tuple[str, str | None]:
    splitter = ThinkTagSplitter()
    pieces = splitter.feed(text) + splitter.close()
    reasoning = "".join(t for thinking, t in pieces if thinking)
    content = "".join(t for thinking, t in pieces if not thinking)
    return content, (reasoning if any(thinking for thinking, _ in pieces) else None)


def response_from_body(
    body: dict[str, Any], adapter: OpenAICompatibleAdapter, split_think: bool, warnings: list[str]
) -> Response:
    """A non-streaming chat completion as a Response."""
    if isinstance(body.get("error"), dict):
        raise adapter.error_from_payload(body["error"], 200, {})
    choices = body.get("choices") or []
    if not choices:
        raise stream_error("the response has no choices", provider=adapter.spec.name)
    choice = choices[0]
    message = choice.get("message") or {}
    content = message.get("content")
    if isinstance(content, list):  # some servers return parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    text = content or ""
    reasoning = adapter.reasoning_of(message)
    if split_think and text:
        text, thought = _split_think(text)
        if thought is not None:
            reasoning = (reasoning or "") + thought
    calls = [
        ToolCall.from_raw(
            call.get("id") or f"call_{i}",
            (call.get("function") or {}).get("name") or "",
            (call.get("function") or {}).get("arguments"),
        )
        for i, call in enumerate(message.get("tool_calls") or [])
    ]
    raw_reason = choice.get("finish_reason")
    usage = adapter.usage_of(body)
    return Response(
        id=body.get("id"),
        model=body.get("model"),
        provider=adapter.spec.name,
        message=Message(
            role="assistant",
            content=text if text or not calls else None,
            tool_calls=calls,
            reasoning=reasoning,
        ),
        finish_reason=finish_reason(raw_reason, bool(calls)),
        raw_finish_reason=raw_reason,
        usage=usage,
        warnings=warnings,
        provider_metadata=adapter.metadata_of(body),
        raw=body,
    )


class ChunkDecoder:
    """Stream decoder for chat-completion chunks (one instance per stream)."""

    __slots__ = (
        "_adapter",
        "_parts",
        "_think",
        "_warnings",
        "_started",
        "_raw_reason",
        "_usage",
        "_done",
        "_has_calls",
        "_last_key",
        "_metadata",
        "_name",
    )

    def __init__(
        self, adapter: OpenAICompatibleAdapter, split_think: bool, warnings: list[str]
    ) -> None:
        self._adapter = adapter
        self._name = adapter.spec.name
        self._parts = PartTracker()
        self._think = ThinkTagSplitter() if split_think else None
        self._warnings = tuple(warnings)
        self._started = False
        self._raw_reason: str | None = None
        self._usage: Usage | None = None
        self._done = False
        self._has_calls = False
        self._last_key: Any = None
        self._metadata: dict[str, Any] = {}

    def feed(self, frame: ServerSentEvent) -> list[Event]:
        data = frame.data
        if frame.event == "error":
            self._raise_error(data)
        if data[:6] == "[DONE]":
            return self._finish()
        if self._done:
            return []
        try:
            chunk = json.loads(data)
        except ValueError:
            snippet = data[:120]
            raise stream_error(
                f"a data line is not JSON: {snippet!r}", provider=self._name
            ) from None
        if type(chunk) is not dict:
            raise stream_error(
                f"a data line is not a JSON object: {data[:120]!r}", provider=self._name
            )
        if chunk.get("error"):
            self._raise_error(data)
        out: list[Event] = []
        if not self._started:
            self._started = True
            out.append(
                ResponseStart(chunk.get("id"), chunk.get("model"), self._name, self._warnings)
            )
        choices = chunk.get("choices")
        if choices:
            choice = choices[0]
            delta = choice.get("delta")
            if delta:
                self._delta(delta, out)
            reason = choice.get("finish_reason")
            if reason:
                self._raw_reason = reason
        usage = self._adapter.usage_of(chunk)
        if usage is not None:
            self._usage = usage
        self._adapter.on_chunk(chunk, self._metadata)
        return out

    def _delta(self, delta: dict[str, Any], out: list[Event]) -> None:
        parts = self._parts
        reasoning = self._adapter.reasoning_of(delta)
        if reasoning:
            parts.reasoning(reasoning, out)
        content = delta.get("content")
        if content:
            if self._think is None:
                parts.text(content, out)
            else:
                for thinking, piece in self._think.feed(content):
                    (parts.reasoning if thinking else parts.text)(piece, out)
        calls = delta.get("tool_calls")
        if calls:
            self._tool_calls(calls, out)

    def _tool_calls(self, calls: list[dict[str, Any]], out: list[Event]) -> None:
        parts = self._parts
        for position, call in enumerate(calls):
            key = call.get("index")
            if key is None:
                key = call.get("id") or self._last_key or position
            self._last_key = key
            function = call.get("function") or {}
            if not parts.has_tool(key):
                self._has_calls = True
                call_id = call.get("id") or f"call_{key}"
                parts.start_tool(key, call_id, function.get("name") or "", out)
            arguments = function.get("arguments")
            if arguments and arguments != "null":
                parts.tool_arguments(key, arguments, out)

    def _finish(self) -> list[Event]:
        if self._done:
            return []
        self._done = True
        out: list[Event] = []
        if not self._started:
            self._started = True
            out.append(ResponseStart(None, None, self._name, self._warnings))
        if self._think is not None:
            for thinking, piece in self._think.close():
                (self._parts.reasoning if thinking else self._parts.text)(piece, out)
        self._parts.end_all(out)
        usage = self._usage
        if usage is not None:
            out.append(UsageEvent(usage))
        raw = self._raw_reason
        out.append(
            Finish(
                finish_reason(raw, self._has_calls),
                raw,
                usage,
                self._adapter.finish_metadata(self._metadata),
            )
        )
        return out

    def close(self) -> list[Event]:
        if self._done:
            return []
        if self._raw_reason is None:
            raise stream_error(
                "the stream ended without [DONE] or a finish_reason", provider=self._name
            )
        return self._finish()  # finish_reason seen, only [DONE] missing: complete

    def _raise_error(self, data: str) -> None:
        try:
            payload = json.loads(data)
        except ValueError:
            payload = {"message": data}
        error = payload.get("error", payload) if isinstance(payload, dict) else payload
        if not isinstance(error, dict):
            error = {"message": str(error)}
        status = error.get("status_code") or error.get("code")
        raise self._adapter.error_from_payload(
            error, status if isinstance(status, int) else 500, {}
        )

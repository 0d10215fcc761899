"""Anthropic Messages responses and SSE events -> llmx Responses and events."""

from __future__ import annotations

import json
from typing import Any

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
from llmx.adapter import PartTracker, ServerSentEvent, stream_error

from ._convert import JSON_TOOL
from ._errors import stream_error_from

__all__ = ["MessageDecoder", "finish_reason", "parse_usage", "response_from_body"]

_NAME = "anthropic"
_REASONS = {
    "end_turn": FinishReason.STOP,
    "stop_sequence": FinishReason.STOP,
    "max_tokens": FinishReason.LENGTH,
    "model_context_window_exceeded": FinishReason.LENGTH,
    "tool_use": FinishReason.TOOL_CALLS,
    "refusal": FinishReason.CONTENT_FILTER,
    "pause_turn": FinishReason.OTHER,
}


def finish_reason(raw: str | None, has_tool_calls: bool) -> FinishReason:
    """Normalize ``stop_reason``; ``tool_use`` that only answered through the JSON tool is stop."""
    reason = _REASONS.get(raw or "", FinishReason.OTHER)
    if reason is FinishReason.TOOL_CALLS and not has_tool_calls:
        return FinishReason.STOP
    return reason


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def parse_usage(raw: dict[str, Any]) -> Usage:
    """Anthropic usage as llmx Usage.

    ``input_tokens`` excludes cached tokens, so ``prompt_tokens`` is the whole prompt:
    ``input_tokens + cache_creation_input_tokens + cache_read_input_tokens``; the cache counts
    are also given on their own (``cache_creation_tokens``, ``cached_tokens``).
    """
    created = _int(raw.get("cache_creation_input_tokens"))
    read = _int(raw.get("cache_read_input_tokens"))
    prompt = (_int(raw.get("input_tokens")) or 0) + (created or 0) + (read or 0)
    completion = _int(raw.get("output_tokens")) or 0
    details = raw.get("output_tokens_details")
    thinking = _int(details.get("thinking_tokens")) if isinstance(details, dict) else None
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=prompt + completion,
        cached_tokens=read,
        cache_creation_tokens=created,
        reasoning_tokens=thinking,
    )


def _json_text(raw: str) -> str:
    """The JSON tool's input as answer text, in one spelling whether streamed or not."""
    try:
        value = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return raw  # cut short (max_tokens): keep what arrived
    return json.dumps(value, ensure_ascii=False)


def _finish_metadata(stop_sequence: Any, stop_details: Any) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    if stop_sequence:
        out["stop_sequence"] = stop_sequence
    if stop_details:
        out["stop_details"] = stop_details
    return {_NAME: out} if out else None


def response_from_body(
    body: dict[str, Any], *, warnings: list[str], json_tool: bool, hide_reasoning: bool
) -> Response:
    """A non-streaming Messages response as a Response (what the stream accumulates to)."""
    texts: list[str] = []
    reasoning: list[str] | None = None
    thinking: list[dict[str, Any]] = []
    calls: list[ToolCall] = []
    for block in body.get("content") or ():
        kind = block.get("type")
        if kind == "text":
            texts.append(block.get("text") or "")
        elif kind == "thinking":
            text = block.get("thinking") or ""
            reasoning = (reasoning or []) + ([] if hide_reasoning else [text])
            if block.get("signature"):
                thinking.append({"thinking": text, "signature": block["signature"]})
        elif kind == "redacted_thinking":
            reasoning = reasoning or []
            thinking.append({"redacted_thinking": block.get("data") or ""})
        elif kind == "tool_use":
            raw = json.dumps(block.get("input") or {}, ensure_ascii=False)
            if json_tool and block.get("name") == JSON_TOOL:
                texts.append(_json_text(raw))
            else:
                calls.append(ToolCall.from_raw(block.get("id") or "", block.get("name") or "", raw))
    text = "".join(texts)
    raw_reason = body.get("stop_reason")
    usage = body.get("usage")
    return Response(
        id=body.get("id"),
        model=body.get("model"),
        provider=_NAME,
        message=Message(
            role="assistant",
            content=text if text or not calls else None,
            tool_calls=calls,
            reasoning="".join(reasoning) if reasoning is not None else None,
            provider_metadata={_NAME: {"thinking": thinking}} if thinking else None,
        ),
        finish_reason=finish_reason(raw_reason, bool(calls)),
        raw_finish_reason=raw_reason,
        usage=parse_usage(usage) if isinstance(usage, dict) else None,
        warnings=warnings,
        provider_metadata=_finish_metadata(body.get("stop_sequence"), body.get("stop_details")),
        raw=body,
    )


class MessageDecoder:
    """Stream decoder for Messages SSE events (one instance per stream).

    Blocks are keyed by the wire's ``index``; each is ``[kind, pieces, signature]`` with kind
    ``text``, ``thinking``, ``redacted``, ``tool``, ``json`` (the response_format tool) or
    ``other`` (server tools and unknown blocks, which are skipped).
    """

    __slots__ = (
        "_parts",
        "_warnings",
        "_json_tool",
        "_hide",
        "_started",
        "_done",
        "_blocks",
        "_thinking",
        "_usage",
        "_reason",
        "_stop_sequence",
        "_stop_details",
        "_has_calls",
    )

    def __init__(self, *, warnings: list[str], json_tool: bool, hide_reasoning: bool) -> None:
        self._parts = PartTracker()
        self._warnings = tuple(warnings)
        self._json_tool = json_tool
        self._hide = hide_reasoning
        self._started = False
        self._done = False
        self._blocks: dict[Any, list[Any]] = {}
        self._thinking: list[dict[str, Any]] = []
        self._usage: dict[str, Any] = {}
        self._reason: str | None = None
        self._stop_sequence: Any = None
        self._stop_details: Any = None
        self._has_calls = False

    def feed(self, frame: ServerSentEvent) -> list[Event]:
        if self._done:
            return []
        if not frame.data:  # a keep-alive without a payload
            if frame.event == "error":
                raise stream_error_from({})
            return []
        try:
            payload = json.loads(frame.data)
        except ValueError:
            if frame.event == "error":
                raise stream_error_from({"error": {"message": frame.data[:300]}}) from None
            raise stream_error(
                f"a data line is not JSON: {frame.data[:120]!r}", provider=_NAME
            ) from None
        if type(payload) is not dict:
            raise stream_error(
                f"a data line is not a JSON object: {frame.data[:120]!r}", provider=_NAME
            )
        kind = payload.get("type") or frame.event
        out: list[Event] = []
        if not self._started and kind != "ping" and kind != "error":
            self._start(payload if kind == "message_start" else {}, out)
        if kind == "content_block_delta":
            self._delta(payload, out)
        elif kind == "content_block_start":
            self._block_start(payload, out)
        elif kind == "content_block_stop":
            self._block_stop(payload.get("index"), out)
        elif kind == "message_delta":
            delta = payload.get("delta") or {}
            self._reason = delta.get("stop_reason") or self._reason
            self._stop_sequence = delta.get("stop_sequence") or self._stop_sequence
            self._stop_details = delta.get("stop_details") or self._stop_details
            self._merge_usage(payload.get("usage"))
        elif kind == "message_stop":
            self._finish(out)
        elif kind == "error":
            raise stream_error_from(payload)
        return out  # ping, a repeated message_start and unknown types add nothing

    def close(self) -> list[Event]:
        if self._done:
            return []
        raise stream_error(
            "the stream ended before message_stop (connection closed early?)", provider=_NAME
        )

    # -- events --------------------------------------------------------------------------------

    def _start(self, payload: dict[str, Any], out: list[Event]) -> None:
        self._started = True
        message = payload.get("message") or {}
        self._merge_usage(message.get("usage"))
        out.append(ResponseStart(message.get("id"), message.get("model"), _NAME, self._warnings))

    def _merge_usage(self, usage: Any) -> None:
        """Usage values are cumulative: the latest non-null value of each field wins."""
        if isinstance(usage, dict):
            self._usage.update((k, v) for k, v in usage.items() if v is not None)

    def _block_start(self, payload: dict[str, Any], out: list[Event]) -> None:
        index = payload.get("index")
        block = payload.get("content_block") or {}
        kind = block.get("type")
        parts = self._parts
        if kind == "text":
            self._blocks[index] = ["text"]
            if block.get("text"):
                parts.text(block["text"], out)
        elif kind == "thinking":
            text = block.get("thinking") or ""
            self._blocks[index] = ["thinking", [text], block.get("signature") or ""]
            parts.reasoning("" if self._hide else text, out)
        elif kind == "redacted_thinking":
            self._blocks[index] = ["redacted", block.get("data") or ""]
            parts.reasoning("", out)
        elif kind == "tool_use":
            name = block.get("name") or ""
            initial = block.get("input")
            raw = json.dumps(initial, ensure_ascii=False) if initial else ""
            if self._json_tool and name == JSON_TOOL:
                self._blocks[index] = ["json", [raw]]
            else:
                self._blocks[index] = ["tool"]
                self._has_calls = True
                parts.start_tool(index, block.get("id") or f"toolu_{index}", name, out)
                parts.tool_arguments(index, raw, out)
        else:
            self._blocks[index] = ["other"]

    def _delta(self, payload: dict[str, Any], out: list[Event]) -> None:
        delta = payload.get("delta") or {}
        kind = delta.get("type")
        if kind == "text_delta":
            text = delta.get("text")
            if text:
                self._parts.text(text, out)
            return
        block = self._blocks.get(payload.get("index"))
        if kind == "input_json_delta":
            if block is None or block[0] not in ("tool", "json"):
                raise stream_error(
                    "input_json_delta for a block that is not a tool call", provider=_NAME
                )
            partial = delta.get("partial_json") or ""
            if block[0] == "tool":
                self._parts.tool_arguments(payload.get("index"), partial, out)
            else:
                block[1].append(partial)
        elif kind == "thinking_delta":
            text = delta.get("thinking") or ""
            if block is not None and block[0] == "thinking":
                block[1].append(text)
            self._parts.reasoning("" if self._hide else text, out)
        elif kind == "signature_delta":
            if block is not None and block[0] == "thinking":
                block[2] += delta.get("signature") or ""
        # citations_delta and unknown delta types carry nothing llmx maps

    def _block_stop(self, index: Any, out: list[Event]) -> None:
        block = self._blocks.pop(index, None)
        if block is None:
            return
        kind = block[0]
        parts = self._parts
        if kind == "text":
            parts.end_text(out)
        elif kind == "tool":
            parts.end_tool(index, out)
        elif kind == "json":
            parts.text(_json_text("".join(block[1])), out)
            parts.end_text(out)
        elif kind == "thinking" or kind == "redacted":
            if kind == "redacted":
                self._thinking.append({"redacted_thinking": block[1]})
            elif block[2]:  # a block cut short has no signature and cannot be sent back
                self._thinking.append({"thinking": "".join(block[1]), "signature": block[2]})
            else:
                parts.end_reasoning(out)
                return
            parts.end_reasoning(out, {_NAME: {"thinking": [dict(t) for t in self._thinking]}})

    def _finish(self, out: list[Event]) -> None:
        self._done = True
        for index in list(self._blocks):  # blocks cut short by max_tokens have no stop event
            self._block_stop(index, out)
        self._parts.end_all(out)
        usage = parse_usage(self._usage) if self._usage else None
        if usage is not None:
            out.append(UsageEvent(usage))
        out.append(
            Finish(
                finish_reason(self._reason, self._has_calls),
                self._reason,
                usage,
                _finish_metadata(self._stop_sequence, self._stop_details),
            )
        )

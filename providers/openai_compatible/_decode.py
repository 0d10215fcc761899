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


def _strip_think_tags(text: str) -> str:
    """Reasoning text without literal ``<think>``/``</think>`` tags (Groq compound)."""
    splitter = ThinkTagSplitter()
    return "".join(t for _, t in splitter.feed(text) + splitter.close())


def content_pieces(content: Any) -> list[tuple[bool, str]]:
    """``(is_reasoning, text)`` pieces of a message or delta ``content``: a string, or a list
    of parts (Mistral: ``{"type": "text", "text"}`` and ``{"type": "thinking", "thinking":
    [{"type": "text", "text"}]}``)."""
    if isinstance(content, str):
        return [(False, content)] if content else []
    if not isinstance(content, list):
        return []
    out: list[tuple[bool, str]] = []
    for part in content:
        if isinstance(part, str):
            if part:
                out.append((False, part))
        elif isinstance(part, dict):
            if part.get("type") == "thinking":
                inner = part.get("thinking")
                nested = content_pieces(inner if isinstance(inner, list) else [inner])
                out.extend((True, text) for _, text in nested)
            elif isinstance(part.get("text"), str) and part["text"]:
                out.append((False, part["text"]))
    return out


def raw_arguments(value: Any) -> str | None:
    """Tool-call arguments as the JSON string the wire should have sent (some servers send an
    object)."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


_PLACEHOLDER_IDS = frozenset({"", "stub"})


def response_id(value: Any) -> str | None:
    """The response id, or None for a placeholder such as Groq compound's ``"stub"``."""
    if not isinstance(value, str) or value in _PLACEHOLDER_IDS:
        return None
    return value


def is_error_chunk(chunk: dict[str, Any]) -> bool:
    """A chunk that reports an error: a truthy ``error`` or vLLM's ``object: "error"``."""
    return bool(chunk.get("error")) or chunk.get("object") == "error"


def response_from_body(
    body: dict[str, Any],
    adapter: OpenAICompatibleAdapter,
    split_think: bool,
    warnings: list[str],
    hide_reasoning: bool = False,
) -> Response:
    """A non-streaming chat completion as a Response."""
    error = body.get("error")
    if isinstance(error, dict | str) and error:
        if isinstance(error, str):
            error = {"message": error}
        raise adapter.error_from_payload(error, 200, {}, body=body)
    if body.get("object") == "error":
        raise adapter.error_from_payload(body, 200, {}, body=body)
    choices = body.get("choices") or []
    if not choices:
        raise stream_error("the response has no choices", provider=adapter.spec.name)
    choice = choices[0]
    message = choice.get("message") or {}
    pieces = content_pieces(message.get("content"))  # a string, or parts (Mistral)
    text = "".join(t for thinking, t in pieces if not thinking)
    reasoning = adapter.reasoning_of(message)
    if split_think and reasoning:
        reasoning = _strip_think_tags(reasoning)
    thoughts = [t for thinking, t in pieces if thinking]
    if thoughts:
        reasoning = (reasoning or "") + "".join(thoughts)
    if split_think and text:
        text, thought = _split_think(text)
        if thought is not None:
            reasoning = (reasoning or "") + thought
    calls = [
        ToolCall.from_raw(
            call.get("id") or f"call_{i}",
            (call.get("function") or {}).get("name") or "",
            raw_arguments((call.get("function") or {}).get("arguments")),
        )
        for i, call in enumerate(message.get("tool_calls") or [])
    ]
    raw_reason = choice.get("finish_reason")
    usage = adapter.usage_of(body)
    metadata = adapter.metadata_of(body)
    return Response(
        id=response_id(body.get("id")),
        model=body.get("model"),
        provider=adapter.spec.name,
        message=Message(
            role="assistant",
            content=text if text or not calls else None,
            tool_calls=calls,
            reasoning=None if hide_reasoning else reasoning,
        ),
        finish_reason=adapter.finish_reason_of(raw_reason, bool(calls), metadata),
        raw_finish_reason=raw_reason,
        usage=usage,
        warnings=warnings,
        provider_metadata=metadata,
        raw=body,
    )


class ChunkDecoder:
    """Stream decoder for chat-completion chunks (one instance per stream)."""

    __slots__ = (
        "_adapter",
        "_parts",
        "_think",
        "_reasoning_tags",
        "_warnings",
        "_started",
        "_raw_reason",
        "_usage",
        "_done",
        "_has_calls",
        "_last_key",
        "_by_index",
        "_by_id",
        "_call_ids",
        "_with_arguments",
        "_calls",
        "_metadata",
        "_name",
        "_hide",
    )

    def __init__(
        self,
        adapter: OpenAICompatibleAdapter,
        split_think: bool,
        warnings: list[str],
        hide_reasoning: bool = False,
    ) -> None:
        self._adapter = adapter
        self._hide = hide_reasoning
        self._name = adapter.spec.name
        self._parts = PartTracker()
        self._think = ThinkTagSplitter() if split_think else None
        # literal <think> tags inside the reasoning field itself (Groq compound)
        self._reasoning_tags = ThinkTagSplitter() if split_think else None
        self._warnings = tuple(warnings)
        self._started = False
        self._raw_reason: str | None = None
        self._usage: Usage | None = None
        self._done = False
        self._has_calls = False
        self._last_key: int | None = None
        self._by_index: dict[Any, int] = {}  # the wire's tool-call index -> our key
        self._by_id: dict[str, int] = {}  # the wire's tool-call id -> our key
        self._call_ids: dict[int, str | None] = {}  # our key -> the wire's id, if it sent one
        self._with_arguments: set[int] = set()  # keys whose arguments have started
        self._calls = 0
        self._metadata: dict[str, Any] = {}

    def feed(self, frame: ServerSentEvent) -> list[Event]:
        data = frame.data
        if frame.event == "error":
            self._raise_error(data)
        if data[:6] == "[DONE]":
            return self._finish()
        if self._done or not data.strip():
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
        out: list[Event] = []
        if self._started and self._think is None and "usage" not in chunk:
            # fast path, most chunks of a stream: one plain content delta, nothing else
            choices = chunk.get("choices")
            if choices and "x_groq" not in chunk and "error" not in chunk:
                choice = choices[0]
                if type(choice) is dict and choice.get("finish_reason") is None:
                    delta = choice.get("delta")
                    if type(delta) is dict and len(delta) == 1:
                        content = delta.get("content")
                        if type(content) is str:
                            if content:
                                self._parts.text(content, out)
                            return out
        if is_error_chunk(chunk):
            self._raise_error(data)
        if not self._started:
            self._started = True
            out.append(
                ResponseStart(
                    response_id(chunk.get("id")), chunk.get("model"), self._name, self._warnings
                )
            )
        choices = chunk.get("choices")
        if choices and isinstance(choices[0], dict):
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

    def _reasoning(self, piece: str, out: list[Event]) -> None:
        if not self._hide:  # reasoning.include=False: the caller asked not to see it
            self._parts.reasoning(piece, out)

    def _delta(self, delta: dict[str, Any], out: list[Event]) -> None:
        parts = self._parts
        reasoning = self._adapter.reasoning_of(delta)
        if reasoning:
            if self._reasoning_tags is None:
                self._reasoning(reasoning, out)
            else:
                for _, piece in self._reasoning_tags.feed(reasoning):
                    self._reasoning(piece, out)
        for thinking, content in content_pieces(delta.get("content")):
            if thinking:
                self._reasoning(content, out)
            elif self._think is None:
                parts.text(content, out)
            else:
                for in_think, piece in self._think.feed(content):
                    (self._reasoning if in_think else parts.text)(piece, out)
        calls = delta.get("tool_calls")
        if calls and isinstance(calls, list):
            self._tool_calls(calls, out)

    def _key(self, call: dict[str, Any]) -> int | None:
        """Our key for a tool-call delta: an open call it continues, or None for a new call.

        OpenAI keys fragments by ``index``; some servers send no index (Mistral) or repeat one
        index for parallel calls with distinct ids (Gemini's OpenAI endpoint), and some repeat
        the id on every fragment (llama.cpp).
        """
        index = call.get("index")
        call_id = call.get("id") or None
        if call_id is not None and call_id in self._by_id:
            return self._by_id[call_id]
        if index is not None:
            key = self._by_index.get(index)
            if key is not None and (call_id is None or self._call_ids[key] is None):
                return key
            return None
        if call_id is None:
            return self._last_key
        return None

    def _tool_calls(self, calls: list[Any], out: list[Event]) -> None:
        parts = self._parts
        for call in calls:
            if not isinstance(call, dict):
                continue
            function = call.get("function") or {}
            key = self._key(call)
            if key is None:
                key = self._calls
                self._calls += 1
                call_id = call.get("id") or None
                self._call_ids[key] = call_id
                if call_id is not None:
                    self._by_id[call_id] = key
                if call.get("index") is not None:
                    self._by_index[call["index"]] = key
                self._has_calls = True
                parts.start_tool(key, call_id or f"call_{key}", function.get("name") or "", out)
            self._last_key = key
            arguments = raw_arguments(function.get("arguments"))
            if not arguments:
                continue
            if key not in self._with_arguments:
                if arguments.strip() == "null":  # a zero-argument call: "null" means {}
                    continue
                self._with_arguments.add(key)
            parts.tool_arguments(key, arguments, out)

    def _finish(self) -> list[Event]:
        if self._done:
            return []
        if self._raw_reason is None:
            raise stream_error(
                "the stream ended ([DONE]) without a finish_reason: the server stopped "
                "generating without saying why (an error it did not report?)",
                provider=self._name,
            )
        self._done = True
        out: list[Event] = []
        if not self._started:
            self._started = True
            out.append(ResponseStart(None, None, self._name, self._warnings))
        parts = self._parts
        if self._reasoning_tags is not None:
            for _, piece in self._reasoning_tags.close():
                self._reasoning(piece, out)
        if self._think is not None:
            for thinking, piece in self._think.close():
                (self._reasoning if thinking else parts.text)(piece, out)
        parts.end_all(out)
        usage = self._usage
        if usage is not None:
            out.append(UsageEvent(usage))
        raw = self._raw_reason
        metadata = self._adapter.finish_metadata(self._metadata)
        reason = self._adapter.finish_reason_of(raw, self._has_calls, metadata)
        out.append(Finish(reason, raw, usage, metadata))
        return out

    def close(self) -> list[Event]:
        if self._done:
            return []
        if self._raw_reason is None:
            raise stream_error(
                "the stream ended without [DONE] or a finish_reason (connection closed early?)",
                provider=self._name,
            )
        return self._finish()  # finish_reason seen, only [DONE] missing: complete

    def _raise_error(self, data: str) -> None:
        try:
            payload = json.loads(data)
        except ValueError:
            payload = {"message": data}
        error = payload.get("error", payload) if isinstance(payload, dict) else payload
        if isinstance(error, str):
            error = {"message": error}
        elif not isinstance(error, dict):
            error = {"message": str(error)}
        status = error.get("status_code") or error.get("code")
        if not isinstance(status, int) and isinstance(payload, dict):
            status = payload.get("status_code")
        raise self._adapter.error_from_payload(
            error,
            status if isinstance(status, int) and 400 <= status < 600 else 500,
            {},
            body=payload,
        )

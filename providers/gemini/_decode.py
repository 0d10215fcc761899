"""Gemini responses and SSE chunks -> llmx events (the non-streaming path folds the same events).

Every chunk of ``:streamGenerateContent?alt=sse`` is a whole ``GenerateContentResponse`` holding
only the new parts, so one decoder serves both paths: ``parse_response`` feeds the body as a
single chunk, which makes the stream-accumulation invariant hold by construction.

Thought signatures: a ``functionCall`` part's signature rides on its ``ToolCallEnd``
(``ToolCall.provider_metadata["gemini"]["thought_signature"]``). Signatures of thought and text
parts belong to the message: ``Message.provider_metadata["gemini"]`` gets ``thought_signature``
(a thought part), ``text_signature`` (a text part) or ``trailing_signature`` (an empty text part,
as Gemini 3 sends last). Events can only carry message metadata on ``ReasoningEnd``, so a signed
answer always has a reasoning part, empty when no thought text was returned; the non-streaming
path matches (``reasoning == ""``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
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
from llmx.adapter import PartTracker, ServerSentEvent, stream_error

__all__ = ["NAME", "GeminiDecoder", "call_id", "finish_reason", "parse_usage"]

NAME = "gemini"
_FILTERED = frozenset(
    {
        "SAFETY",
        "RECITATION",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
    }
)
_REASONS = {"STOP": FinishReason.STOP, "MAX_TOKENS": FinishReason.LENGTH}
_REASONS.update(dict.fromkeys(_FILTERED, FinishReason.CONTENT_FILTER))
_REASONS.update(
    dict.fromkeys(("MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL"), FinishReason.ERROR)
)
_CANDIDATE_METADATA = (
    "finishMessage",
    "safetyRatings",
    "citationMetadata",
    "groundingMetadata",
    "urlContextMetadata",
    "avgLogprobs",
)
_OTHER_PARTS = ("executableCode", "codeExecutionResult", "inlineData", "fileData")
_PATH = re.compile(r"\.([A-Za-z_$][\w$]*)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")

ErrorFactory = Callable[[dict[str, Any], int], ProviderError]


def finish_reason(raw: str | None, has_calls: bool) -> FinishReason:
    """Normalize; Gemini says ``STOP`` after function calls too."""
    reason = _REASONS.get(raw or "", FinishReason.OTHER)
    return FinishReason.TOOL_CALLS if has_calls and reason is FinishReason.STOP else reason


def _count(raw: dict[str, Any], key: str) -> int | None:
    value = raw.get(key)
    return value if isinstance(value, int) else None


def parse_usage(raw: Any) -> Usage | None:
    """``usageMetadata`` -> Usage; None when it has no token counts (Vertex interim chunks).

    ``prompt_tokens`` = promptTokenCount (which includes the cached tokens) +
    toolUsePromptTokenCount; ``completion_tokens`` = candidatesTokenCount + thoughtsTokenCount
    (thoughts are billed as output), with ``reasoning_tokens`` the thoughts as a subset.
    """
    if not isinstance(raw, dict) or not any(k.endswith("TokenCount") for k in raw):
        return None
    prompt = (_count(raw, "promptTokenCount") or 0) + (_count(raw, "toolUsePromptTokenCount") or 0)
    thoughts = _count(raw, "thoughtsTokenCount")
    completion = (_count(raw, "candidatesTokenCount") or 0) + (thoughts or 0)
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=_count(raw, "totalTokenCount") or prompt + completion,
        cached_tokens=_count(raw, "cachedContentTokenCount"),
        reasoning_tokens=thoughts,
    )


def call_id(response_id: str | None, index: int, name: str) -> str:
    """A stable id for the ``index``-th function call of a response (Gemini sends none)."""
    seed = f"{response_id or ''}|{index}|{name}".encode()
    return "call_" + hashlib.blake2b(seed, digest_size=8).hexdigest()


def _set_path(target: dict[str, Any], path: str, value: Any, append: bool) -> None:
    """Set a JSONPath (``$.a.b[0]``) inside ``target``; strings with ``append`` concatenate."""
    keys: list[str | int] = []
    for name, index, quoted, dquoted in _PATH.findall(path[1:] if path[:1] == "$" else path):
        keys.append(int(index) if index else (name or quoted or dquoted))
    if not keys:
        return
    node: Any = target
    for key, following in zip(keys, keys[1:], strict=False):
        empty: Any = [] if isinstance(following, int) else {}
        if isinstance(node, list) and isinstance(key, int):
            node.extend(None for _ in range(key + 1 - len(node)))
            if node[key] is None:
                node[key] = empty
            node = node[key]
        elif isinstance(node, dict) and isinstance(key, str):
            node = node.setdefault(key, empty)
        else:
            return
    last = keys[-1]
    if isinstance(node, list) and isinstance(last, int):
        node.extend(None for _ in range(last + 1 - len(node)))
        old = node[last]
        node[last] = old + value if append and isinstance(old, str) else value
    elif isinstance(node, dict):
        old = node.get(last)
        node[last] = old + value if append and isinstance(old, str) else value


def _partial_value(arg: dict[str, Any]) -> tuple[bool, Any]:
    if "stringValue" in arg:
        return True, arg["stringValue"]
    for key in ("numberValue", "boolValue"):
        if key in arg:
            return True, arg[key]
    return "nullValue" in arg, None


class GeminiDecoder:
    """Decoder for ``streamGenerateContent?alt=sse`` chunks (one instance per stream)."""

    __slots__ = (
        "_errors",
        "_warnings",
        "_parts",
        "_started",
        "_in_reasoning",
        "_signatures",
        "_response_id",
        "_calls",
        "_open_call",
        "_raw_reason",
        "_blocked",
        "_usage",
        "_metadata",
        "_done",
        "_answered",
    )

    def __init__(self, warnings: list[str], errors: ErrorFactory) -> None:
        self._errors = errors
        self._warnings = tuple(warnings)
        self._parts = PartTracker()
        self._started = False
        self._in_reasoning = False
        self._signatures: dict[str, str] = {}
        self._response_id: str | None = None
        self._calls = 0
        self._open_call: list[Any] | None = None  # Vertex partialArgs: [key, args, metadata]
        self._raw_reason: str | None = None
        self._blocked: str | None = None
        self._usage: Usage | None = None
        self._metadata: dict[str, Any] = {}
        self._done = False
        self._answered = False

    def feed(self, frame: ServerSentEvent) -> list[Event]:
        data = frame.data
        if self._done or not data.strip():
            return []
        try:
            chunk = json.loads(data)
        except ValueError:
            raise stream_error(f"a data line is not JSON: {data[:120]!r}", provider=NAME) from None
        if isinstance(chunk, list) and len(chunk) == 1:
            chunk = chunk[0]
        if not isinstance(chunk, dict):
            raise stream_error(f"a data line is not a JSON object: {data[:120]!r}", provider=NAME)
        return self.chunk(chunk)

    def chunk(self, chunk: dict[str, Any]) -> list[Event]:
        """Events for one ``GenerateContentResponse``."""
        error = chunk.get("error")
        if error:
            if not isinstance(error, dict):
                error = {"message": str(error)}
            code = error.get("code")
            raise self._errors(error, code if isinstance(code, int) and code >= 400 else 500)
        out: list[Event] = []
        feedback = chunk.get("promptFeedback")
        if isinstance(feedback, dict):
            self._metadata["promptFeedback"] = feedback
            if feedback.get("blockReason"):
                self._blocked = str(feedback["blockReason"])
        if chunk.get("responseId"):
            self._response_id = str(chunk["responseId"])
        if not self._started:
            self._started = True
            warnings = self._warnings
            if self._blocked:
                warnings += (f"gemini: the prompt was blocked ({self._blocked})",)
            out.append(ResponseStart(self._response_id, chunk.get("modelVersion"), NAME, warnings))
        usage = parse_usage(chunk.get("usageMetadata"))
        if usage is not None:
            self._usage = usage
        candidates = chunk.get("candidates")
        if isinstance(candidates, list) and candidates and isinstance(candidates[0], dict):
            candidate = candidates[0]
            self._answered = True
            for part in (candidate.get("content") or {}).get("parts") or []:
                if isinstance(part, dict):
                    self._part(part, out)
            for key in _CANDIDATE_METADATA:
                if candidate.get(key) is not None:
                    self._metadata[key] = candidate[key]
            if candidate.get("finishReason"):
                self._raw_reason = str(candidate["finishReason"])
        return out

    # -- parts -------------------------------------------------------------------------------

    def _message_metadata(self) -> dict[str, Any] | None:
        return {NAME: dict(self._signatures)} if self._signatures else None

    def _end_reasoning(self, out: list[Event]) -> None:
        if self._in_reasoning:
            self._parts.end_reasoning(out, self._message_metadata())
            self._in_reasoning = False

    def _reasoning(self, text: str, out: list[Event]) -> None:
        self._parts.reasoning(text, out)
        self._in_reasoning = True

    def _part(self, part: dict[str, Any], out: list[Event]) -> None:
        signature = part.get("thoughtSignature")
        signature = signature if isinstance(signature, str) and signature else None
        call = part.get("functionCall")
        if isinstance(call, dict):
            self._end_reasoning(out)
            self._function_call(call, signature, out)
            return
        text = part.get("text")
        if part.get("thought"):
            self._reasoning(text if isinstance(text, str) else "", out)
            if signature:
                self._signatures["thought_signature"] = signature
            return
        if signature and isinstance(text, str):
            key = "text_signature" if text else "trailing_signature"
            self._signatures[key] = signature
            if not self._in_reasoning:
                self._reasoning("", out)  # the only event that carries message metadata
        self._end_reasoning(out)
        if isinstance(text, str) and text:
            self._parts.text(text, out)
            return
        for key in _OTHER_PARTS:
            if key in part:
                self._metadata.setdefault("parts", []).append(part)
                break

    def _function_call(self, call: dict[str, Any], signature: str | None, out: list[Event]) -> None:
        parts = self._parts
        metadata: dict[str, Any] = {}
        if signature:
            metadata["thought_signature"] = signature
        if isinstance(call.get("id"), str) and call["id"]:
            metadata["id"] = call["id"]
        state = self._open_call
        starts = call.get("name") or call.get("args") is not None or call.get("partialArgs")
        if state is None and not starts:
            return  # an end marker ({}) with no call open
        if state is None or call.get("name"):
            self._end_call(out)  # a new call while one is open closes the old one
            index = self._calls
            self._calls += 1
            name = str(call.get("name") or "")
            identifier = metadata.get("id") or call_id(self._response_id, index, name)
            parts.start_tool(index, identifier, name, out)
            args = call.get("args")
            state = [index, dict(args) if isinstance(args, dict) else {}, metadata]
        elif metadata:
            state[2].update(metadata)
        for arg in call.get("partialArgs") or []:
            if isinstance(arg, dict) and isinstance(arg.get("jsonPath"), str):
                present, value = _partial_value(arg)
                if present:
                    _set_path(state[1], arg["jsonPath"], value, "stringValue" in arg)
        self._open_call = state
        if not call.get("willContinue"):
            self._end_call(out)

    def _end_call(self, out: list[Event]) -> None:
        state, self._open_call = self._open_call, None
        if state is None:
            return
        key, args, metadata = state
        self._parts.tool_arguments(key, json.dumps(args, ensure_ascii=False), out)
        self._parts.end_tool(key, out, {NAME: metadata} if metadata else None)

    # -- end ---------------------------------------------------------------------------------

    def close(self) -> list[Event]:
        return self.finish(strict=True)

    def finish(self, *, strict: bool) -> list[Event]:
        """The closing events. ``strict`` (streams): no finishReason means the stream broke."""
        if self._done:
            return []
        if self._raw_reason is None and self._blocked is None:
            if strict:
                raise stream_error(
                    "the stream ended without a finishReason (connection closed early?)",
                    provider=NAME,
                )
            if not self._answered:
                raise stream_error("the response has no candidates", provider=NAME)
        self._done = True
        out: list[Event] = []
        self._end_call(out)
        self._end_reasoning(out)
        self._parts.end_all(out)
        if self._usage is not None:
            out.append(UsageEvent(self._usage))
        if self._raw_reason is not None:
            raw: str | None = self._raw_reason
            reason = finish_reason(raw, self._calls > 0)
        else:
            raw = self._blocked
            reason = FinishReason.CONTENT_FILTER if raw else FinishReason.OTHER
        metadata = {NAME: dict(self._metadata)} if self._metadata else None
        out.append(Finish(reason, raw, self._usage, metadata))
        return out

"""Provider-neutral pieces shared by the emulator's wire dialects.

A scripted or default ``Reply`` is provider-neutral: ``Reply.text`` / ``Reply.tool_calls`` say
what the model answers, ``Reply.error`` / ``Reply.stream_error`` how it fails. Each dialect
(``_anthropic``, ``_gemini``, ``_ollama``, ``_openai``) only renders that description in its own
wire format, and turns its own request body into the OpenAI-shaped body the shared default
responder (``_respond.default_reply``) reads. Finish reasons are given in OpenAI's words
(``stop``, ``length``, ``tool_calls``, ``content_filter``) and mapped per wire; any other value is
sent verbatim. Usage overrides use OpenAI's names (``prompt_tokens``, ``completion_tokens``,
``reasoning_tokens``, ``cached_tokens``); completion tokens include the reasoning tokens.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from ._faults import Faults, RecordedRequest
from ._groq import JSON_CT, SSE_CT, IdSource, ModelInfo, count_tokens, message_text, split_text
from ._render import Plan
from ._reply import (
    DropSpec,
    ErrorSpec,
    RawSpec,
    Reply,
    SseSpec,
    StreamErrorSpec,
    TextSpec,
    ToolCallsSpec,
    WireSpec,
)
from ._respond import default_reply

__all__ = [
    "ANY_MODEL",
    "NDJSON_CT",
    "Answer",
    "Call",
    "Dialect",
    "Tokens",
    "Turn",
    "default_answer",
    "passthrough_plan",
    "phrase",
    "signature",
    "stream_prefix",
]

NDJSON_CT = "application/x-ndjson"
_ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Call:
    """One tool call of an answer: ``arguments`` is the scripted JSON text."""

    id: str | None
    name: str
    arguments: str

    def args(self) -> dict[str, Any]:
        """The arguments as an object, for wires that carry objects (invalid JSON: ``{}``)."""
        try:
            value = json.loads(self.arguments) if self.arguments.strip() else {}
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Answer:
    """A successful reply, ready for a dialect to render."""

    model: str
    text: str | None
    reasoning: str | None
    calls: tuple[Call, ...]
    finish: str
    usage: Mapping[str, Any] | None
    chunk_size: int | None
    fragment_size: int | None

    @classmethod
    def of(cls, spec: TextSpec | ToolCallsSpec, model: str) -> Answer:
        usage = dict(spec.usage) if spec.usage is not None else None
        if isinstance(spec, TextSpec):
            return cls(
                spec.model or model,
                spec.text,
                spec.reasoning,
                (),
                spec.finish_reason,
                usage,
                spec.chunk_size,
                None,
            )
        calls = tuple(Call(c.id, c.name, c.arguments) for c in spec.calls)
        fragment = spec.fragment_size if spec.fragmented else None
        return cls(
            spec.model or model,
            spec.text,
            spec.reasoning,
            calls,
            "tool_calls",
            usage,
            None,
            fragment,
        )

    def pieces(self, text: str | None) -> list[str]:
        return split_text(text or "", self.chunk_size)

    def fragments(self, arguments: str) -> list[str]:
        if self.fragment_size is None or not arguments:
            return [arguments]
        return split_text(arguments, self.fragment_size)


@dataclass(frozen=True)
class Tokens:
    """Usage numbers of one answer; ``completion`` includes ``reasoning``."""

    prompt: int
    completion: int
    reasoning: int
    cached: int

    @classmethod
    def of(cls, answer: Answer, prompt: int) -> Tokens:
        reasoning = count_tokens(answer.reasoning or "")
        completion = reasoning + count_tokens(answer.text or "")
        completion += sum(count_tokens(f"{c.name} {c.arguments}") for c in answer.calls)
        given = answer.usage or {}
        prompt = int(given.get("prompt_tokens", prompt))
        completion = int(given.get("completion_tokens", completion))
        reasoning = min(int(given.get("reasoning_tokens", reasoning)), completion)
        cached = min(int(given.get("cached_tokens", 0)), prompt)
        return cls(prompt, completion, reasoning, cached)


@dataclass
class Turn:
    """The request being answered, as a renderer needs it."""

    body: dict[str, Any]
    model: str
    stream: bool
    ids: IdSource
    request_id: str
    created: int
    prompt_tokens: int
    query: str = ""

    def short_id(self, kind: str, length: int = 24) -> str:
        """A deterministic alphanumeric id of ``length`` (at most 64) characters."""
        digest = hashlib.sha256(self.ids.uuid4(kind).encode()).digest() * 2
        return "".join(_ALPHANUMERIC[byte % len(_ALPHANUMERIC)] for byte in digest[:length])


class Dialect:
    """One provider's wire: routing, auth, validation, normalization and rendering."""

    name = "dialect"
    request_id_header: str | None = "x-request-id"

    def authorized(self, request: RecordedRequest, key: str) -> bool:
        return request.headers.get("authorization") == f"Bearer {key}"

    def unauthorized(self, request: RecordedRequest) -> tuple[int, Any]:
        raise NotImplementedError

    def endpoint(self, request: RecordedRequest, extra_models: list[str]) -> tuple[int, Any] | None:
        """``None`` for a chat request, else the (status, JSON) answer to anything else."""
        raise NotImplementedError

    def validate(self, request: RecordedRequest) -> str | None:
        """The message of a 400 the real API would send for this chat request, or None."""
        return None

    def model_of(self, request: RecordedRequest) -> str:
        body = request.json if isinstance(request.json, dict) else {}
        model = body.get("model")
        return model if isinstance(model, str) and model else "emulator-model"

    def wants_stream(self, request: RecordedRequest) -> bool:
        body = request.json if isinstance(request.json, dict) else {}
        return body.get("stream") is True

    def normalize(self, request: RecordedRequest) -> dict[str, Any]:
        """The request as an OpenAI-shaped body, for the shared default responder."""
        raise NotImplementedError

    def thinking(self, request: RecordedRequest) -> bool:
        """Whether the request asks to see reasoning (the default responder then reasons)."""
        return False

    def hides_reasoning(self, request: RecordedRequest) -> bool:
        """Whether the request switched reasoning output off (scripted reasoning is dropped)."""
        return False

    def render(self, answer: Answer, turn: Turn) -> Plan:
        raise NotImplementedError

    def error(self, spec: ErrorSpec, turn: Turn) -> Plan:
        raise NotImplementedError

    def stream_error(self, spec: StreamErrorSpec, turn: Turn) -> Plan:
        raise NotImplementedError

    def error_doc(self, status: int, message: str) -> Any:
        """A JSON error body in this wire's shape (auth failures, validation errors)."""
        raise NotImplementedError

    def plan(self, reply: Reply, turn: Turn, request: RecordedRequest) -> Plan:
        """The bytes for a resolved reply."""
        spec = reply.spec
        if isinstance(spec, TextSpec | ToolCallsSpec):
            answer = Answer.of(spec, turn.model)
            if answer.reasoning is not None and self.hides_reasoning(request):
                answer = dataclasses.replace(answer, reasoning=None)
            return self.render(answer, turn)
        if isinstance(spec, ErrorSpec):
            if spec.body is not None:
                return Plan(spec.status, _guess_type(spec.body), [spec.body])
            return self.error(spec, turn)
        if isinstance(spec, StreamErrorSpec):
            if not turn.stream:
                return self.error(ErrorSpec(spec.status_code, spec.message, spec.type), turn)
            return self.stream_error(spec, turn)
        return passthrough_plan(spec, reply.faults)


def passthrough_plan(spec: Any, faults: Faults) -> Plan:
    """Plans for the dialect-independent specs (raw bytes, verbatim SSE, drops, wire garbage)."""
    if isinstance(spec, RawSpec):
        sse = (faults.content_type or spec.default_content_type).startswith(SSE_CT)
        content_type = spec.default_content_type
        return Plan(spec.status, content_type, list(spec.parts), sse=sse, chunked=spec.chunked)
    if isinstance(spec, SseSpec):
        return Plan(spec.status, SSE_CT, list(spec.events), sse=True, chunked=True)
    if isinstance(spec, DropSpec):
        return Plan(0, mode="drop")
    if isinstance(spec, WireSpec):
        return Plan(0, units=list(spec.data), mode="wire")
    raise TypeError(f"cannot render {type(spec).__name__} directly")


def _guess_type(body: bytes) -> str:
    head = body.lstrip()[:1]
    if head == b"<":
        return "text/html; charset=utf-8"
    return JSON_CT if head in (b"{", b"[") else "text/plain; charset=utf-8"


def phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def stream_prefix(units: list[bytes], count: int) -> list[bytes]:
    """The first ``count`` units (all of them when there are fewer): what precedes an error."""
    return units[: max(count, 0)]


def signature(kind: str, content: str) -> str:
    """A deterministic opaque signature the emulator can verify later."""
    digest = hashlib.sha256(f"llmx-emulator:{kind}:{content}".encode()).digest()
    return base64.b64encode(b"EMU" + digest).decode("ascii")


# --- the shared default responder ----------------------------------------------------------


class _AnyModel(Mapping[str, ModelInfo]):
    """A catalog that knows every model (non-Groq dialects do not emulate a catalog)."""

    def __getitem__(self, key: str) -> ModelInfo:
        return ModelInfo(key, max_completion_tokens=1_000_000)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and bool(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


ANY_MODEL: Mapping[str, ModelInfo] = _AnyModel()


def _last_user_text(body: Mapping[str, Any]) -> str:
    messages = body.get("messages")
    for message in reversed(messages if isinstance(messages, list) else []):
        if isinstance(message, dict) and message.get("role") == "user":
            return message_text(message.get("content"))
    return ""


def default_answer(normalized: dict[str, Any], thinking: bool) -> Reply:
    """The shared deterministic responder, with reasoning when the request asked to see it."""
    reply = default_reply(normalized, ANY_MODEL)
    spec = reply.spec
    if thinking and isinstance(spec, TextSpec | ToolCallsSpec) and spec.reasoning is None:
        echo = " ".join(_last_user_text(normalized).split())[:60]
        reasoning = f'The user wrote "{echo}". I should answer briefly.'
        spec = dataclasses.replace(spec, reasoning=reasoning)
    return Reply(spec, reply.faults)

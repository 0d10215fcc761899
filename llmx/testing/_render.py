"""Turn a ``Reply`` into the exact bytes Groq would send (a ``Plan``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ._faults import Faults
from ._groq import (
    DONE_EVENT,
    JSON_CT,
    SSE_CT,
    IdSource,
    count_tokens,
    dumps,
    error_body,
    error_defaults,
    make_usage,
    split_text,
    sse_data,
)
from ._reply import (
    DropSpec,
    ErrorSpec,
    RawSpec,
    Spec,
    SseSpec,
    StreamErrorSpec,
    TextSpec,
    ToolCall,
    ToolCallsSpec,
    WireSpec,
)

__all__ = ["Context", "Plan", "render"]

_FALLBACK_MODEL = "llama-3.3-70b-versatile"
_TIERS = {"on_demand", "flex", "performance"}


@dataclass
class Context:
    """What rendering needs to know about the request being answered."""

    body: dict[str, Any] | None
    ids: IdSource
    request_id: str
    created: int
    prompt_tokens: int

    @property
    def wants_stream(self) -> bool:
        return bool(self.body and self.body.get("stream") is True)

    def model(self, override: str | None) -> str:
        if override:
            return override
        model = self.body.get("model") if self.body else None
        return model if isinstance(model, str) and model else _FALLBACK_MODEL

    @property
    def service_tier(self) -> str:
        tier = self.body.get("service_tier") if self.body else None
        return tier if isinstance(tier, str) and tier in _TIERS else "on_demand"


@dataclass
class Plan:
    """Status, content type and body units. ``chunked`` responses write one unit per write
    (SSE events); others send one ``Content-Length`` body."""

    status: int
    content_type: str | None = None
    units: list[bytes] = field(default_factory=list)
    sse: bool = False
    chunked: bool = False
    mode: Literal["http", "drop", "wire"] = "http"


def _streamed(ctx: Context, faults: Faults) -> bool:
    if faults.stream is not None:
        return faults.stream
    if faults.content_type:
        base = faults.content_type.split(";")[0].strip().lower()
        if base == JSON_CT:
            return False
        if base == SSE_CT:
            return True
    return ctx.wants_stream


def _json_plan(status: int, doc: Any) -> Plan:
    return Plan(status, JSON_CT, [dumps(doc).encode()])


def _guess_type(body: bytes) -> str:
    head = body.lstrip()[:1]
    if head == b"<":
        return "text/html; charset=utf-8"
    return JSON_CT if head in (b"{", b"[") else "text/plain; charset=utf-8"


def _completion(
    ctx: Context,
    stream: bool,
    *,
    model: str,
    content: str | None,
    reasoning: str | None,
    calls: tuple[ToolCall, ...],
    finish: str,
    usage: tuple[tuple[str, Any], ...] | None,
    chunk_size: int | None,
    fragment_size: int | None,
) -> Plan:
    body = ctx.body or {}
    reasoning_tokens = count_tokens(reasoning) if reasoning else 0
    fmt = body.get("reasoning_format")
    if reasoning is not None and (fmt == "hidden" or body.get("include_reasoning") is False):
        reasoning = None
    elif reasoning is not None and fmt == "raw":
        content, reasoning = f"<think>\n{reasoning}\n</think>\n\n{content or ''}", None
    call_objs: list[dict[str, Any]] = [
        {
            "id": c.id or ctx.ids.tool_call_id(),
            "type": "function",
            "function": {"name": c.name, "arguments": c.arguments},
        }
        for c in calls
    ]
    completion = (
        reasoning_tokens
        + count_tokens(content or "")
        + sum(count_tokens(c.name + " " + c.arguments) for c in calls)
    )
    usage_doc = make_usage(
        ctx.prompt_tokens, completion, reasoning_tokens or None, dict(usage) if usage else None
    )
    cid, fingerprint, seed = (
        ctx.ids.completion_id(),
        IdSource.fingerprint(model),
        ctx.ids.seed_value(),
    )
    if not stream:
        message: dict[str, Any] = {"role": "assistant"}
        if content is not None:
            message["content"] = content
        if reasoning is not None:
            message["reasoning"] = reasoning
        if call_objs:
            message["tool_calls"] = call_objs
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
        doc = {
            "id": cid,
            "object": "chat.completion",
            "created": ctx.created,
            "model": model,
            "choices": [choice],
            "usage": usage_doc,
            "usage_breakdown": None,
            "system_fingerprint": fingerprint,
            "x_groq": {"id": ctx.request_id, "seed": seed},
            "service_tier": ctx.service_tier,
        }
        return _json_plan(200, doc)

    head = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": ctx.created,
        "model": model,
        "system_fingerprint": fingerprint,
    }

    def chunk(delta: dict[str, Any], reason: str | None = None, **extra: Any) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}
        return sse_data({**head, "choices": [choice], **extra})

    events = [
        chunk({"role": "assistant", "content": ""}, x_groq={"id": ctx.request_id, "seed": seed})
    ]
    events += [
        chunk({"reasoning": p, "channel": "analysis"})
        for p in split_text(reasoning or "", chunk_size)
    ]
    events += [chunk({"content": p}) for p in split_text(content or "", chunk_size)]
    for index, call in enumerate(call_objs):
        name, arguments = call["function"]["name"], call["function"]["arguments"]
        if fragment_size is None:
            events.append(chunk({"tool_calls": [{**call, "index": index}]}))
            continue
        first = {"index": index, "id": call["id"], "type": "function"}
        opening = {**first, "function": {"name": name, "arguments": ""}}
        events.append(chunk({"tool_calls": [opening]}))
        events += [
            chunk({"tool_calls": [{"index": index, "function": {"arguments": p}}]})
            for p in split_text(arguments, fragment_size)
        ]
    x_groq = {"id": ctx.request_id, "usage": usage_doc}
    events.append(chunk({}, finish, x_groq=x_groq, usage=usage_doc))
    events.append(DONE_EVENT)
    return Plan(200, SSE_CT, events, sse=True, chunked=True)


def _error(spec: ErrorSpec, ctx: Context) -> Plan:
    if spec.body is not None:
        return Plan(spec.status, _guess_type(spec.body), [spec.body])
    message, type_, code = error_defaults(spec.status, ctx.model(None))
    doc = error_body(
        spec.message if spec.message is not None else message,
        spec.type if spec.type is not None else type_,
        (spec.code or None) if spec.code is not None else code,
        **dict(spec.extra),
    )
    return _json_plan(spec.status, doc)


def _stream_error(spec: StreamErrorSpec, ctx: Context, stream: bool) -> Plan:
    error = error_body(spec.message, spec.type, spec.code, failed_generation=spec.failed_generation)
    if not stream:
        return _json_plan(spec.status_code, error)
    error["error"]["status_code"] = spec.status_code
    model = ctx.model(spec.model)
    head = {
        "id": ctx.ids.completion_id(),
        "object": "chat.completion.chunk",
        "created": ctx.created,
        "model": model,
        "system_fingerprint": IdSource.fingerprint(model),
    }
    pieces = split_text(spec.text or "Partial answer before the error. ")
    while len(pieces) < spec.after_events:
        pieces = pieces + pieces
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    deltas += [{"content": p} for p in pieces]
    events = []
    for i, delta in enumerate(deltas[: spec.after_events]):
        extra = {"x_groq": {"id": ctx.request_id, "seed": ctx.ids.seed_value()}} if i == 0 else {}
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}
        events.append(sse_data({**head, "choices": [choice], **extra}))
    events.append(b"event: error\ndata: " + dumps(error).encode() + b"\n\n")
    return Plan(200, SSE_CT, events, sse=True, chunked=True)


def render(spec: Spec, faults: Faults, ctx: Context) -> Plan:
    """Bytes for a resolved spec (handler/default specs must be resolved by the caller)."""
    stream = _streamed(ctx, faults)
    if isinstance(spec, TextSpec):
        return _completion(
            ctx,
            stream,
            model=ctx.model(spec.model),
            content=spec.text,
            reasoning=spec.reasoning,
            calls=(),
            finish=spec.finish_reason,
            usage=spec.usage,
            chunk_size=spec.chunk_size,
            fragment_size=None,
        )
    if isinstance(spec, ToolCallsSpec):
        return _completion(
            ctx,
            stream,
            model=ctx.model(spec.model),
            content=spec.text,
            reasoning=spec.reasoning,
            calls=spec.calls,
            finish="tool_calls",
            usage=spec.usage,
            chunk_size=None,
            fragment_size=spec.fragment_size if spec.fragmented else None,
        )
    if isinstance(spec, ErrorSpec):
        return _error(spec, ctx)
    if isinstance(spec, StreamErrorSpec):
        return _stream_error(spec, ctx, stream)
    if isinstance(spec, RawSpec):
        content_type = spec.default_content_type
        sse = (faults.content_type or content_type).startswith(SSE_CT)
        return Plan(spec.status, content_type, list(spec.parts), sse=sse, chunked=spec.chunked)
    if isinstance(spec, SseSpec):
        return Plan(spec.status, SSE_CT, list(spec.events), sse=True, chunked=True)
    if isinstance(spec, DropSpec):
        return Plan(0, mode="drop")
    if isinstance(spec, WireSpec):
        return Plan(0, units=list(spec.data), mode="wire")
    raise TypeError(f"cannot render {type(spec).__name__} directly")

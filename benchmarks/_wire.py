"""What the mock server sends and what every client must get back.

Shared by the mock server (which renders the bytes) and the client workloads (which check each
response they time against the expectations here). Standard library only: the peers' venv runs
it too.

The scenario of a request is read from the request itself, so every client can ask for it with
its ordinary API: ``stream`` selects SSE or a Content-Length JSON body, ``max_tokens`` (or
``max_completion_tokens``) is the number of text chunks, or of tool-call argument fragments when
the request carries ``tools``.
"""

from __future__ import annotations

import json
from functools import lru_cache

MODEL = "llama-3.3-70b-versatile"
PROMPT = "Count for me, please."
API_KEY = "gsk_benchmark_not_a_real_key"
TOOL_NAME = "record_values"
TOOL_DESCRIPTION = "Record a list of values."
TOOL_PARAMETERS = {
    "type": "object",
    "properties": {"values": {"type": "array", "items": {"type": "string"}}},
    "required": ["values"],
}
TOOL_CALL_ID = "call_bench0001"

# Groq-like tokens: words with leading spaces, punctuation, escapes and non-ASCII text.
TOKENS = (
    "The",
    " quick",
    " brown",
    " fox",
    " jumps",
    " over",
    " the",
    " lazy",
    " dog",
    ",",
    " über",
    " naïve",
    ' "quoted"',
    " café",
    "\n",
    " …",
    " 42",
    " tokens",
    " per",
    " second.",
)
CORRUPT_TOKEN = " <corrupted>"

_ID = "chatcmpl-8d2c1f0e-6a5b-4c3d-9e8f-7a6b5c4d3e2f"
_REQ = "req_01jbd6g2qdfw2adyrt2az8hz4w"
_CREATED = 1767225600
_FINGERPRINT = "fp_c4a72fb330"


def token(i: int) -> str:
    return TOKENS[i % len(TOKENS)]


@lru_cache(maxsize=64)
def expected_text(n: int) -> str:
    """The text of a response with ``n`` text chunks."""
    return "".join(token(i) for i in range(n))


@lru_cache(maxsize=64)
def tool_fragments(n: int) -> tuple[str, ...]:
    """The ``n`` argument fragments of the streamed tool call (n >= 2)."""
    if n < 2:
        raise ValueError("a tool call needs at least 2 fragments")
    return ('{"values": [', *(f'"v{i}", ' for i in range(1, n - 1)), '"end"]}')


@lru_cache(maxsize=64)
def expected_arguments(n: int) -> str:
    return "".join(tool_fragments(n))


def expected_values(n: int) -> list[str]:
    return [*(f"v{i}" for i in range(1, n - 1)), "end"]


class ValidationError(AssertionError):
    """A response the benchmark timed was not the one the mock server was asked for."""


def check_text(what: str, n: int, pieces: list[str] | None, text: str) -> None:
    """``pieces``: the text deltas in order (None for a non-streamed response)."""
    if pieces is not None and len(pieces) != n:
        raise ValidationError(f"{what}: expected {n} text deltas, got {len(pieces)}")
    want = expected_text(n)
    if text != want:
        at = next(
            (i for i, (a, b) in enumerate(zip(text, want, strict=False)) if a != b),
            min(len(text), len(want)),
        )
        raise ValidationError(
            f"{what}: wrong text ({len(text)} chars, expected {len(want)}; first difference "
            f"at {at}: got {text[at : at + 30]!r}, expected {want[at : at + 30]!r})"
        )


def check_arguments(what: str, n: int, name: str, arguments: str, fragments: int) -> None:
    """``fragments``: how many non-empty argument deltas the client saw."""
    if name != TOOL_NAME:
        raise ValidationError(f"{what}: tool name {name!r}, expected {TOOL_NAME!r}")
    if fragments != n:
        raise ValidationError(f"{what}: expected {n} argument fragments, got {fragments}")
    if arguments != expected_arguments(n):
        raise ValidationError(
            f"{what}: reassembled arguments differ ({len(arguments)} chars, expected "
            f"{len(expected_arguments(n))}; starts {arguments[:60]!r})"
        )
    if json.loads(arguments) != {"values": expected_values(n)}:
        raise ValidationError(f"{what}: arguments do not parse to the expected object")


def request_body(n: int, *, stream: bool, tool: bool = False) -> dict[str, object]:
    """The chat-completions body the raw HTTP baselines send (what llmx sends for Groq)."""
    body: dict[str, object] = {
        "model": MODEL,
        "messages": [{"role": "user", "content": PROMPT}],
        "max_completion_tokens": n,
    }
    if tool:
        body["tools"] = [openai_tool()]
    if stream:
        body["stream"] = True
    return body


def openai_tool() -> dict[str, object]:
    return {
        "type": "function",
        "function": {
            "name": TOOL_NAME,
            "description": TOOL_DESCRIPTION,
            "parameters": TOOL_PARAMETERS,
        },
    }


# -- rendering (mock server side) ---------------------------------------------------------------


def _dumps(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def _chunk(delta: dict[str, object], finish: str | None = None, **extra: object) -> bytes:
    payload: dict[str, object] = {
        "id": _ID,
        "object": "chat.completion.chunk",
        "created": _CREATED,
        "model": MODEL,
        "system_fingerprint": _FINGERPRINT,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    payload.update(extra)
    return b"data: " + _dumps(payload) + b"\n\n"


def _usage(completion: int) -> dict[str, object]:
    return {
        "queue_time": 0.01,
        "prompt_tokens": 48,
        "prompt_time": 0.002,
        "completion_tokens": completion,
        "completion_time": completion / 1000,
        "total_tokens": 48 + completion,
        "total_time": 0.002 + completion / 1000,
    }


def stream_events(n: int, *, tool: bool, corrupt: bool = False) -> list[bytes]:
    """The SSE events of one streamed response, each ``data: {...}\\n\\n`` (or ``[DONE]``)."""
    events = [_chunk({"role": "assistant", "content": ""}, x_groq={"id": _REQ})]
    if tool:
        events.append(
            _chunk(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": TOOL_CALL_ID,
                            "type": "function",
                            "function": {"name": TOOL_NAME, "arguments": ""},
                        }
                    ]
                }
            )
        )
        fragments = list(tool_fragments(n))
        if corrupt:
            fragments[n // 2] = '"corrupted", '
        events.extend(
            _chunk({"tool_calls": [{"index": 0, "function": {"arguments": fragment}}]})
            for fragment in fragments
        )
        reason = "tool_calls"
    else:
        tokens = [token(i) for i in range(n)]
        if corrupt:
            tokens[n // 2] = CORRUPT_TOKEN
        events.extend(_chunk({"content": t}) for t in tokens)
        reason = "stop"
    usage = _usage(n)
    events.append(_chunk({}, reason, x_groq={"id": _REQ, "usage": usage}, usage=usage))
    events.append(b"data: [DONE]\n\n")
    return events


_COMMON_HEADERS = (
    b"date: Thu, 01 Jan 2026 00:00:00 GMT\r\n"
    b"server: llmx-bench-mock\r\n"
    b"cache-control: no-cache\r\n"
    b"vary: Origin\r\n"
    b"x-groq-region: bench\r\n"
    b"x-ratelimit-limit-requests: 14400\r\n"
    b"x-ratelimit-limit-tokens: 6000\r\n"
    b"x-ratelimit-remaining-requests: 14399\r\n"
    b"x-ratelimit-remaining-tokens: 5990\r\n"
    b"x-ratelimit-reset-requests: 6s\r\n"
    b"x-ratelimit-reset-tokens: 100ms\r\n"
    b"x-request-id: " + _REQ.encode() + b"\r\n"
)


def render_stream(n: int, *, tool: bool, corrupt: bool = False) -> bytes:
    """A whole HTTP/1.1 response: chunked transfer encoding, one SSE event per chunk."""
    head = (
        b"HTTP/1.1 200 OK\r\n"
        b"content-type: text/event-stream\r\n"
        b"transfer-encoding: chunked\r\n"
        b"connection: keep-alive\r\n" + _COMMON_HEADERS + b"\r\n"
    )
    body = b"".join(
        b"%x\r\n%s\r\n" % (len(event), event)
        for event in stream_events(n, tool=tool, corrupt=corrupt)
    )
    return head + body + b"0\r\n\r\n"


def completion_body(n: int, *, tool: bool, corrupt: bool = False) -> bytes:
    text = expected_text(n)
    if corrupt:
        text = text[: len(text) // 2] + CORRUPT_TOKEN + text[len(text) // 2 + 1 :]
    message: dict[str, object] = {"role": "assistant", "content": text}
    reason = "stop"
    if tool:
        arguments = expected_arguments(n)
        if corrupt:
            arguments = arguments.replace('"end"', '"corrupted"')
        message = {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": TOOL_CALL_ID,
                    "type": "function",
                    "function": {"name": TOOL_NAME, "arguments": arguments},
                }
            ],
        }
        reason = "tool_calls"
    return _dumps(
        {
            "id": _ID,
            "object": "chat.completion",
            "created": _CREATED,
            "model": MODEL,
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": reason}
            ],
            "usage": _usage(n),
            "usage_breakdown": None,
            "system_fingerprint": _FINGERPRINT,
            "service_tier": "on_demand",
            "x_groq": {"id": _REQ},
        }
    )


def render_json(n: int, *, tool: bool, corrupt: bool = False) -> bytes:
    body = completion_body(n, tool=tool, corrupt=corrupt)
    return (
        (
            b"HTTP/1.1 200 OK\r\n"
            b"content-type: application/json\r\n"
            b"content-length: %d\r\n"
            b"connection: keep-alive\r\n" % len(body)
        )
        + _COMMON_HEADERS
        + b"\r\n"
        + body
    )


def render_error(status: int, message: str) -> bytes:
    body = _dumps({"error": {"message": message, "type": "invalid_request_error"}})
    reason = {400: b"Bad Request", 404: b"Not Found", 411: b"Length Required"}.get(status, b"Error")
    return (
        b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
        b"connection: keep-alive\r\n\r\n" % (status, reason, len(body))
    ) + body

"""Groq wire-format building blocks: catalog, ids, token counts, usage, bodies, durations.

Everything here is pure and deterministic (given the emulator's seed and counters), so the
emulator's answers are reproducible. Shapes follow real 2026 Groq recordings.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

__all__ = [
    "DEFAULT_MODELS",
    "DONE_EVENT",
    "JSON_CT",
    "SSE_CT",
    "IdSource",
    "ModelInfo",
    "count_tokens",
    "dumps",
    "error_body",
    "error_defaults",
    "go_duration",
    "has_cjk",
    "make_usage",
    "message_text",
    "prompt_tokens",
    "rate_limit_headers",
    "sse_data",
    "split_text",
]

JSON_CT = "application/json"
SSE_CT = "text/event-stream"
DONE_EVENT = b"data: [DONE]\n\n"


def dumps(value: Any) -> str:
    """Compact JSON as Groq sends it (UTF-8, not ASCII-escaped; text with lone surrogates,
    which UTF-8 cannot carry, is sent \\u-escaped)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode()
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":"))
    return text


def sse_data(value: Any) -> bytes:
    """One ``data:`` event holding ``value`` as JSON."""
    return f"data: {dumps(value)}\n\n".encode()


@dataclass(frozen=True)
class ModelInfo:
    """One entry of ``GET /models`` (values from a real capture)."""

    id: str
    created: int = 1750000000
    owned_by: str = "llmx"
    context_window: int = 131072
    max_completion_tokens: int = 32768

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "model",
            "created": self.created,
            "owned_by": self.owned_by,
            "active": True,
            "context_window": self.context_window,
            "public_apps": None,
            "max_completion_tokens": self.max_completion_tokens,
        }


DEFAULT_MODELS: tuple[ModelInfo, ...] = (
    ModelInfo("llama-3.3-70b-versatile", 1733447754, "Meta", 131072, 32768),
    ModelInfo("llama-3.1-8b-instant", 1693721698, "Meta", 131072, 131072),
    ModelInfo("openai/gpt-oss-120b", 1754408224, "OpenAI", 131072, 65536),
    ModelInfo("openai/gpt-oss-20b", 1754407957, "OpenAI", 131072, 65536),
    ModelInfo("qwen/qwen3-32b", 1748396646, "Alibaba Cloud", 131072, 40960),
    ModelInfo("meta-llama/llama-4-scout-17b-16e-instruct", 1743874824, "Meta", 131072, 8192),
    ModelInfo("groq/compound", 1756949530, "Groq", 131072, 8192),
    ModelInfo("groq/compound-mini", 1756949707, "Groq", 131072, 8192),
)


# --- ids -------------------------------------------------------------------------------------

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


class IdSource:
    """Deterministic ids per emulator run: same seed and request order, same ids."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._counter = 0
        self._lock = threading.Lock()

    def _digest(self, kind: str) -> bytes:
        with self._lock:
            self._counter += 1
            n = self._counter
        return hashlib.sha256(f"{self._seed}:{kind}:{n}".encode()).digest()

    def uuid4(self, kind: str) -> str:
        return str(uuid.UUID(bytes=self._digest(kind)[:16], version=4))

    def completion_id(self) -> str:
        return "chatcmpl-" + self.uuid4("chatcmpl")

    def tool_call_id(self) -> str:
        return "fc_" + self.uuid4("fc")

    def request_id(self) -> str:
        """``req_`` + 26-char lowercase ULID-like string starting with ``01``."""
        value = int.from_bytes(self._digest("req")[:16], "big")
        chars = "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in range(24))
        return "req_01" + chars

    def seed_value(self) -> int:
        return int.from_bytes(self._digest("seed")[:4], "big") & 0x7FFFFFFF

    @staticmethod
    def fingerprint(model: str) -> str:
        return "fp_" + hashlib.sha256(model.encode()).hexdigest()[:10]


# --- text, tokens, usage ---------------------------------------------------------------------

_CJK = (
    "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
)
_CJK_RE = re.compile(f"[{_CJK}]")
# Word-ish pieces: optional leading whitespace + (one CJK char | a word | one symbol).
_PIECE_RE = re.compile(rf"\s*(?:[{_CJK}]|[^\W{_CJK}]+|[^\w\s{_CJK}])|\s+")


def has_cjk(text: str) -> bool:
    return _CJK_RE.search(text) is not None


def split_text(text: str, chunk_size: int | None = None) -> list[str]:
    """Pieces whose concatenation is ``text``: word-ish tokens, or fixed-size slices."""
    if chunk_size is not None:
        if chunk_size < 1:
            raise ValueError("chunk_size must be >= 1")
        return [text[i : i + chunk_size] for i in range(0, len(text), chunk_size)]
    return _PIECE_RE.findall(text)


def count_tokens(text: str) -> int:
    return len(_PIECE_RE.findall(text))


def message_text(content: Any) -> str:
    """Text of a message ``content`` (string or list of parts; non-text parts ignored)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        ]
        return "\n".join(texts)
    return ""


def prompt_tokens(body: Mapping[str, Any] | None) -> int:
    """Deterministic prompt-token estimate from the request's messages and tools."""
    if not body:
        return 0
    total = 3
    messages = body.get("messages")
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, dict):
            continue
        total += 4 + count_tokens(message_text(message.get("content")))
        calls = message.get("tool_calls")
        if isinstance(calls, list):
            total += count_tokens(dumps(calls))
        images = message.get("content")
        if isinstance(images, list):
            total += 85 * sum(
                1 for p in images if isinstance(p, dict) and p.get("type") == "image_url"
            )
    tools = body.get("tools")
    if isinstance(tools, list) and tools:
        total += count_tokens(dumps(tools))
    return total


def _round(value: float) -> float:
    return round(value, 9)


def make_usage(
    prompt: int,
    completion: int,
    reasoning: int | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Groq usage object; ``total_tokens = prompt + completion`` unless overridden."""
    if overrides:
        prompt = int(overrides.get("prompt_tokens", prompt))
        completion = int(overrides.get("completion_tokens", completion))
    prompt_time = _round(0.00002 * prompt + 0.0005)
    completion_time = _round(0.002 * completion + 0.0001)
    usage: dict[str, Any] = {
        "queue_time": _round(0.0011 + 0.0001 * (prompt % 7)),
        "prompt_tokens": prompt,
        "prompt_time": prompt_time,
        "completion_tokens": completion,
        "completion_time": completion_time,
        "total_tokens": prompt + completion,
        "total_time": _round(prompt_time + completion_time),
    }
    if reasoning:
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    if overrides:
        usage.update(overrides)
    return usage


# --- errors ----------------------------------------------------------------------------------


def error_body(message: str, type_: str, code: str | None = None, **extra: Any) -> dict[str, Any]:
    """``{"error": {"message", "type", "code"?, ...}}``; ``code`` omitted when None."""
    error: dict[str, Any] = {"message": message, "type": type_}
    if code is not None:
        error["code"] = code
    error.update({k: v for k, v in extra.items() if v is not None})
    return {"error": error}


def error_defaults(status: int, model: str) -> tuple[str, str, str | None]:
    """Groq-like (message, type, code) for an HTTP error status."""
    if status == 401:
        return "Invalid API Key", "invalid_request_error", "invalid_api_key"
    if status == 404:
        return (
            f"The model `{model}` does not exist or you do not have access to it.",
            "invalid_request_error",
            "model_not_found",
        )
    if status == 413:
        return (
            f"Request too large for model `{model}` in organization `org_01emulator` service "
            "tier `on_demand` on tokens per minute (TPM): Limit 6000, Requested 10338, please "
            "reduce your message size and try again. Visit "
            "https://console.groq.com/docs/rate-limits for more information.",
            "tokens",
            "rate_limit_exceeded",
        )
    if status == 429:
        return (
            f"Rate limit reached for model `{model}` in organization `org_01emulator` service "
            "tier `on_demand` on tokens per minute (TPM): Limit 6000, Used 5034, Requested 1443."
            " Please try again in 120ms. Visit https://console.groq.com/docs/rate-limits for "
            "more information.",
            "tokens",
            "rate_limit_exceeded",
        )
    if status == 498:
        return (
            "Flex tier capacity exceeded. This model is currently experiencing high demand; "
            "please try again later.",
            "invalid_request_error",
            "capacity_exceeded",
        )
    if status >= 500:
        phrase = _phrase(status)
        return phrase, "internal_server_error", None
    return _phrase(status), "invalid_request_error", None


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def go_duration(seconds: float) -> str:
    """Go ``time.Duration`` text as Groq uses in ``x-ratelimit-reset-*``: 172ms, 1m26.4s."""
    if not math.isfinite(seconds) or seconds <= 0:
        return "0s"
    if seconds < 1:
        return f"{_trim(seconds * 1000)}ms"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    out = ""
    if hours:
        out += f"{int(hours)}h"
    if hours or minutes:
        out += f"{int(minutes)}m"
    return out + f"{_trim(secs)}s"


def _trim(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"


_RPD, _TPM = 14400, 18000  # the docs' example limits (requests per day, tokens per minute)


def rate_limit_headers(requests_used: int, prompt: int) -> list[tuple[str, str]]:
    """Groq's ``x-ratelimit-*`` headers (sent on every chat response), Go-style resets."""
    return [
        ("x-ratelimit-limit-requests", str(_RPD)),
        ("x-ratelimit-limit-tokens", str(_TPM)),
        ("x-ratelimit-remaining-requests", str(max(0, _RPD - requests_used))),
        ("x-ratelimit-remaining-tokens", str(max(0, _TPM - prompt))),
        ("x-ratelimit-reset-requests", go_duration(requests_used * 86400 / _RPD)),
        ("x-ratelimit-reset-tokens", go_duration(prompt * 60 / _TPM)),
    ]

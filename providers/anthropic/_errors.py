"""Anthropic error objects (HTTP bodies and in-stream ``error`` events) -> typed llmx errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmx import ContextLengthError, ProviderError
from llmx.adapter import error_from_status

__all__ = ["ERROR_STATUS", "error_from_payload", "stream_error_from"]

ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}
"""``error.type`` -> the HTTP status Anthropic sends it with (used for in-stream errors)."""

_CONTEXT = ("prompt is too long", "context limit", "context window")


def error_from_payload(
    error: Mapping[str, Any], status: int, headers: Mapping[str, str], body: Any = None
) -> ProviderError:
    """The typed error for an ``{"type": "error", "error": {"type", "message"}}`` body."""
    kind = error.get("type")
    kind_text = str(kind) if kind is not None else None
    message = str(error.get("message") or kind_text or "unknown error")
    error_class: type[ProviderError] | None = None
    if status in (400, 413) and any(marker in message.lower() for marker in _CONTEXT):
        error_class = ContextLengthError
    result = error_from_status(
        "anthropic",
        status,
        message,
        headers=headers,
        code=kind_text,
        error_type=kind_text,
        body=body if body is not None else {"type": "error", "error": dict(error)},
        error_class=error_class,
    )
    if result.request_id is None and isinstance(body, dict):
        request_id = body.get("request_id")
        if isinstance(request_id, str):
            result.request_id = request_id
    return result


def stream_error_from(payload: Any) -> ProviderError:
    """The typed error for an ``event: error`` frame (HTTP said 200; the type gives the status)."""
    error = payload.get("error", payload) if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        error = {"type": "api_error", "message": str(payload)[:300]}
    status = ERROR_STATUS.get(str(error.get("type")), 500)
    body = payload if isinstance(payload, dict) else None
    return error_from_payload(error, status, {}, body)

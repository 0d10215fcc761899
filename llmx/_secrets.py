"""Scrubbing the API key out of everything an error shows."""

from __future__ import annotations

import json
from typing import TypeVar

from ._errors import LLMXError

__all__ = ["scrub_error", "scrub_text"]

E = TypeVar("E", bound=LLMXError)


def scrub_text(text: str, key: str | None) -> str:
    """``text`` without ``key`` or any 8+ character prefix of it (as some APIs echo)."""
    if not key or len(key) < 8 or key[:8] not in text:
        return text
    text = text.replace(key, "[redacted]")
    head = key[:8]
    start = text.find(head)
    while start >= 0:
        end = start + 8
        while end < len(text) and end - start < len(key) and text[end] == key[end - start]:
            end += 1
        text = text[:start] + "[redacted]" + text[end:]
        start = text.find(head, start)
    return text


def scrub_error(error: E, key: str | None) -> E:
    """Remove ``key`` from an error's message, body, headers and failed generation."""
    if not key:
        return error
    error.message = scrub_text(error.message, key)
    error.args = (error.message,)
    body = getattr(error, "body", None)
    if isinstance(body, str):
        error.body = scrub_text(body, key)  # type: ignore[attr-defined]
    elif body is not None:
        dumped = json.dumps(body, default=str)
        cleaned = scrub_text(dumped, key)
        if cleaned != dumped:
            try:
                error.body = json.loads(cleaned)  # type: ignore[attr-defined]
            except ValueError:
                error.body = cleaned  # type: ignore[attr-defined]
    headers = getattr(error, "headers", None)
    if isinstance(headers, dict):
        for name, value in list(headers.items()):
            headers[name] = scrub_text(value, key)
    failed = getattr(error, "failed_generation", None)
    if isinstance(failed, str):
        error.failed_generation = scrub_text(failed, key)  # type: ignore[attr-defined]
    return error

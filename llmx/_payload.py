"""What a response body looks like: its media type, whether it is SSE, a readable snippet."""

from __future__ import annotations

import re
from collections.abc import Mapping
from http import HTTPStatus

__all__ = ["SSE_START", "is_json_type", "media_type", "reason", "snippet"]

SSE_START = (b"data:", b"event:", b"id:", b"retry:", b":", b"\xef\xbb\xbf")
"""How an SSE body (without a content type) may start."""

_TAG = re.compile(r"<[^>]*>")
_TITLE = re.compile(r"<title[^>]*>([^<]*)", re.IGNORECASE)


def media_type(headers: Mapping[str, str]) -> str:
    """``text/event-stream`` from ``text/event-stream; charset=utf-8``; "" when absent."""
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def is_json_type(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


def reason(status: int) -> str:
    """The reason phrase of an HTTP status ("" for unknown ones)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def snippet(body: bytes, limit: int = 200) -> str:
    """Readable start of a body, whitespace collapsed: for an HTML error page its title, then
    its text without tags, scripts and styles. Linear in the first 16 KiB it looks at."""
    text = body[: 16 * 1024].decode("utf-8", "replace")
    if "<" in text and ">" in text:
        title = _TITLE.search(text)
        text = (title.group(1) + " — " if title else "") + _text_of(text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text_of(html: str) -> str:
    """The text between tags, skipping ``<script>`` and ``<style>`` elements (one pass)."""
    out: list[str] = []
    position = 0
    skipping: str | None = None
    for tag in _TAG.finditer(html):
        name = tag.group(0)[:8].lower()
        if skipping is not None:
            if name.startswith(skipping):
                skipping = None
                position = tag.end()
            continue
        out.append(html[position : tag.start()])
        out.append(" ")
        position = tag.end()
        if name.startswith(("<script", "<style")):
            skipping = "</script" if name.startswith("<script") else "</style"
    if skipping is None:
        out.append(html[position:])
    return "".join(out)

"""llmx's logger (``logging.getLogger("llmx")``): metadata only, never a key.

At DEBUG it records each attempt (method, origin and path: no query, no headers, no body),
each retry decision and the error that ends a call. Error messages are scrubbed of the API key
before they are logged. Enable with ``logging.getLogger("llmx").setLevel(logging.DEBUG)``.

As a second line of defence, the keys of live clients are also redacted from the records of
``llmx``, ``httpx`` and ``httpcore.*`` (httpcore logs response headers at DEBUG, and a server
may echo a key in one). The filter does nothing unless those loggers emit records.
"""

from __future__ import annotations

import logging
import threading
import weakref
from urllib.parse import urlsplit

from ._secrets import scrub_text

__all__ = ["logger", "origin", "register_secret", "safe_url"]

logger = logging.getLogger("llmx")

_WATCHED = ("llmx", "httpx", "httpcore.connection", "httpcore.http11", "httpcore.http2",
            "httpcore.proxy", "httpcore.socks")  # fmt: skip
_SECRETS: dict[int, str] = {}
_LOCK = threading.Lock()


class _Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        secrets = list(_SECRETS.values())
        if secrets:
            message = cleaned = record.getMessage()
            for secret in secrets:
                cleaned = scrub_text(cleaned, secret)
            if cleaned != message:
                record.msg, record.args = cleaned, ()
        return True


_FILTER = _Redact()


def register_secret(owner: object, secret: str) -> None:
    """Redact ``secret`` from log records while ``owner`` is alive."""
    with _LOCK:
        if not _SECRETS:
            for name in _WATCHED:
                log = logging.getLogger(name)
                if _FILTER not in log.filters:
                    log.addFilter(_FILTER)
        _SECRETS[id(owner)] = secret
    weakref.finalize(owner, _forget, id(owner))


def _forget(key: int) -> None:
    with _LOCK:
        _SECRETS.pop(key, None)


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``."""
    full = safe_url(url)
    path = urlsplit(full).path if "://" in full else ""
    return full[: len(full) - len(path)] if path else full


def safe_url(url: str) -> str:
    """``scheme://host[:port]/path`` without user info, query or fragment."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<invalid url>"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}{parts.path}"

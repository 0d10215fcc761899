"""The native Ollama adapter: ``POST /api/chat`` with NDJSON streaming, ``GET /api/tags``."""

from __future__ import annotations

import json
import re
from typing import Any

from llmx import Event, ModelInfo, ProviderError, Request, Response, accumulate
from llmx.adapter import (
    AdapterBase,
    HttpRequest,
    HttpResponse,
    ProviderSpec,
    error_from_status,
    stream_error,
)

from ._convert import build_body, options_of, warnings_for
from ._decode import NAME, LineDecoder

__all__ = ["OllamaAdapter"]

SPEC = ProviderSpec(
    name=NAME,
    default_base_url="http://localhost:11434",
    api_key_env="OLLAMA_API_KEY",
    base_url_env="OLLAMA_BASE_URL",
    key_required=False,
    framing="ndjson",
)

_NOT_FOUND = re.compile(r"""model ['"]([^'"]+)['"] not found""")


class OllamaAdapter(AdapterBase):
    """Ollama's own chat API (``http://localhost:11434/api/chat``), not its ``/v1`` layer."""

    spec = SPEC

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    # -- requests ----------------------------------------------------------------------------

    def build_request(self, request: Request, *, stream: bool) -> HttpRequest:
        body = build_body(request, stream=stream, options=options_of(request))
        return HttpRequest("POST", "/api/chat", body)

    def warnings(self, request: Request) -> list[str]:
        """Settings Ollama accepts but cannot honour (shown on ``response-start``)."""
        return warnings_for(request)

    # -- responses ---------------------------------------------------------------------------

    def stream_decoder(self, request: Request) -> LineDecoder:
        reasoning = request.reasoning
        return LineDecoder(
            self.warnings(request),
            split_think=reasoning is not None and reasoning.parse_think_tags,
            hide_reasoning=reasoning is not None and reasoning.include is False,
        )

    def parse_response(self, response: HttpResponse, request: Request) -> Response:
        """A non-streamed reply, decoded like a one-line stream so both give the same result.

        A body of several NDJSON lines (a proxy that ignored ``stream: false``) is accepted.
        """
        text = response.body.decode("utf-8", "replace")
        try:
            lines: list[Any] = [json.loads(text)]
        except ValueError:
            lines = [_json_line(line) for line in text.splitlines() if line.strip()]
        decoder = self.stream_decoder(request)
        events: list[Event] = []
        for line in lines:
            if not isinstance(line, dict):
                raise stream_error(f"the reply is not a JSON object: {text[:120]!r}", provider=NAME)
            events += decoder.line(line)
        events += decoder.close()
        return accumulate(events).model_copy(update={"raw": lines[-1]})

    # -- errors and models -------------------------------------------------------------------

    def parse_error(self, response: HttpResponse) -> ProviderError:
        status = response.status_code
        text = response.body.decode("utf-8", "replace")
        try:
            payload: Any = json.loads(text)
        except ValueError:
            payload = None
        error = payload.get("error") if isinstance(payload, dict) else None
        if error is None:
            message = " ".join(text.split())[:300] or "(empty body)"
            if status == 404:
                message += (
                    " (llmx: base_url must be the Ollama server root, e.g. "
                    "http://localhost:11434, without /v1 or /api)"
                )
            return error_from_status(
                NAME, status, message, headers=response.headers, body=payload or text
            )
        if isinstance(error, dict):
            error = error.get("message") or json.dumps(error)[:300]
        message = str(error)
        return error_from_status(
            NAME,
            status,
            message + _fix(message, payload),
            headers=response.headers,
            body=payload,
        )

    def models_request(self) -> HttpRequest:
        return HttpRequest("GET", "/api/tags")

    def parse_models(self, response: HttpResponse) -> list[ModelInfo]:
        payload = response.json()
        items = payload.get("models") if isinstance(payload, dict) else None
        return [
            ModelInfo(id=str(item.get("name") or item.get("model")), provider=NAME, raw=item)
            for item in items or []
            if isinstance(item, dict) and (item.get("name") or item.get("model"))
        ]


def _fix(message: str, payload: dict[str, Any]) -> str:
    """What to do about a known Ollama error, appended to its message."""
    found = _NOT_FOUND.search(message)
    if found:
        return f" (llmx: download it with `ollama pull {found.group(1)}`)"
    if "does not support tools" in message:
        return " (llmx: use a model with tool support, or send no tools)"
    if "does not support thinking" in message:
        return " (llmx: leave Request.reasoning unset for this model)"
    if isinstance(payload.get("signin_url"), str):
        return f" (llmx: sign in at {payload['signin_url']})"
    return ""


def _json_line(line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        raise stream_error(f"the reply is not JSON: {line[:120]!r}", provider=NAME) from None

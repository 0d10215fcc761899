"""The native Gemini adapter: ``generateContent`` / ``streamGenerateContent?alt=sse``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from llmx import (
    AuthenticationError,
    ContextLengthError,
    ModelInfo,
    ProviderError,
    Request,
    Response,
    accumulate,
)
from llmx.adapter import (
    AdapterBase,
    HttpRequest,
    HttpResponse,
    ProviderSpec,
    error_from_status,
    parse_duration,
)

from ._convert import build_body, model_path, warnings_for
from ._decode import NAME, GeminiDecoder

__all__ = ["GeminiAdapter"]

SPEC = ProviderSpec(
    name=NAME,
    default_base_url="https://generativelanguage.googleapis.com/v1beta",
    api_key_env="GEMINI_API_KEY",
    base_url_env="GEMINI_BASE_URL",
    auth_header="x-goog-api-key",
    auth_prefix="",
)

_AUTH_REASONS = frozenset({"API_KEY_INVALID", "API_KEY_EXPIRED", "API_KEY_SERVICE_BLOCKED"})
_AUTH_STATUSES = frozenset({"UNAUTHENTICATED", "PERMISSION_DENIED"})
_TOO_LONG = re.compile(
    r"input token count.*exceeds the maximum|exceeds the maximum number of tokens"
)


class GeminiAdapter(AdapterBase):
    """Google's Gemini API (``https://generativelanguage.googleapis.com/v1beta``).

    The key goes in the ``x-goog-api-key`` header, never in the URL.
    """

    spec = SPEC

    def __repr__(self) -> str:
        return "GeminiAdapter()"

    # -- requests ----------------------------------------------------------------------------

    def build_request(self, request: Request, *, stream: bool) -> HttpRequest:
        path = model_path(request.model)
        body = build_body(request)
        if stream:
            return HttpRequest("POST", f"{path}:streamGenerateContent", body, params={"alt": "sse"})
        return HttpRequest("POST", f"{path}:generateContent", body)

    # -- responses ---------------------------------------------------------------------------

    def parse_response(self, response: HttpResponse, request: Request) -> Response:
        body = response.json()
        if isinstance(body, list) and len(body) == 1:
            body = body[0]
        if not isinstance(body, dict):
            raise ValueError("the response body is not a JSON object")
        decoder = GeminiDecoder(self.warnings(request), self.error_from_payload)
        events = decoder.chunk(body) + decoder.finish(strict=False)
        return accumulate(events).model_copy(update={"raw": body})

    def stream_decoder(self, request: Request) -> GeminiDecoder:
        return GeminiDecoder(self.warnings(request), self.error_from_payload)

    def warnings(self, request: Request) -> list[str]:
        return warnings_for(request)

    # -- errors ------------------------------------------------------------------------------

    def parse_error(self, response: HttpResponse) -> ProviderError:
        try:
            payload = response.json()
        except ValueError:
            return super().parse_error(response)
        if isinstance(payload, list) and len(payload) == 1:  # some errors arrive as [{...}]
            payload = payload[0]
        error = payload.get("error") if isinstance(payload, dict) else None
        if not isinstance(error, dict):
            return super().parse_error(response)
        return self.error_from_payload(error, response.status_code, response.headers, payload)

    def error_from_payload(
        self,
        error: dict[str, Any],
        status: int,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> ProviderError:
        """The typed error for ``{"error": {"code", "message", "status", "details"}}``."""
        details = [d for d in error.get("details") or [] if isinstance(d, dict)]
        reason = next((str(d["reason"]) for d in details if d.get("reason")), None)
        grpc_status = str(error["status"]) if error.get("status") else None
        message = str(error.get("message") or "unknown error")
        error_class: type[ProviderError] | None = None
        if reason in _AUTH_REASONS or grpc_status in _AUTH_STATUSES:
            error_class = AuthenticationError
        elif status < 500 and _TOO_LONG.search(message.lower()):
            error_class = ContextLengthError
        result = error_from_status(
            NAME,
            status,
            message,
            headers=headers,
            code=reason or grpc_status,
            error_type=grpc_status,
            body=body if body is not None else {"error": error},
            error_class=error_class,
        )
        if result.retry_after is None:
            delay = next(
                (
                    d.get("retryDelay")
                    for d in details
                    if str(d.get("@type", "")).endswith("RetryInfo")
                ),
                None,
            )
            result.retry_after = parse_duration(delay) if isinstance(delay, str) else None
        return result

    # -- models ------------------------------------------------------------------------------

    def models_request(self) -> HttpRequest:
        # One page of up to 1000 models: ``nextPageToken`` is not followed (the list is far
        # shorter than a page today).
        return HttpRequest("GET", "/models", params={"pageSize": "1000"})

    def parse_models(self, response: HttpResponse) -> list[ModelInfo]:
        payload = response.json()
        items = payload.get("models") or [] if isinstance(payload, dict) else []
        return [self.model_info(item) for item in items if isinstance(item, dict)]

    def model_info(self, item: dict[str, Any]) -> ModelInfo:
        name = str(item.get("name") or "")
        return ModelInfo(
            id=name.removeprefix("models/"),
            provider=NAME,
            owned_by="google",
            context_window=_int(item.get("inputTokenLimit")),
            max_output_tokens=_int(item.get("outputTokenLimit")),
            raw=item,
        )


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) else None

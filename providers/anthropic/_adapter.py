"""The Anthropic Messages adapter: spec, options, and the translation entry points."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from llmx import InvalidInputError, ModelInfo, ProviderError, RateLimit, Request, Response
from llmx.adapter import (
    AdapterBase,
    HttpRequest,
    HttpResponse,
    ProviderSpec,
    parse_duration,
    parse_retry_after,
)

from ._convert import DEFAULT_MAX_TOKENS, build_body, request_warnings
from ._decode import MessageDecoder, response_from_body
from ._errors import ERROR_STATUS, error_from_payload

__all__ = ["AnthropicAdapter", "AnthropicOptions", "parse_rate_limit_headers"]

SPEC = ProviderSpec(
    name="anthropic",
    default_base_url="https://api.anthropic.com",
    api_key_env="ANTHROPIC_API_KEY",
    base_url_env="ANTHROPIC_BASE_URL",
    auth_header="x-api-key",
    auth_prefix="",
    default_headers={"anthropic-version": "2023-06-01"},
)


class AnthropicOptions(BaseModel):
    """``Request.provider_options["anthropic"]``: Anthropic-only request settings."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    top_k: int | None = Field(default=None, ge=0)
    metadata: dict[str, Any] | None = None
    """Sent as ``metadata``; ``Request.user`` fills ``metadata.user_id`` unless given here."""
    service_tier: Literal["auto", "standard_only"] | None = None
    thinking: dict[str, Any] | None = None
    """Sent as ``thinking`` as is, instead of the one derived from ``Request.reasoning``
    (e.g. ``{"type": "adaptive"}``)."""
    json_mode: Literal["tool", "native"] = "tool"
    """How ``response_format`` is sent: ``"tool"`` (any model) forces a tool named ``json`` whose
    input becomes the answer text; ``"native"`` sends ``output_config.format`` (JSON schemas
    only, on models that support structured outputs)."""
    beta: list[str] | None = None
    """Values for the ``anthropic-beta`` header, e.g. ``["interleaved-thinking-2025-05-14"]``."""
    extra_body: dict[str, Any] | None = None
    """Any other top-level field, sent as is (applied last)."""


class AnthropicAdapter(AdapterBase):
    """Anthropic's Messages API (``POST /v1/messages``) with SSE streaming.

    Anthropic requires ``max_tokens``: a request without one is sent with ``default_max_tokens``
    (4096), plus the thinking budget when extended thinking is on. ``Request.reasoning`` turns
    thinking on: ``budget_tokens`` as given (at least 1024), or ``effort`` minimal/low/medium/
    high/default -> 1024/2048/8192/16384/8192 tokens; ``effort="none"`` or a budget of 0 leave
    it off, and ``include=False`` hides the thinking text (the blocks are still kept for the
    next turn). Thinking blocks and their signatures are returned in the assistant message's
    ``provider_metadata["anthropic"]["thinking"]`` and sent back from there. A message's
    ``provider_metadata["anthropic"]["cache_control"]`` sets a prompt-cache breakpoint on its
    last block. ``seed`` and the penalties are not sent (a warning says so).

    ``response_format`` has no direct Anthropic equivalent: by default it adds a tool named
    ``json`` (its input schema is the format's schema) and forces a tool call; the tool's input
    comes back as the answer text, normalized to one JSON spelling, with finish reason ``stop``
    (raw ``tool_use``). Forced tool calls are not allowed with extended thinking, so that
    combination raises UnsupportedFeatureError; ``json_mode="native"`` sends
    ``output_config.format`` instead. Usage: ``prompt_tokens`` counts the whole prompt
    (``input_tokens`` plus cache writes and reads), ``cached_tokens`` and
    ``cache_creation_tokens`` are its cached parts, ``total_tokens`` = prompt + completion.
    """

    def __init__(self, *, default_max_tokens: int = DEFAULT_MAX_TOKENS) -> None:
        self.spec = SPEC
        self.default_max_tokens = default_max_tokens

    def __repr__(self) -> str:
        return f"{type(self).__name__}(default_max_tokens={self.default_max_tokens})"

    def options(self, request: Request) -> AnthropicOptions:
        """The validated ``provider_options["anthropic"]``."""
        try:
            return AnthropicOptions.model_validate(request.provider_options.get("anthropic") or {})
        except ValidationError as exc:
            raise InvalidInputError(f"invalid provider_options['anthropic']: {exc}") from None

    def warnings(self, request: Request) -> list[str]:
        """Settings not sent, or not sent as given (shown on ``response-start``)."""
        return request_warnings(request)

    def _json_tool(self, request: Request) -> bool:
        fmt = request.response_format
        return fmt is not None and fmt != "text" and self.options(request).json_mode == "tool"

    def _hide_reasoning(self, request: Request) -> bool:
        return request.reasoning is not None and request.reasoning.include is False

    # -- requests and responses ----------------------------------------------------------------

    def build_request(self, request: Request, *, stream: bool) -> HttpRequest:
        options = self.options(request)
        body = build_body(
            request, stream=stream, options=options, default_max_tokens=self.default_max_tokens
        )
        headers = {"anthropic-beta": ",".join(options.beta)} if options.beta else {}
        return HttpRequest("POST", "/v1/messages", body, headers)

    def parse_response(self, response: HttpResponse, request: Request) -> Response:
        body = response.json()
        if not isinstance(body, dict):
            raise ValueError("the response body is not a JSON object")
        error = body.get("error")
        if body.get("type") == "error" and isinstance(error, dict):
            status = ERROR_STATUS.get(str(error.get("type")), 500)
            raise error_from_payload(error, status, response.headers, body)
        return response_from_body(
            body,
            warnings=self.warnings(request),
            json_tool=self._json_tool(request),
            hide_reasoning=self._hide_reasoning(request),
        )

    def stream_decoder(self, request: Request) -> MessageDecoder:
        return MessageDecoder(
            warnings=self.warnings(request),
            json_tool=self._json_tool(request),
            hide_reasoning=self._hide_reasoning(request),
        )

    # -- errors, rate limits and models --------------------------------------------------------

    def parse_error(self, response: HttpResponse) -> ProviderError:
        try:
            payload = response.json()
        except ValueError:
            return super().parse_error(response)
        error = payload.get("error") if isinstance(payload, dict) else None
        if not isinstance(error, dict):
            return super().parse_error(response)
        return error_from_payload(error, response.status_code, response.headers, payload)

    def rate_limit(self, headers: Mapping[str, str]) -> RateLimit | None:
        return parse_rate_limit_headers(headers)

    def models_request(self) -> HttpRequest:
        return HttpRequest("GET", "/v1/models", params={"limit": "1000"})

    def parse_models(self, response: HttpResponse) -> list[ModelInfo]:
        payload = response.json()
        items = (payload.get("data") or []) if isinstance(payload, dict) else []
        return [
            ModelInfo(
                id=str(item.get("id")),
                provider="anthropic",
                owned_by="anthropic",
                created=_epoch(item.get("created_at")),
                context_window=_positive(item.get("max_input_tokens")),
                max_output_tokens=_positive(item.get("max_tokens")),
                raw=item,
            )
            for item in items
            if isinstance(item, dict) and item.get("id")
        ]


def _positive(value: Any) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


_FRACTION = re.compile(r"\.(\d+)")


def _moment(value: str) -> datetime | None:
    """An RFC 3339 time (``2025-02-24T22:25:30Z``, any fraction digits) as an aware datetime."""
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _epoch(value: Any) -> int | None:
    moment = _moment(value) if isinstance(value, str) and value else None
    return int(moment.timestamp()) if moment is not None else None


def _seconds_until(value: str | None, now: float) -> float | None:
    if not value:
        return None
    moment = _moment(value)
    if moment is None:
        return parse_duration(value)
    return max(moment.timestamp() - now, 0.0)


def _count(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


_PREFIX = "anthropic-ratelimit-"


def parse_rate_limit_headers(
    headers: Mapping[str, str], *, now: float | None = None
) -> RateLimit | None:
    """Read ``anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}``.

    Resets are RFC 3339 times, returned as seconds from ``now``. When the combined ``tokens``
    family is absent, the ``input-tokens`` family stands in for it.
    """
    retry_after = parse_retry_after(headers)
    tokens = "tokens" if headers.get(_PREFIX + "tokens-limit") is not None else "input-tokens"
    if (
        headers.get(_PREFIX + "requests-limit") is None
        and headers.get(_PREFIX + tokens + "-limit") is None
    ):
        return None if retry_after is None else RateLimit(retry_after=retry_after)
    now = time.time() if now is None else now
    return RateLimit(
        limit_requests=_count(headers.get(_PREFIX + "requests-limit")),
        remaining_requests=_count(headers.get(_PREFIX + "requests-remaining")),
        reset_requests=_seconds_until(headers.get(_PREFIX + "requests-reset"), now),
        limit_tokens=_count(headers.get(f"{_PREFIX}{tokens}-limit")),
        remaining_tokens=_count(headers.get(f"{_PREFIX}{tokens}-remaining")),
        reset_tokens=_seconds_until(headers.get(f"{_PREFIX}{tokens}-reset"), now),
        retry_after=retry_after,
    )

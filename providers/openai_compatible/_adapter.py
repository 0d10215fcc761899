"""The OpenAI-compatible chat-completions adapter: configuration plus overridable hooks.

Providers that speak this protocol (Groq, OpenAI, DeepSeek, vLLM, llama.cpp, ...) are a
:class:`OpenAICompatibleConfig` and, where their wire differs, a subclass overriding a hook.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from llmx import ModelInfo, ProviderError, Request, Response, ToolUseFailedError, Usage
from llmx.adapter import (
    AdapterBase,
    HttpRequest,
    HttpResponse,
    ProviderSpec,
    error_from_status,
)

from ._convert import build_body
from ._decode import ChunkDecoder, parse_usage, response_from_body

__all__ = ["OpenAICompatibleAdapter", "OpenAICompatibleConfig"]


@dataclass(frozen=True)
class OpenAICompatibleConfig:
    """How one OpenAI-compatible provider differs from the others."""

    name: str
    base_url: str | None = None
    api_key_env: str | None = None
    base_url_env: str | None = None
    key_required: bool = True
    default_headers: Mapping[str, str] = field(default_factory=dict)
    chat_path: str = "/chat/completions"
    models_path: str = "/models"
    max_tokens_field: str = "max_tokens"
    """``max_tokens`` or ``max_completion_tokens``."""
    include_usage: bool = True
    """Send ``stream_options.include_usage`` so streams report usage."""
    reasoning_fields: tuple[str, ...] = ("reasoning_content", "reasoning")
    """Where reasoning text arrives, in message and delta objects."""
    assistant_reasoning_field: str | None = None
    """Field to send earlier reasoning back in (None: not sent)."""
    reasoning_effort: bool = True
    send_names: bool = True
    developer_role: bool = False


class OpenAICompatibleAdapter(AdapterBase):
    """Adapter for ``POST {base_url}/chat/completions`` with SSE streaming."""

    def __init__(self, config: OpenAICompatibleConfig) -> None:
        self.config = config
        self.spec = ProviderSpec(
            name=config.name,
            default_base_url=config.base_url,
            api_key_env=config.api_key_env,
            base_url_env=config.base_url_env,
            key_required=config.key_required,
            default_headers=config.default_headers,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.config.name!r})"

    # -- requests ----------------------------------------------------------------------------

    def build_request(self, request: Request, *, stream: bool) -> HttpRequest:
        body = build_body(request, stream=stream, config=self.config)
        body = self.transform_body(body, request, stream=stream)
        return HttpRequest("POST", self.config.chat_path, body)

    def transform_body(
        self, body: dict[str, Any], request: Request, *, stream: bool
    ) -> dict[str, Any]:
        """Hook: provider-specific fields. The base merges ``provider_options[name]`` as is."""
        options = request.provider_options.get(self.config.name)
        if options:
            body.update(options)
        return body

    def warnings(self, request: Request) -> list[str]:
        """Hook: settings this provider accepts but ignores (shown on ``response-start``)."""
        return []

    # -- responses ---------------------------------------------------------------------------

    def parse_response(self, response: HttpResponse, request: Request) -> Response:
        return response_from_body(response.json(), self, _split(request), self.warnings(request))

    def stream_decoder(self, request: Request) -> ChunkDecoder:
        return ChunkDecoder(self, _split(request), self.warnings(request))

    def reasoning_of(self, obj: dict[str, Any]) -> str | None:
        """Hook: reasoning text of a message or delta."""
        for name in self.config.reasoning_fields:
            value = obj.get(name)
            if value:
                return str(value)
        return None

    def usage_of(self, obj: dict[str, Any]) -> Usage | None:
        """Hook: usage of a response body or chunk, or None when it carries none."""
        raw = obj.get("usage")
        return parse_usage(raw) if raw else None

    def on_chunk(self, chunk: dict[str, Any], metadata: dict[str, Any]) -> None:
        """Hook: collect provider metadata from a stream chunk."""

    def finish_metadata(self, metadata: dict[str, Any]) -> dict[str, Any] | None:
        """Hook: provider metadata for the finish event, from what ``on_chunk`` collected."""
        return metadata or None

    def metadata_of(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """Hook: provider metadata of a non-streaming response body."""
        return None

    # -- errors and models -------------------------------------------------------------------

    def parse_error(self, response: HttpResponse) -> ProviderError:
        try:
            payload = response.json()
        except ValueError:
            return super().parse_error(response)
        error = payload.get("error") if isinstance(payload, dict) else None
        if isinstance(error, str):
            error = {"message": error}
        if not isinstance(error, dict):
            return super().parse_error(response)
        return self.error_from_payload(error, response.status_code, response.headers, body=payload)

    def error_from_payload(
        self, error: dict[str, Any], status: int, headers: Mapping[str, str], body: Any = None
    ) -> ProviderError:
        """The typed error for an ``{"error": {...}}`` object (HTTP or in-stream)."""
        code = error.get("code")
        code_text = str(code) if code is not None else None
        extra: dict[str, Any] = {}
        error_class: type[ProviderError] | None = None
        if code_text == "tool_use_failed":
            error_class = ToolUseFailedError
            extra["failed_generation"] = error.get("failed_generation")
        return error_from_status(
            self.config.name,
            status,
            str(error.get("message") or "unknown error"),
            headers=headers,
            code=code_text,
            error_type=error.get("type"),
            body=body if body is not None else {"error": error},
            error_class=error_class,
            **extra,
        )

    def models_request(self) -> HttpRequest:
        return HttpRequest("GET", self.config.models_path)

    def parse_models(self, response: HttpResponse) -> list[ModelInfo]:
        payload = response.json()
        items = (
            payload.get("data") or payload.get("models") or []
            if isinstance(payload, dict)
            else payload
        )
        return [self.model_info(item) for item in items if isinstance(item, dict)]

    def model_info(self, item: dict[str, Any]) -> ModelInfo:
        """Hook: one entry of the model list."""
        return ModelInfo(
            id=str(item.get("id") or item.get("name")),
            provider=self.config.name,
            owned_by=item.get("owned_by"),
            created=item.get("created"),
            active=item.get("active"),
            context_window=item.get("context_window"),
            max_output_tokens=item.get("max_completion_tokens"),
            raw=item,
        )


def _split(request: Request) -> bool:
    return request.reasoning is not None and request.reasoning.parse_think_tags

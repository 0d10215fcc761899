"""The OpenAI-compatible chat-completions adapter: configuration plus overridable hooks.

Providers that speak this protocol (Groq, OpenAI, DeepSeek, vLLM, llama.cpp, ...) are a
:class:`OpenAICompatibleConfig` and, where their wire differs, a subclass overriding a hook.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from llmx import (
    FinishReason,
    ModelInfo,
    ProviderError,
    Request,
    Response,
    ToolUseFailedError,
    Usage,
)
from llmx.adapter import (
    AdapterBase,
    HttpRequest,
    HttpResponse,
    ProviderSpec,
    error_from_status,
)

from ._convert import build_body
from ._decode import ChunkDecoder, finish_reason, parse_usage, response_from_body

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
    content_with_tool_calls: bool = False
    """Send ``"content": ""`` on assistant messages that only call tools (the key is left
    out otherwise, as OpenAI allows; llama-cpp-python's chat templates need it)."""
    # -- quirks: every default below leaves the request and the decoding unchanged ---------
    reasoning_efforts: frozenset[str] | None = None
    """The ``reasoning.effort`` values the provider accepts (None: send any). Another value is
    not sent: silently for ``"default"`` (the provider's default), with a warning otherwise."""
    reasoning_object: bool = False
    """Send ``reasoning: {effort, max_tokens, exclude}`` instead of ``reasoning_effort``
    (OpenRouter), so ``budget_tokens`` and ``include=False`` are expressed too."""
    assistant_reasoning_scope: Literal["all", "tool_turns"] = "all"
    """Which earlier assistant messages get ``assistant_reasoning_field``: all, or only those
    of a turn (user message to user message) that called tools (DeepSeek's thinking mode)."""
    renamed_fields: Mapping[str, str] = field(default_factory=dict)
    """Request-body fields this provider spells differently, e.g. ``{"seed": "random_seed"}``."""
    unsupported_fields: tuple[str, ...] = ()
    """Request-body fields this provider rejects: not sent, with a warning on response-start."""
    tool_call_id: Callable[[str], str] | None = None
    """Rewrites the tool-call ids sent back in history (Mistral takes 9 alphanumerics only);
    it must be deterministic so a call and its result keep matching."""
    finish_reasons: Mapping[str, FinishReason] = field(default_factory=dict)
    """Provider-specific raw finish reasons, e.g. Mistral's ``model_length``."""
    completion_excludes_reasoning: bool = False
    """``usage.completion_tokens`` leaves out the reasoning tokens (xAI): llmx adds them."""
    non_retryable_codes: frozenset[str] = frozenset()
    """Error codes that repeating the request cannot fix (OpenAI's 429 ``insufficient_quota``)."""


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
        _apply_quirks(body, request, self.config)
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
        """Hook: settings this provider ignores or llmx did not send (on ``response-start``).

        The base reports what the config's quirks left out of the request."""
        config = self.config
        out = [
            f"{config.name}: {name} is not supported by this provider and was not sent"
            for name in config.unsupported_fields
            if getattr(request, name, None) is not None
        ]
        reasoning = request.reasoning
        effort = reasoning.effort if reasoning is not None else None
        budget = reasoning.budget_tokens if reasoning is not None else None
        if budget is not None and not config.reasoning_object:
            out.append(
                f"{config.name}: reasoning.budget_tokens is not supported and was not sent; "
                "use reasoning.effort"
            )
        if effort is not None and effort != "default":
            if not (config.reasoning_effort or config.reasoning_object):
                out.append(f"{config.name}: reasoning.effort is not supported and was not sent")
            elif config.reasoning_efforts is not None and effort not in config.reasoning_efforts:
                out.append(
                    f"{config.name}: reasoning.effort {effort!r} is not supported and was not "
                    f"sent; use one of {sorted(config.reasoning_efforts)}"
                )
        return out

    # -- responses ---------------------------------------------------------------------------

    def parse_response(self, response: HttpResponse, request: Request) -> Response:
        return response_from_body(
            response.json(), self, _split(request), self.warnings(request), _hide(request)
        )

    def stream_decoder(self, request: Request) -> ChunkDecoder:
        return ChunkDecoder(self, _split(request), self.warnings(request), _hide(request))

    def reasoning_of(self, obj: dict[str, Any]) -> str | None:
        """Hook: reasoning text of a message or delta."""
        for name in self.config.reasoning_fields:
            value = obj.get(name)
            if value:
                return str(value)
        return None

    def usage_of(self, obj: dict[str, Any]) -> Usage | None:
        """Hook: usage of a response body or chunk, or None when it carries none.

        Besides OpenAI's fields it reads DeepSeek's ``prompt_cache_hit_tokens``, OpenAI's
        ``prompt_tokens_details.cache_write_tokens`` and Cerebras' top-level ``time_info``."""
        raw = obj.get("usage")
        if not raw:
            return None
        usage = parse_usage(raw)
        update: dict[str, Any] = {}
        if usage.cached_tokens is None and isinstance(raw.get("prompt_cache_hit_tokens"), int):
            update["cached_tokens"] = raw["prompt_cache_hit_tokens"]
        written = (raw.get("prompt_tokens_details") or {}).get("cache_write_tokens")
        if usage.cache_creation_tokens is None and isinstance(written, int):
            update["cache_creation_tokens"] = written
        if self.config.completion_excludes_reasoning and usage.reasoning_tokens:
            update["completion_tokens"] = usage.completion_tokens + usage.reasoning_tokens
            update["total_tokens"] = max(
                usage.total_tokens, usage.prompt_tokens + update["completion_tokens"]
            )
        timing = obj.get("time_info")
        if isinstance(timing, dict) and usage.total_time is None:
            for name in ("queue_time", "prompt_time", "completion_time", "total_time"):
                value = timing.get(name)
                if isinstance(value, int | float):
                    update[name] = float(value)
        return usage.model_copy(update=update) if update else usage

    def finish_reason_of(
        self, raw: str | None, has_tool_calls: bool, metadata: dict[str, Any] | None
    ) -> FinishReason:
        """Hook: the normalized finish reason, given the finish metadata (``finish_metadata``
        for streams, ``metadata_of`` for whole responses), so both paths agree."""
        extra = self.config.finish_reasons.get(raw) if raw else None
        if extra is not None:
            if has_tool_calls and extra is FinishReason.STOP:
                return FinishReason.TOOL_CALLS
            return extra
        return finish_reason(raw, has_tool_calls)

    def on_chunk(self, chunk: dict[str, Any], metadata: dict[str, Any]) -> None:
        """Hook: collect provider metadata from a stream chunk.

        Not called for the stream's plain text chunks (after the first chunk, one
        ``content`` delta and no usage, error, finish reason or ``x_groq``): the hot path."""

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
        if code_text is not None and code_text in self.config.non_retryable_codes:
            extra["retryable"] = False
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


def _apply_quirks(body: dict[str, Any], request: Request, config: OpenAICompatibleConfig) -> None:
    """Adjust a built body to the config's quirks (a no-op for the default config)."""
    reasoning = request.reasoning
    if config.reasoning_object and reasoning is not None:
        body.pop("reasoning_effort", None)
        wanted: dict[str, Any] = {}
        if reasoning.budget_tokens is not None:  # OpenRouter takes one of max_tokens, effort
            wanted["max_tokens"] = reasoning.budget_tokens
        elif reasoning.effort is not None and reasoning.effort != "default":
            if config.reasoning_efforts is None or reasoning.effort in config.reasoning_efforts:
                wanted["effort"] = reasoning.effort
        if reasoning.include is False:
            wanted["exclude"] = True
        if wanted:
            body["reasoning"] = wanted
    effort = body.get("reasoning_effort")
    if effort is not None and config.reasoning_efforts is not None:
        if effort not in config.reasoning_efforts:
            del body["reasoning_effort"]
    for name in config.unsupported_fields:
        body.pop(name, None)
    for old, new in config.renamed_fields.items():
        if old in body:
            body[new] = body.pop(old)
    messages = body.get("messages")
    if not isinstance(messages, list):
        return
    field_name = config.assistant_reasoning_field
    if field_name and config.assistant_reasoning_scope == "tool_turns":
        _keep_reasoning_of_tool_turns(messages, field_name)
    rename = config.tool_call_id
    if rename is not None:
        for message in messages:
            if message.get("tool_call_id"):
                message["tool_call_id"] = rename(message["tool_call_id"])
            for call in message.get("tool_calls") or ():
                if call.get("id"):
                    call["id"] = rename(call["id"])


def _keep_reasoning_of_tool_turns(messages: list[dict[str, Any]], field_name: str) -> None:
    """Drop ``field_name`` from assistant messages of turns that called no tool."""
    turn: list[dict[str, Any]] = []
    for message in [*messages, {"role": "user"}]:  # a sentinel user message ends the last turn
        if message.get("role") == "user":
            if not any(m.get("tool_calls") for m in turn):
                for m in turn:
                    m.pop(field_name, None)
            turn = []
        elif message.get("role") == "assistant":
            turn.append(message)


def _hide(request: Request) -> bool:
    """``reasoning.include=False``: drop reasoning text the server sends anyway."""
    return request.reasoning is not None and request.reasoning.include is False

"""Groq: the OpenAI-compatible base configured for Groq, plus a few hooks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from llmx import InvalidInputError, ModelInfo, ProviderError, Request, Usage
from llmx.adapter import stream_error

from ..openai_compatible import OpenAICompatibleAdapter, OpenAICompatibleConfig, parse_usage
from ._catalog import MODELS

__all__ = ["GroqAdapter", "GroqOptions"]

CONFIG = OpenAICompatibleConfig(
    name="groq",
    base_url="https://api.groq.com/openai/v1",
    api_key_env="GROQ_API_KEY",
    base_url_env="GROQ_BASE_URL",
    max_tokens_field="max_completion_tokens",
    include_usage=False,  # usage always arrives on the finish chunk (x_groq.usage / usage)
    reasoning_fields=("reasoning",),
    send_names=False,  # Groq rejects messages[].name with a 400
)


class GroqOptions(BaseModel):
    """``Request.provider_options["groq"]``: Groq-only request fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reasoning_format: Literal["parsed", "raw", "hidden"] | None = None
    include_reasoning: bool | None = None
    service_tier: Literal["auto", "on_demand", "flex", "performance"] | None = None
    search_settings: dict[str, Any] | None = None
    compound_custom: dict[str, Any] | None = None
    documents: list[dict[str, Any]] | None = None
    citation_options: Literal["enabled", "disabled"] | None = None
    disable_tool_validation: bool | None = None
    extra_body: dict[str, Any] | None = None
    """Any other top-level field, sent as is."""


_UNSUPPORTED = ("frequency_penalty", "presence_penalty")


class GroqAdapter(OpenAICompatibleAdapter):
    """Groq's chat completions (``https://api.groq.com/openai/v1``)."""

    def __init__(self) -> None:
        super().__init__(CONFIG)

    def transform_body(
        self, body: dict[str, Any], request: Request, *, stream: bool
    ) -> dict[str, Any]:
        raw = request.provider_options.get("groq")
        try:
            options = GroqOptions.model_validate(raw or {})
        except ValidationError as exc:
            raise InvalidInputError(f"invalid provider_options['groq']: {exc}") from None
        reasoning = request.reasoning
        if (
            reasoning is not None
            and reasoning.include is not None
            and options.reasoning_format is None
            and options.include_reasoning is None
        ):
            body["reasoning_format"] = "parsed" if reasoning.include else "hidden"
        fields = options.model_dump(exclude_none=True, exclude={"extra_body"})
        body.update(fields)
        if options.extra_body:
            body.update(options.extra_body)
        return body

    def warnings(self, request: Request) -> list[str]:
        return [
            f"groq: {name} is accepted but has no effect on any Groq model"
            for name in _UNSUPPORTED
            if getattr(request, name) is not None
        ]

    def usage_of(self, obj: dict[str, Any]) -> Usage | None:
        raw = obj.get("usage") or (obj.get("x_groq") or {}).get("usage")
        return parse_usage(raw) if raw else None

    def on_chunk(self, chunk: dict[str, Any], metadata: dict[str, Any]) -> None:
        x_groq = chunk.get("x_groq")
        if x_groq:
            if x_groq.get("error"):
                raise stream_error(f"stopped early: {x_groq['error']}", provider="groq")
            if x_groq.get("id") and x_groq["id"] != "stub":
                metadata.setdefault("x_groq_id", x_groq["id"])
            if x_groq.get("usage_breakdown"):
                metadata["usage_breakdown"] = x_groq["usage_breakdown"]
        choices = chunk.get("choices")
        if choices:
            tools = (choices[0].get("delta") or {}).get("executed_tools")
            if tools:
                merged = metadata.setdefault("_executed", {})
                for tool in tools:
                    merged.setdefault(tool.get("index", len(merged)), {}).update(tool)
        for name in ("system_fingerprint", "service_tier"):
            if chunk.get(name):
                metadata[name] = chunk[name]

    def finish_metadata(self, metadata: dict[str, Any]) -> dict[str, Any] | None:
        if not metadata:
            return None
        out = {k: v for k, v in metadata.items() if k != "_executed"}
        executed = metadata.get("_executed")
        if executed:
            out["executed_tools"] = [executed[k] for k in sorted(executed)]
        return {"groq": out}

    def metadata_of(self, body: dict[str, Any]) -> dict[str, Any] | None:
        out: dict[str, Any] = {}
        x_groq = body.get("x_groq") or {}
        if x_groq.get("id") and x_groq["id"] != "stub":
            out["x_groq_id"] = x_groq["id"]
        for name in ("system_fingerprint", "service_tier"):
            if body.get(name):
                out[name] = body[name]
        breakdown = body.get("usage_breakdown") or x_groq.get("usage_breakdown")
        if breakdown and breakdown.get("models"):
            out["usage_breakdown"] = breakdown
        choices = body.get("choices") or [{}]
        executed = (choices[0].get("message") or {}).get("executed_tools")
        if executed:
            out["executed_tools"] = executed
        return {"groq": out} if out else None

    def error_from_payload(
        self, error: dict[str, Any], status: int, headers: Mapping[str, str], body: Any = None
    ) -> ProviderError:
        result = super().error_from_payload(error, status, headers, body)
        if error.get("code") == "model_decommissioned" or error.get("code") == "model_not_found":
            model = next(
                (
                    m
                    for m in MODELS.values()
                    if m.retired and f"`{m.id}`" in str(error.get("message"))
                ),
                None,
            )
            if model is not None and model.replacement:
                result.message += f" (llmx: {model.id} was retired; use {model.replacement})"
                result.args = (result.message,)
        return result

    def model_info(self, item: dict[str, Any]) -> ModelInfo:
        info = super().model_info(item)
        card = MODELS.get(info.id)
        if card is None:
            return info
        return info.model_copy(
            update={
                "context_window": info.context_window or card.context_window,
                "max_output_tokens": info.max_output_tokens or card.max_output_tokens,
            }
        )

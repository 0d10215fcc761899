"""Groq: the OpenAI-compatible base configured for Groq, plus a few hooks."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from llmx import ContextLengthError, InvalidInputError, ModelInfo, ProviderError, Request, Usage
from llmx.adapter import error_from_status, stream_error

from ..openai_compatible import OpenAICompatibleAdapter, OpenAICompatibleConfig, parse_usage
from ._catalog import MODELS, replacement_for

__all__ = ["GroqAdapter", "GroqOptions"]

CONFIG = OpenAICompatibleConfig(
    name="groq",
    base_url="https://api.groq.com/openai/v1",
    api_key_env="GROQ_API_KEY",
    base_url_env="GROQ_BASE_URL",
    max_tokens_field="max_completion_tokens",
    include_usage=False,  # usage always arrives on the finish chunk (x_groq.usage / usage)
    reasoning_fields=("reasoning",),
    # qwen3: none/default; gpt-oss: low/medium/high; Groq rejects anything else with a 400
    reasoning_efforts=frozenset({"none", "default", "low", "medium", "high"}),
    send_names=False,  # Groq rejects messages[].name with a 400
)


class GroqOptions(BaseModel):
    """``Request.provider_options["groq"]``: Groq-only request fields."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

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

    catalog = MODELS

    def __init__(self) -> None:
        super().__init__(CONFIG)

    def transform_body(
        self, body: dict[str, Any], request: Request, *, stream: bool
    ) -> dict[str, Any]:
        raw = request.provider_options.get("groq")
        try:
            options = GroqOptions.model_validate(raw) if raw else None
        except ValidationError as exc:
            raise InvalidInputError(f"invalid provider_options['groq']: {exc}") from None
        if options is None:
            chosen = False
        elif options.reasoning_format is not None and options.include_reasoning is not None:
            raise InvalidInputError(
                "provider_options['groq']: reasoning_format and include_reasoning are mutually "
                "exclusive (Groq rejects a request with both); set one of them"
            )
        else:
            chosen = options.reasoning_format is not None or options.include_reasoning is not None
        reasoning = request.reasoning
        if reasoning is not None and reasoning.include is not None and not chosen:
            body["reasoning_format"] = "parsed" if reasoning.include else "hidden"
        if options is not None:
            body.update(options.model_dump(exclude_none=True, exclude={"extra_body"}))
            if options.extra_body:
                body.update(options.extra_body)
        return body

    def warnings(self, request: Request) -> list[str]:
        out = super().warnings(request)
        out += [
            f"groq: {name} is accepted but has no effect on any Groq model"
            for name in _UNSUPPORTED
            if getattr(request, name) is not None
        ]
        return out

    def usage_of(self, obj: dict[str, Any]) -> Usage | None:
        # top-level usage (2026) or x_groq.usage (every era); the same counts when both are sent
        for raw in (obj.get("usage"), (obj.get("x_groq") or {}).get("usage")):
            if isinstance(raw, dict) and ("total_tokens" in raw or "prompt_tokens" in raw):
                return parse_usage(raw)
        return None

    def on_chunk(self, chunk: dict[str, Any], metadata: dict[str, Any]) -> None:
        x_groq = chunk.get("x_groq")
        if x_groq:
            if x_groq.get("error"):
                raise stream_error(f"stopped early: {x_groq['error']}", provider="groq")
            if x_groq.get("id") and x_groq["id"] != "stub":
                metadata.setdefault("x_groq_id", x_groq["id"])
            breakdown = x_groq.get("usage_breakdown")
            if isinstance(breakdown, dict) and breakdown.get("models"):
                metadata["usage_breakdown"] = breakdown
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
        code = error.get("code")
        message = str(error.get("message") or "")
        if status == 413 and (code == "rate_limit_exceeded" or error.get("type") == "tokens"):
            # one request (prompt + max_completion_tokens) above the organization's TPM limit:
            # it can never pass as is, so it is not a rate limit to wait out
            return error_from_status(
                self.config.name,
                status,
                f"{message} (llmx: this one request counts more tokens, prompt plus "
                "max_completion_tokens, than the organization's per-minute limit allows, so "
                "it cannot succeed as is)",
                headers=headers,
                code=str(code) if code is not None else None,
                error_type=error.get("type"),
                body=body if body is not None else {"error": error},
                error_class=ContextLengthError,
                retryable=False,
            )
        note = _model_note(message) if code in ("model_decommissioned", "model_not_found") else None
        if note:
            body = body if body is not None else {"error": error}
            error = {**error, "message": f"{message} (llmx: {note})"}
        return super().error_from_payload(error, status, headers, body)

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


_QUOTED = re.compile(r"`([^`]+)`")


def _model_note(message: str) -> str | None:
    """What to use instead of the model a model_decommissioned / model_not_found names."""
    match = _QUOTED.search(message)
    if match is None:
        return None
    model = match.group(1)
    card = MODELS.get(model)
    if card is not None and card.retired:
        replacement = replacement_for(model)
        if replacement:
            return f"{model} was retired by Groq; use {replacement} instead"
        return f"{model} was retired by Groq"
    if card is None:
        current = [m.id for m in MODELS.values() if not m.retired]
        from difflib import get_close_matches  # only on this error path

        close = get_close_matches(model, current, n=1, cutoff=0.8)
        if close:
            return f"did you mean {close[0]!r}?"
    return None

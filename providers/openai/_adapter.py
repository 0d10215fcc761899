"""OpenAI Chat Completions: the OpenAI-compatible base configured for OpenAI, plus a few hooks."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from llmx import FinishReason, InvalidInputError, Request

from ..openai_compatible import OpenAICompatibleAdapter, OpenAICompatibleConfig

__all__ = ["CONFIG", "OpenAIAdapter", "OpenAIOptions"]

CONFIG = OpenAICompatibleConfig(
    name="openai",
    base_url="https://api.openai.com/v1",
    api_key_env="OPENAI_API_KEY",
    base_url_env="OPENAI_BASE_URL",
    max_tokens_field="max_completion_tokens",  # max_tokens is deprecated, rejected by o-series
    include_usage=True,  # usage arrives in an extra chunk with "choices": [] after the finish
    developer_role=True,  # sent as is; OpenAI maps system <-> developer per model itself
    reasoning_efforts=frozenset({"none", "minimal", "low", "medium", "high"}),
    non_retryable_codes=frozenset({"insufficient_quota"}),  # a 429 that waiting cannot fix
)

_HEADER_ENV = (("openai-organization", "OPENAI_ORG_ID"), ("openai-project", "OPENAI_PROJECT_ID"))


class OpenAIOptions(BaseModel):
    """``Request.provider_options["openai"]``: OpenAI-only request fields, checked before sending.

    Fields left at None are not sent. ``reasoning_effort`` overrides ``Request.reasoning.effort``
    and takes values the provider-neutral setting does not have (``"xhigh"``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    service_tier: Literal["auto", "default", "flex", "scale", "priority"] | None = None
    store: bool | None = None
    metadata: dict[str, str] | None = Field(default=None, max_length=16)
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    logit_bias: dict[int | str, int] | None = None
    """Token id -> bias in [-100, 100]."""
    prediction: dict[str, Any] | None = None
    """Predicted output, e.g. ``{"type": "content", "content": "..."}``."""
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    verbosity: Literal["low", "medium", "high"] | None = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: str | None = None
    safety_identifier: str | None = None
    web_search_options: dict[str, Any] | None = None
    extra_body: dict[str, Any] | None = None
    """Any other top-level field, sent as is (and overriding what llmx built)."""

    @model_validator(mode="after")
    def _check(self) -> OpenAIOptions:
        if self.top_logprobs is not None and self.logprobs is not True:
            raise ValueError("top_logprobs needs logprobs=True")
        for token, bias in (self.logit_bias or {}).items():
            if not -100 <= bias <= 100:
                raise ValueError(f"logit_bias[{token!r}] = {bias} is outside [-100, 100]")
        for key, value in (self.metadata or {}).items():
            if len(key) > 64 or len(value) > 512:
                raise ValueError("metadata keys are at most 64 and values 512 characters long")
        return self

    def body_fields(self) -> dict[str, Any]:
        fields = self.model_dump(exclude_none=True, exclude={"extra_body", "logit_bias"})
        if self.logit_bias is not None:
            fields["logit_bias"] = {str(token): bias for token, bias in self.logit_bias.items()}
        return fields


class OpenAIAdapter(OpenAICompatibleAdapter):
    """OpenAI's ``POST /v1/chat/completions``.

    ``OPENAI_ORG_ID`` and ``OPENAI_PROJECT_ID``, when set, become the ``OpenAI-Organization``
    and ``OpenAI-Project`` headers, as in OpenAI's own SDKs. A refusal (structured outputs) ends
    with ``finish_reason`` content_filter and its text in ``provider_metadata["openai"]
    ["refusal"]``; the message text stays empty, as the wire's ``content`` is null.

    Roles: ``system`` and ``developer`` messages are sent as given, never rewritten by model
    name. OpenAI converts one into the other itself (system -> developer on o-series and newer
    reasoning models, developer -> system on the others), so a guess here could only be wrong
    for new models or OpenAI-compatible gateways behind ``OPENAI_BASE_URL``."""

    def __init__(self, config: OpenAICompatibleConfig = CONFIG) -> None:
        headers = {name: os.environ[env] for name, env in _HEADER_ENV if os.environ.get(env)}
        if headers:
            config = replace(config, default_headers={**config.default_headers, **headers})
        super().__init__(config)

    # -- requests ----------------------------------------------------------------------------

    def transform_body(
        self, body: dict[str, Any], request: Request, *, stream: bool
    ) -> dict[str, Any]:
        options = _options(request)
        body.update(options.body_fields())
        if options.extra_body:
            body.update(options.extra_body)
        return body

    def warnings(self, request: Request) -> list[str]:
        out = super().warnings(request)
        reasoning = request.reasoning
        if reasoning is not None and reasoning.include:
            out.append(
                "openai: Chat Completions does not return reasoning text; "
                "usage.reasoning_tokens counts it"
            )
        return out

    # -- responses ---------------------------------------------------------------------------

    def on_chunk(self, chunk: dict[str, Any], metadata: dict[str, Any]) -> None:
        choices = chunk.get("choices")
        if choices:
            choice = choices[0]
            refusal = (choice.get("delta") or {}).get("refusal")
            if refusal:
                metadata.setdefault("refusal", []).append(refusal)
            logprobs = choice.get("logprobs")
            if logprobs and logprobs.get("content"):
                metadata.setdefault("logprobs", []).extend(logprobs["content"])
        for name in ("system_fingerprint", "service_tier"):
            value = chunk.get(name)
            if value:
                metadata[name] = value

    def finish_metadata(self, metadata: dict[str, Any]) -> dict[str, Any] | None:
        if not metadata:
            return None
        out = dict(metadata)
        if "refusal" in out:
            out["refusal"] = "".join(out["refusal"])
        return {"openai": out}

    def metadata_of(self, body: dict[str, Any]) -> dict[str, Any] | None:
        out: dict[str, Any] = {}
        choices = body.get("choices") or [{}]
        choice = choices[0] if isinstance(choices[0], dict) else {}
        message = choice.get("message") or {}
        if message.get("refusal"):
            out["refusal"] = message["refusal"]
        logprobs = choice.get("logprobs") or {}
        if logprobs.get("content"):
            out["logprobs"] = logprobs["content"]
        if message.get("annotations"):
            out["annotations"] = message["annotations"]
        for name in ("system_fingerprint", "service_tier"):
            if body.get(name):
                out[name] = body[name]
        return {"openai": out} if out else None

    def finish_reason_of(
        self, raw: str | None, has_tool_calls: bool, metadata: dict[str, Any] | None
    ) -> FinishReason:
        if metadata and (metadata.get("openai") or {}).get("refusal"):
            return FinishReason.CONTENT_FILTER  # the wire says "stop"; raw_reason keeps it
        return super().finish_reason_of(raw, has_tool_calls, metadata)


def _options(request: Request) -> OpenAIOptions:
    try:
        return OpenAIOptions.model_validate(request.provider_options.get("openai") or {})
    except ValidationError as exc:
        raise InvalidInputError(f"invalid provider_options['openai']: {exc}") from None

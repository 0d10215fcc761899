"""``Request.provider_options["gemini"]``: the Gemini-only request settings."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from llmx import InvalidInputError, Request

__all__ = ["GeminiOptions", "options_of"]


class GeminiOptions(BaseModel):
    """Gemini-only settings. Keys may be snake_case or Gemini's camelCase (``safetySettings``).

    ``thinking_config`` and ``generation_config`` are merged over what llmx derives from the
    request (so they win); ``tools`` are appended to the function declarations (built-in tools
    such as ``{"googleSearch": {}}``, ``{"codeExecution": {}}``, ``{"urlContext": {}}``);
    ``extra_body`` is merged into the top level of the body as is.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        defer_build=True,
    )

    safety_settings: list[dict[str, Any]] | None = None
    """E.g. ``[{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}]``."""
    top_k: int | None = Field(default=None, ge=1)
    cached_content: str | None = None
    """A ``cachedContents/...`` name made with the caching API."""
    thinking_config: dict[str, Any] | None = None
    """Raw ``thinkingConfig`` fields, e.g. ``{"thinkingLevel": "LOW"}``."""
    generation_config: dict[str, Any] | None = None
    """Other ``generationConfig`` fields, e.g. ``{"responseModalities": ["TEXT"]}``."""
    tools: list[dict[str, Any]] | None = None
    """Extra entries of ``tools``: Gemini's built-in (server-executed) tools."""
    legacy_schema: bool = False
    """Send schemas as the OpenAPI subset (``parameters`` / ``responseSchema``), converted."""
    extra_body: dict[str, Any] | None = None
    """Any other top-level field, sent as is."""


def options_of(request: Request) -> GeminiOptions:
    raw = request.provider_options.get("gemini")
    try:
        return GeminiOptions.model_validate(raw or {})
    except ValidationError as exc:
        raise InvalidInputError(f"invalid provider_options['gemini']: {exc}") from None

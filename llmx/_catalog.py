"""Model cards: what a model can do and what it costs, so usage can be priced."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ._types import Usage

__all__ = ["ModelCard", "model_card", "model_cards"]


@dataclass(frozen=True, slots=True)
class ModelCard:
    """One model's limits, prices (USD per million tokens) and capabilities, as of ``as_of``."""

    id: str
    context_window: int | None
    max_output_tokens: int | None
    input_price: float | None
    output_price: float | None
    as_of: str
    tools: bool = False
    json_schema: bool = False
    vision: bool = False
    reasoning: bool = False
    status: str = "production"
    cached_input_price: float | None = None
    replacement: str | None = None
    """For a retired model: the model to use instead."""

    @property
    def retired(self) -> bool:
        return self.status == "retired"

    def cost(self, usage: Usage | None) -> float | None:
        """The price of ``usage`` in USD, or None when a price is unknown."""
        if usage is None or self.input_price is None or self.output_price is None:
            return None
        cached = usage.cached_tokens or 0
        cached_price = (
            self.input_price if self.cached_input_price is None else self.cached_input_price
        )
        return (
            (usage.prompt_tokens - cached) * self.input_price
            + cached * cached_price
            + usage.completion_tokens * self.output_price
        ) / 1_000_000


def model_cards(provider: str) -> Mapping[str, ModelCard]:
    """The catalog a provider's adapter ships (empty when it has none), keyed by model id."""
    from ._registry import default_registry

    return getattr(default_registry.create(provider), "catalog", {})


def model_card(provider: str, model: str) -> ModelCard | None:
    """The card of one model, e.g. ``model_card("groq", "llama-3.3-70b-versatile")``;
    ``"provider:model"`` works as the second argument too. None when unknown."""
    prefix, _, bare = model.partition(":")
    if prefix == provider and bare:
        model = bare
    return model_cards(provider).get(model)

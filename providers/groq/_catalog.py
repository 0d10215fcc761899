"""Groq's chat models: the seed document's table plus today's models.

Sources: console.groq.com/docs/models and /pricing as stored in mid-2026, Groq's ``GET /models``
(context windows, max output), and the deprecation notices. Prices are USD per million tokens.
Groq changes models often: ``list_models()`` gives the live list.
"""

from __future__ import annotations

from llmx.adapter import ModelCard

__all__ = ["AS_OF", "MODELS", "replacement_for"]

AS_OF = "2026-07"


def _card(
    model_id: str,
    ctx: int | None,
    out: int | None,
    price_in: float | None,
    price_out: float | None,
    *,
    cached: float | None = None,
    tools: bool = False,
    json_schema: bool = False,
    vision: bool = False,
    reasoning: bool = False,
    status: str = "production",
    replacement: str | None = None,
) -> ModelCard:
    return ModelCard(
        model_id,
        ctx,
        out,
        price_in,
        price_out,
        AS_OF,
        tools=tools,
        json_schema=json_schema,
        vision=vision,
        reasoning=reasoning,
        status=status,
        cached_input_price=cached,
        replacement=replacement,
    )


MODELS: dict[str, ModelCard] = {
    card.id: card
    for card in [
        # today's production and preview models
        _card("llama-3.3-70b-versatile", 131_072, 32_768, 0.59, 0.79, tools=True),
        _card("llama-3.1-8b-instant", 131_072, 131_072, 0.05, 0.08, tools=True),
        _card(
            "openai/gpt-oss-120b",
            131_072,
            65_536,
            0.15,
            0.60,
            cached=0.075,
            tools=True,
            json_schema=True,
            reasoning=True,
        ),
        _card(
            "openai/gpt-oss-20b",
            131_072,
            65_536,
            0.075,
            0.30,
            cached=0.0375,
            tools=True,
            json_schema=True,
            reasoning=True,
        ),
        _card(
            "openai/gpt-oss-safeguard-20b",
            131_072,
            65_536,
            0.075,
            0.30,
            tools=True,
            reasoning=True,
            status="preview",
        ),
        _card(
            "qwen/qwen3-32b",
            131_072,
            40_960,
            0.29,
            0.59,
            tools=True,
            reasoning=True,
            status="preview",
        ),
        _card(
            "meta-llama/llama-4-scout-17b-16e-instruct",
            131_072,
            8_192,
            0.11,
            0.34,
            tools=True,
            vision=True,
            status="preview",
        ),
        _card("meta-llama/llama-guard-4-12b", 131_072, 1_024, 0.20, 0.20, vision=True),
        _card("groq/compound", 131_072, 8_192, None, None, tools=True, reasoning=True),
        _card("groq/compound-mini", 131_072, 8_192, None, None, tools=True, reasoning=True),
        _card("allam-2-7b", 4_096, 4_096, None, None, status="preview"),
        # the seed document's table; most are retired by Groq now
        _card(
            "llama-3.1-70b-versatile",
            131_072,
            8_192,
            0.59,
            0.79,
            tools=True,
            status="retired",
            replacement="llama-3.3-70b-versatile",
        ),
        _card(
            "mixtral-8x7b-32768",
            32_768,
            32_768,
            0.24,
            0.24,
            tools=True,
            status="retired",
            replacement="llama-3.3-70b-versatile",
        ),
        _card(
            "gemma2-9b-it",
            8_192,
            8_192,
            0.20,
            0.20,
            tools=True,
            status="retired",
            replacement="llama-3.1-8b-instant",
        ),
        # models of the Cline document, retired since
        _card(
            "moonshotai/kimi-k2-instruct",
            131_072,
            16_384,
            1.00,
            3.00,
            cached=0.50,
            tools=True,
            status="retired",
            replacement="openai/gpt-oss-120b",
        ),
        _card(
            "moonshotai/kimi-k2-instruct-0905",
            262_144,
            16_384,
            1.00,
            3.00,
            cached=0.50,
            tools=True,
            status="retired",
            replacement="openai/gpt-oss-120b",
        ),
        _card(
            "meta-llama/llama-4-maverick-17b-128e-instruct",
            131_072,
            8_192,
            0.20,
            0.60,
            tools=True,
            vision=True,
            status="retired",
            replacement="meta-llama/llama-4-scout-17b-16e-instruct",
        ),
        # retired 2025-04-14 (console.groq.com/docs/deprecations); named by real
        # model_decommissioned errors
        _card(
            "llama-3.2-11b-vision-preview",
            8_192,
            8_192,
            None,
            None,
            vision=True,
            status="retired",
            replacement="meta-llama/llama-4-scout-17b-16e-instruct",
        ),
        _card(
            "llama-3.2-90b-vision-preview",
            8_192,
            8_192,
            None,
            None,
            vision=True,
            status="retired",
            replacement="meta-llama/llama-4-maverick-17b-128e-instruct",
        ),
        _card(
            "deepseek-r1-distill-llama-70b",
            131_072,
            8_192,
            0.75,
            0.99,
            tools=True,
            reasoning=True,
            status="retired",
            replacement="openai/gpt-oss-120b",
        ),
    ]
}


def replacement_for(model_id: str) -> str | None:
    """The model to use instead of a retired one, following retirements of the replacements
    themselves; None for a model that is not retired or has no known replacement."""
    current, seen = model_id, set()
    while True:
        card = MODELS.get(current)
        if card is None or not card.retired:
            return None if current == model_id else current
        if card.replacement is None or current in seen:
            return None
        seen.add(current)
        current = card.replacement

"""Anthropic's native Messages API (``https://api.anthropic.com/v1/messages``).

``ANTHROPIC_API_KEY`` holds the key (sent as ``x-api-key``) and ``ANTHROPIC_BASE_URL`` may move
the endpoint. Anthropic-only request settings go in ``Request.provider_options["anthropic"]``
(see :class:`AnthropicOptions`); :class:`AnthropicAdapter` documents how llmx settings map,
including the ``max_tokens`` default, extended thinking and ``response_format``.
"""

from ._adapter import AnthropicAdapter, AnthropicOptions, parse_rate_limit_headers
from ._convert import DEFAULT_MAX_TOKENS, EFFORT_BUDGETS, JSON_TOOL
from ._decode import MessageDecoder, finish_reason, parse_usage

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "EFFORT_BUDGETS",
    "JSON_TOOL",
    "AnthropicAdapter",
    "AnthropicOptions",
    "MessageDecoder",
    "create_adapter",
    "finish_reason",
    "parse_rate_limit_headers",
    "parse_usage",
]


def create_adapter() -> AnthropicAdapter:
    return AnthropicAdapter()

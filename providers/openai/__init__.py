"""OpenAI Chat Completions (``https://api.openai.com/v1``): the OpenAI-compatible base plus hooks.

``OPENAI_API_KEY`` holds the key and ``OPENAI_BASE_URL`` may move the endpoint (Azure-style
proxies, gateways). OpenAI-only request fields go in ``Request.provider_options["openai"]``
(see :class:`OpenAIOptions`).
"""

from ._adapter import CONFIG, OpenAIAdapter, OpenAIOptions

__all__ = ["CONFIG", "OpenAIAdapter", "OpenAIOptions", "create_adapter"]


def create_adapter() -> OpenAIAdapter:
    return OpenAIAdapter()

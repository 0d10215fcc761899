"""Groq (``https://api.groq.com/openai/v1``): the OpenAI-compatible base plus Groq's hooks.

``GROQ_API_KEY`` holds the key and ``GROQ_BASE_URL`` may move the endpoint. Groq-only request
fields go in ``Request.provider_options["groq"]`` (see :class:`GroqOptions`); ``MODELS`` is the
dated catalog with context windows, prices and capabilities.
"""

from ._adapter import GroqAdapter, GroqOptions
from ._catalog import AS_OF, MODELS

__all__ = ["AS_OF", "MODELS", "GroqAdapter", "GroqOptions", "create_adapter"]


def create_adapter() -> GroqAdapter:
    return GroqAdapter()

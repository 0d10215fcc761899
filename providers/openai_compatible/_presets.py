"""OpenAI-compatible presets: one row of configuration per provider, no code of their own.

Each row is an :class:`OpenAICompatibleConfig`: where the API lives, which environment variables
hold the key and may move the endpoint (``<NAME>_BASE_URL``), where reasoning arrives, and the
quirks as config flags. Adding a provider is a row here, a one-line factory below, and a line in
``pyproject.toml``'s ``llmx.providers`` entry points.

Sources (checked mid-2026; see ``tests/fixtures/openai/presets/SOURCES.md``):

- DeepSeek: api-docs.deepseek.com (thinking mode: in turns that called tools,
  ``reasoning_content`` must be sent back, elsewhere it is ignored; usage on the finish chunk
  with ``prompt_cache_hit_tokens``; finish reason ``insufficient_system_resource``).
- OpenRouter: openrouter.ai/docs (``reasoning`` request object and response field;
  ``: OPENROUTER PROCESSING`` comments; mid-stream errors as a data chunk with ``error``).
- Together: docs.together.ai (``reasoning`` field). Fireworks: docs.fireworks.ai
  (``reasoning_content``). Cerebras: inference-docs.cerebras.ai (``reasoning``,
  ``max_completion_tokens``, ``time_info``).
- Mistral: its OpenAPI schema (``random_seed``, no ``user``, no ``stream_options``: extra fields
  are a 422), tool-call ids must match ``[a-zA-Z0-9]{9}``, finish reason ``model_length``.
- xAI: ``completion_tokens`` excludes ``reasoning_tokens`` (total = prompt + completion +
  reasoning).
- Local servers (no key by default): Ollama ``/v1`` (``reasoning``), vLLM (``reasoning``, before
  late 2025 ``reasoning_content``), llama.cpp ``llama-server`` (``reasoning_content``,
  ``LLAMA_API_KEY``), LM Studio (``LM_API_TOKEN``).
"""

from __future__ import annotations

import hashlib
import string
from typing import Any

from llmx import ConfigurationError, FinishReason

from ._adapter import OpenAICompatibleAdapter, OpenAICompatibleConfig

__all__ = [
    "PRESETS",
    "cerebras",
    "deepseek",
    "fireworks",
    "llamacpp",
    "lmstudio",
    "mistral",
    "mistral_tool_call_id",
    "ollama_openai",
    "openrouter",
    "preset",
    "together",
    "vllm",
    "xai",
]

_EFFORTS = frozenset({"none", "minimal", "low", "medium", "high"})
"""The neutral ``reasoning.effort`` values; ``"default"`` (the provider's default) is not sent."""

_ALPHANUMERIC = string.ascii_letters + string.digits


def mistral_tool_call_id(call_id: str) -> str:
    """A tool-call id Mistral accepts (exactly 9 ASCII letters or digits).

    Valid ids are kept; others (from another provider, or llmx's ``call_0``) map through a hash,
    the same way every time, so an assistant's call and the tool result answering it still
    match."""
    if len(call_id) == 9 and call_id.isascii() and call_id.isalnum():
        return call_id
    digest = hashlib.sha256(call_id.encode("utf-8")).digest()
    return "".join(_ALPHANUMERIC[byte % len(_ALPHANUMERIC)] for byte in digest[:9])


def _row(name: str, base_url: str, api_key_env: str, **quirks: Any) -> OpenAICompatibleConfig:
    quirks.setdefault("reasoning_efforts", _EFFORTS)
    return OpenAICompatibleConfig(
        name=name,
        base_url=base_url,
        api_key_env=api_key_env,
        base_url_env=f"{name.upper()}_BASE_URL",
        **quirks,
    )


_LOCAL = {"key_required": False}

PRESETS: dict[str, OpenAICompatibleConfig] = {
    config.name: config
    for config in (
        _row(
            "deepseek",
            "https://api.deepseek.com",
            "DEEPSEEK_API_KEY",
            reasoning_fields=("reasoning_content",),
            assistant_reasoning_field="reasoning_content",
            assistant_reasoning_scope="tool_turns",
            finish_reasons={"insufficient_system_resource": FinishReason.ERROR},
        ),
        _row(
            "openrouter",
            "https://openrouter.ai/api/v1",
            "OPENROUTER_API_KEY",
            reasoning_fields=("reasoning",),
            reasoning_object=True,
            reasoning_efforts=None,  # OpenRouter maps every effort (xhigh, ...) per model
        ),
        _row(
            "together",
            "https://api.together.xyz/v1",
            "TOGETHER_API_KEY",
            reasoning_fields=("reasoning", "reasoning_content"),
        ),
        _row(
            "fireworks",
            "https://api.fireworks.ai/inference/v1",
            "FIREWORKS_API_KEY",
            reasoning_fields=("reasoning_content",),
        ),
        _row(
            "mistral",
            "https://api.mistral.ai/v1",
            "MISTRAL_API_KEY",
            include_usage=False,  # stream_options is a 422; usage comes on the last chunk anyway
            send_names=False,
            renamed_fields={"seed": "random_seed"},
            unsupported_fields=("user",),
            tool_call_id=mistral_tool_call_id,
            finish_reasons={"model_length": FinishReason.LENGTH},
        ),
        _row(
            "cerebras",
            "https://api.cerebras.ai/v1",
            "CEREBRAS_API_KEY",
            max_tokens_field="max_completion_tokens",
            reasoning_fields=("reasoning",),
        ),
        _row(
            "xai",
            "https://api.x.ai/v1",
            "XAI_API_KEY",
            reasoning_fields=("reasoning_content",),
            completion_excludes_reasoning=True,
        ),
        _row(
            "ollama_openai",
            "http://localhost:11434/v1",
            "OLLAMA_API_KEY",
            reasoning_fields=("reasoning",),
            **_LOCAL,
        ),
        _row(
            "vllm",
            "http://localhost:8000/v1",
            "VLLM_API_KEY",
            reasoning_fields=("reasoning", "reasoning_content"),
            **_LOCAL,
        ),
        _row(
            "llamacpp",
            "http://127.0.0.1:8080/v1",
            "LLAMA_API_KEY",
            reasoning_fields=("reasoning_content",),
            content_with_tool_calls=True,  # llama-cpp-python's templates read every content
            **_LOCAL,
        ),
        _row(
            "lmstudio",
            "http://localhost:1234/v1",
            "LM_API_TOKEN",
            reasoning_fields=("reasoning_content", "reasoning"),
            **_LOCAL,
        ),
    )
}


def preset(name: str) -> OpenAICompatibleAdapter:
    """The adapter for the preset ``name`` (a key of :data:`PRESETS`)."""
    config = PRESETS.get(name)
    if config is None:
        raise ConfigurationError(
            f"no OpenAI-compatible preset {name!r}; known: {', '.join(sorted(PRESETS))}"
        )
    return OpenAICompatibleAdapter(config)


# One factory per preset, each registered as an ``llmx.providers`` entry point.


def deepseek() -> OpenAICompatibleAdapter:
    return preset("deepseek")


def openrouter() -> OpenAICompatibleAdapter:
    return preset("openrouter")


def together() -> OpenAICompatibleAdapter:
    return preset("together")


def fireworks() -> OpenAICompatibleAdapter:
    return preset("fireworks")


def mistral() -> OpenAICompatibleAdapter:
    return preset("mistral")


def cerebras() -> OpenAICompatibleAdapter:
    return preset("cerebras")


def xai() -> OpenAICompatibleAdapter:
    return preset("xai")


def ollama_openai() -> OpenAICompatibleAdapter:
    return preset("ollama_openai")


def vllm() -> OpenAICompatibleAdapter:
    return preset("vllm")


def llamacpp() -> OpenAICompatibleAdapter:
    return preset("llamacpp")


def lmstudio() -> OpenAICompatibleAdapter:
    return preset("lmstudio")

"""OpenAI-compatible chat completions: the base every compatible provider configures or hooks."""

from ._adapter import OpenAICompatibleAdapter, OpenAICompatibleConfig
from ._convert import build_body, convert_message
from ._decode import ChunkDecoder, finish_reason, parse_usage
from ._presets import (
    PRESETS,
    cerebras,
    deepseek,
    fireworks,
    llamacpp,
    lmstudio,
    mistral,
    mistral_tool_call_id,
    ollama_openai,
    openrouter,
    preset,
    together,
    vllm,
    xai,
)

__all__ = [
    "PRESETS",
    "ChunkDecoder",
    "OpenAICompatibleAdapter",
    "OpenAICompatibleConfig",
    "build_body",
    "cerebras",
    "convert_message",
    "create_adapter",
    "deepseek",
    "finish_reason",
    "fireworks",
    "llamacpp",
    "lmstudio",
    "mistral",
    "mistral_tool_call_id",
    "ollama_openai",
    "openrouter",
    "parse_usage",
    "preset",
    "together",
    "vllm",
    "xai",
]


def create_adapter() -> OpenAICompatibleAdapter:
    """Any OpenAI-compatible server: pass ``base_url``; the key is optional
    (``OPENAI_COMPATIBLE_API_KEY`` when set)."""
    return OpenAICompatibleAdapter(
        OpenAICompatibleConfig(
            name="openai_compatible",
            api_key_env="OPENAI_COMPATIBLE_API_KEY",
            base_url_env="OPENAI_COMPATIBLE_BASE_URL",
            key_required=False,
        )
    )

"""Client options: seed 000, "配置选项" (WithGroq / ClientBuilder), plus the config forms.

The Go originals::

    client, err := llmx.NewClient(
        llmx.WithGroq(os.Getenv("GROQ_API_KEY")),
        llmx.WithDefaultModel("llama-3.3-70b-versatile"),
    )

    client, err := llmx.NewClientBuilder().
        Groq(os.Getenv("GROQ_API_KEY")).
        Model("llama-3.1-70b-versatile").
        Temperature(0.7).
        MaxTokens(1024).
        Build()

Groq has retired llama-3.1-70b-versatile since the seed was written; llama-3.3-70b-versatile
replaces it. Every form below builds the same kind of ``llmx.Client``; pick the one that fits
where your configuration lives.
"""

from __future__ import annotations

import os

import llmx


def main() -> None:
    key = os.getenv("GROQ_API_KEY")

    # 1. Keywords: the seed's NewClient(WithGroq(key), WithDefaultModel(...)).
    keyword = llmx.Client(provider="groq", api_key=key, model="llama-3.3-70b-versatile")

    # 2. The fluent builder, with request defaults (temperature, max_tokens).
    built = (
        llmx.ClientBuilder()
        .groq(key)
        .model("llama-3.3-70b-versatile")
        .temperature(0.7)
        .max_tokens(1024)
        .build()
    )

    # 3. One "provider:model" string; the key comes from GROQ_API_KEY.
    from_model = llmx.Client.from_model("groq:llama-3.1-8b-instant")

    # 4. A dict, e.g. loaded from a YAML/TOML/JSON settings file. Request defaults such as
    #    temperature sit next to the client settings.
    from_config = llmx.Client.from_config(
        {
            "provider": "groq",
            "model": "llama-3.3-70b-versatile",
            "temperature": 0.7,
            "max_tokens": 1024,
            "timeout": 60,
            "max_retries": 3,
        }
    )

    # 5. Environment variables: LLMX_MODEL (plus LLMX_BASE_URL, LLMX_TIMEOUT, LLMX_MAX_RETRIES).
    os.environ.setdefault("LLMX_MODEL", "groq:llama-3.1-8b-instant")
    from_env = llmx.Client.from_env()

    forms = {
        "Client(provider=..., api_key=..., model=...)": keyword,
        "ClientBuilder()...build()": built,
        "Client.from_model(...)": from_model,
        "Client.from_config({...})": from_config,
        "Client.from_env()": from_env,
    }
    for name, client in forms.items():
        with client:
            print(f"{name}: {client.provider}/{client.model}")
            print(f"  {client.simple_chat('用一句话介绍你自己')}")


if __name__ == "__main__":
    main()

"""Listing models: seed 000, "支持的模型" (and its link to console.groq.com/docs/models).

The seed's table is a snapshot; ``list_models()`` asks Groq which models your key can use right
now, with context windows and output limits.
"""

from __future__ import annotations

import os

import llmx


def main() -> None:
    with llmx.Client(provider="groq", api_key=os.getenv("GROQ_API_KEY")) as client:
        models = sorted(client.list_models(), key=lambda m: m.id)
    for model in models:
        context = f"{model.context_window:,}" if model.context_window else "?"
        output = f"{model.max_output_tokens:,}" if model.max_output_tokens else "?"
        print(
            f"{model.id:<45} {model.owned_by or '':<14} context {context:>9}  max out {output:>9}"
        )
    print(f"{len(models)} models")
    if not models:
        raise SystemExit("the provider listed no models")


if __name__ == "__main__":
    main()

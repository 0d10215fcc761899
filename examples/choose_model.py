"""Choosing a model per task: seed 002, best practice 1 "选择合适的模型" and tip 3.

The seed maps task complexity to a model: llama-3.1-8b-instant (fastest), llama-3.3-70b-versatile
(balanced) and deepseek-r1-distill-llama-70b (reasoning). Groq has retired the DeepSeek distill;
its catalog successor for reasoning is openai/gpt-oss-120b. llmx's Groq catalog (``MODELS``) gives
each model's context window and price, so the choice can be made with the numbers in view.
"""

from __future__ import annotations

import os

import llmx

MODELS = llmx.model_cards("groq")

MODEL_FOR = {
    "simple": "llama-3.1-8b-instant",  # fastest, cheapest
    "medium": "llama-3.3-70b-versatile",  # balanced
    "complex": "openai/gpt-oss-120b",  # reasoning
}

TASKS = {
    "simple": "把“你好”翻译成英文",
    "medium": "总结一下 LPU 和 GPU 的区别",
    "complex": "证明根号 2 是无理数",
}


def select_model(task_complexity: str) -> str:
    return MODEL_FOR[task_complexity]


def main() -> None:
    # No default model on the client: each call names its own.
    with llmx.Client(provider="groq", api_key=os.getenv("GROQ_API_KEY")) as client:
        for complexity, prompt in TASKS.items():
            model = select_model(complexity)
            card = MODELS[model]
            print(
                f"[{complexity}] {model}: context {card.context_window:,} tokens, "
                f"${card.input_price}/${card.output_price} per million tokens in/out"
            )
            response = client.chat(prompt, model=model)
            cost = card.cost(response.usage)
            if response.reasoning:
                print(f"  reasoning: {response.reasoning}")
            print(f"  answer: {response.text}")
            print(f"  cost: ${cost:.8f}" if cost is not None else "  cost: unknown")

    # The seed's tables also name models Groq has retired since; the catalog knows the successors.
    for old in ["deepseek-r1-distill-llama-70b", "llama-3.1-70b-versatile", "mixtral-8x7b-32768"]:
        card = MODELS[old]
        print(f"{old} is {card.status}; use {card.replacement}")


if __name__ == "__main__":
    main()

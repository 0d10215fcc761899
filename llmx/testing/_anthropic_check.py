"""Request validation for the emulator's Anthropic wire (the checks a cross-provider history
most easily fails, with Anthropic's own error messages)."""

from __future__ import annotations

from typing import Any

from ._neutral import signature

__all__ = ["THINKING", "blocks_of", "messages_problem", "thinking_config_problem"]

THINKING = ("thinking", "redacted_thinking")
DOCS = "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"


def blocks_of(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


def _thinking_problem(i: int, blocks: list[dict[str, Any]]) -> str | None:
    kinds = [b.get("type") for b in blocks]
    if any(k in THINKING for k in kinds) and kinds[0] not in THINKING:
        return (
            f"messages.{i}.content.0: If an assistant message contains any thinking blocks, the "
            f"first block must be thinking or redacted_thinking. Found {kinds[0]}."
        )
    for k, block in enumerate(blocks):
        text = str(block.get("thinking") or "")
        if block.get("type") == "thinking" and block.get("signature") != signature(
            "thinking", text
        ):
            return f"messages.{i}.content.{k}: Invalid `signature` in `thinking` block"
    return None


def _pairing_problem(
    i: int, blocks: list[dict[str, Any]], role: str, pending: list[str]
) -> str | None:
    results = [b.get("tool_use_id") for b in blocks if b.get("type") == "tool_result"]
    if pending:
        missing = [p for p in pending if p not in results]
        if role != "user" or missing:
            return (
                f"messages.{i - 1}: `tool_use` ids were found without `tool_result` blocks "
                f"immediately after: {', '.join(missing or pending)}. Each `tool_use` block must "
                "have a corresponding `tool_result` block in the next message."
            )
        if any(b.get("type") != "tool_result" for b in blocks[: len(pending)]):
            return (
                f"messages.{i}: Did not find {len(pending)} `tool_result` block(s) at the "
                "beginning of this message. Messages following `tool_use` blocks must begin with "
                "a matching number of `tool_result` blocks."
            )
    for k, block in enumerate(blocks):
        if block.get("type") == "tool_result" and block.get("tool_use_id") not in pending:
            return (
                f"messages.{i}.content.{k}: unexpected `tool_use_id` found in `tool_result` "
                f"blocks: {block.get('tool_use_id')}. Each `tool_result` block must have a "
                "corresponding `tool_use` block in the previous message."
            )
    return None


def messages_problem(messages: list[Any], thinking_on: bool) -> str | None:
    pending: list[str] = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            return f"messages.{i}: Input should be a valid dictionary"
        role = message.get("role")
        if role == "system":
            return (
                'Unexpected role "system". The Messages API accepts a top-level `system` '
                'parameter, not "system" as an input message role.'
            )
        if role not in ("user", "assistant"):
            return f"messages.{i}.role: Input should be 'user' or 'assistant'"
        blocks = blocks_of(message.get("content"))
        if not blocks and not (i == len(messages) - 1 and role == "assistant"):
            return (
                f"messages.{i}: all messages must have non-empty content except for the "
                "optional final assistant message"
            )
        problem = _pairing_problem(i, blocks, str(role), pending)
        if problem is None and role == "assistant":
            problem = _thinking_problem(i, blocks)
        if problem:
            return problem
        pending = [str(b.get("id")) for b in blocks if b.get("type") == "tool_use"]
    last = len(messages) - 1
    blocks = blocks_of(messages[last].get("content"))
    kinds = [b.get("type") for b in blocks]
    if pending:
        return (
            f"messages.{last}: `tool_use` ids were found without `tool_result` blocks "
            f"immediately after: {', '.join(pending)}. Each `tool_use` block must have a "
            "corresponding `tool_result` block in the next message."
        )
    if messages[last].get("role") == "assistant" and not thinking_on and "thinking" in kinds:
        return (
            f"messages.{last}.content.0: When thinking is disabled, an `assistant` message in "
            "the final position cannot contain `thinking`. To use thinking blocks, enable "
            "`thinking` in your request."
        )
    if thinking_on and "tool_result" in kinds and last > 0:
        previous = [b.get("type") for b in blocks_of(messages[last - 1].get("content"))]
        if previous and previous[0] not in THINKING:
            return (
                f"messages.{last - 1}.content.0.type: Expected `thinking` or "
                f"`redacted_thinking`, but found `{previous[0]}`. When `thinking` is enabled, a "
                "final `assistant` message must start with a thinking block (preceeding the "
                "lastmost set of `tool_use` and `tool_result` blocks). We recommend you include "
                "thinking blocks from previous turns. To avoid this requirement, disable "
                f"`thinking`. Please consult our documentation at {DOCS}"
            )
    return None


def thinking_config_problem(body: dict[str, Any]) -> str | None:
    thinking = body.get("thinking")
    if not isinstance(thinking, dict) or thinking.get("type") != "enabled":
        return None
    budget = thinking.get("budget_tokens")
    if not isinstance(budget, int) or budget < 1024:
        return "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
    if budget >= body["max_tokens"]:
        return (
            "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our "
            f"documentation at {DOCS}#max-tokens-and-context-window-size"
        )
    if body.get("temperature") not in (None, 1, 1.0):
        return (
            "`temperature` may only be set to 1 when thinking is enabled. Please consult our "
            f"documentation at {DOCS}#feature-compatibility"
        )
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") in ("any", "tool"):
        return "Thinking may not be enabled when tool_choice forces tool use."
    return None

"""Helpers adapters use to turn wire deltas into events: part tracking and ``<think>`` splitting."""

from __future__ import annotations

from typing import Any

from ._events import (
    Event,
    ReasoningDelta,
    ReasoningEnd,
    ReasoningStart,
    TextDelta,
    TextEnd,
    TextStart,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
)
from ._types import parse_arguments

__all__ = ["PartTracker", "ThinkTagSplitter"]


class PartTracker:
    """Assigns part indices and wraps deltas in start/delta/end events.

    At most one text or reasoning part is open at a time (switching kind ends the other);
    tool calls stay open, keyed by the wire's own key, until ``end_tool`` or ``end_all``.
    """

    __slots__ = ("_next", "_text", "_reasoning", "_tools")

    def __init__(self) -> None:
        self._next = 0
        self._text = -1
        self._reasoning = -1
        self._tools: dict[Any, list[Any]] = {}

    def text(self, delta: str, out: list[Event]) -> None:
        index = self._text
        if index < 0:
            if self._reasoning >= 0:
                self.end_reasoning(out)
            index = self._text = self._next
            self._next += 1
            out.append(TextStart(index))
        out.append(TextDelta(index, delta))

    def reasoning(self, delta: str, out: list[Event]) -> None:
        index = self._reasoning
        if index < 0:
            if self._text >= 0:
                self.end_text(out)
            index = self._reasoning = self._next
            self._next += 1
            out.append(ReasoningStart(index))
        if delta:
            out.append(ReasoningDelta(index, delta))

    def end_text(self, out: list[Event]) -> None:
        if self._text >= 0:
            out.append(TextEnd(self._text))
            self._text = -1

    def end_reasoning(self, out: list[Event], metadata: dict[str, Any] | None = None) -> None:
        if self._reasoning >= 0:
            out.append(ReasoningEnd(self._reasoning, metadata))
            self._reasoning = -1

    def start_tool(self, key: Any, call_id: str, name: str, out: list[Event]) -> None:
        """Open a tool call (ends any open text or reasoning part first)."""
        self.end_text(out)
        self.end_reasoning(out)
        index = self._next
        self._next += 1
        self._tools[key] = [index, call_id, name, []]
        out.append(ToolCallStart(index, call_id, name))

    def tool_arguments(self, key: Any, delta: str, out: list[Event]) -> None:
        if delta:
            state = self._tools[key]
            state[3].append(delta)
            out.append(ToolCallDelta(state[0], state[1], delta))

    def end_tool(self, key: Any, out: list[Event], metadata: dict[str, Any] | None = None) -> None:
        """End one tool call; ``metadata`` is opaque provider data to send back with it."""
        state = self._tools.pop(key, None)
        if state is not None:
            raw = "".join(state[3])
            out.append(
                ToolCallEnd(
                    state[0], state[1], state[2], parse_arguments(raw), raw or "{}", metadata
                )
            )

    def end_all(self, out: list[Event]) -> None:
        """End every open part, tool calls in the order they started."""
        self.end_text(out)
        self.end_reasoning(out)
        for key in sorted(self._tools, key=lambda k: self._tools[k][0]):
            self.end_tool(key, out)


class ThinkTagSplitter:
    """Splits ``<think>...</think>`` out of streamed text, whatever the chunk boundaries.

    ``feed`` returns ``(is_reasoning, text)`` pieces. A tag split across chunks is held back
    until it is complete; whitespace right after either tag is dropped, as providers do when
    they parse reasoning themselves.
    """

    OPEN = "<think>"
    CLOSE = "</think>"
    __slots__ = ("_buffer", "_thinking", "_strip")

    def __init__(self) -> None:
        self._buffer = ""
        self._thinking = False
        self._strip = False

    def feed(self, text: str) -> list[tuple[bool, str]]:
        out: list[tuple[bool, str]] = []
        buffer = self._buffer + text
        while buffer:
            if self._strip:
                buffer = buffer.lstrip()
                if not buffer:
                    break
                self._strip = False
            tag = self.CLOSE if self._thinking else self.OPEN
            found = buffer.find(tag)
            if found >= 0:
                if found:
                    out.append((self._thinking, buffer[:found]))
                buffer = buffer[found + len(tag) :]
                self._thinking = not self._thinking
                self._strip = True
                continue
            keep = _partial_suffix(buffer, tag)
            emit = buffer[: len(buffer) - keep]
            if emit:
                out.append((self._thinking, emit))
            buffer = buffer[len(buffer) - keep :]
            break
        self._buffer = buffer
        return out

    def close(self) -> list[tuple[bool, str]]:
        rest, self._buffer = self._buffer, ""
        return [(self._thinking, rest)] if rest else []


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest suffix of ``text`` that is a proper prefix of ``tag``."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0

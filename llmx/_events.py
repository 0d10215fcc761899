"""The streaming event model: one union of small frozen classes, and ``accumulate()``.

Events are slotted dataclasses rather than pydantic models: a stream creates one per token, and
construction cost is most of the per-event budget. ``type`` is a class attribute.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar, Literal

from ._types import FinishReason, Message, Response, ToolCall, Usage, parse_arguments

__all__ = [
    "Accumulator",
    "Event",
    "EventType",
    "Finish",
    "ReasoningDelta",
    "ReasoningEnd",
    "ReasoningStart",
    "ResponseStart",
    "TextDelta",
    "TextEnd",
    "TextStart",
    "ToolCallDelta",
    "ToolCallEnd",
    "ToolCallStart",
    "UsageEvent",
    "accumulate",
]


class EventType(str, Enum):
    """The ``type`` of each event; compares equal to its string value."""

    RESPONSE_START = "response-start"
    TEXT_START = "text-start"
    TEXT_DELTA = "text-delta"
    TEXT_END = "text-end"
    REASONING_START = "reasoning-start"
    REASONING_DELTA = "reasoning-delta"
    REASONING_END = "reasoning-end"
    TOOL_CALL_START = "tool-call-start"
    TOOL_CALL_DELTA = "tool-call-delta"
    TOOL_CALL_END = "tool-call-end"
    USAGE = "usage"
    FINISH = "finish"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class ResponseStart:
    """First event of every stream."""

    type: ClassVar[Literal[EventType.RESPONSE_START]] = EventType.RESPONSE_START
    id: str | None
    model: str | None
    provider: str | None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TextStart:
    type: ClassVar[Literal[EventType.TEXT_START]] = EventType.TEXT_START
    index: int


@dataclass(frozen=True, slots=True)
class TextDelta:
    type: ClassVar[Literal[EventType.TEXT_DELTA]] = EventType.TEXT_DELTA
    index: int
    delta: str


@dataclass(frozen=True, slots=True)
class TextEnd:
    type: ClassVar[Literal[EventType.TEXT_END]] = EventType.TEXT_END
    index: int


@dataclass(frozen=True, slots=True)
class ReasoningStart:
    type: ClassVar[Literal[EventType.REASONING_START]] = EventType.REASONING_START
    index: int


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    type: ClassVar[Literal[EventType.REASONING_DELTA]] = EventType.REASONING_DELTA
    index: int
    delta: str


@dataclass(frozen=True, slots=True)
class ReasoningEnd:
    type: ClassVar[Literal[EventType.REASONING_END]] = EventType.REASONING_END
    index: int
    provider_metadata: dict[str, Any] | None = None
    """E.g. a thinking signature that must be sent back on the next turn."""


@dataclass(frozen=True, slots=True)
class ToolCallStart:
    type: ClassVar[Literal[EventType.TOOL_CALL_START]] = EventType.TOOL_CALL_START
    index: int
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    type: ClassVar[Literal[EventType.TOOL_CALL_DELTA]] = EventType.TOOL_CALL_DELTA
    index: int
    id: str
    arguments_delta: str


@dataclass(frozen=True, slots=True)
class ToolCallEnd:
    type: ClassVar[Literal[EventType.TOOL_CALL_END]] = EventType.TOOL_CALL_END
    index: int
    id: str
    name: str
    arguments: dict[str, Any]
    raw_arguments: str
    provider_metadata: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class UsageEvent:
    """Token counts as soon as the provider reports them (the last one wins)."""

    type: ClassVar[Literal[EventType.USAGE]] = EventType.USAGE
    usage: Usage


@dataclass(frozen=True, slots=True)
class Finish:
    """Last event of a successful stream."""

    type: ClassVar[Literal[EventType.FINISH]] = EventType.FINISH
    reason: FinishReason
    raw_reason: str | None = None
    usage: Usage | None = None
    provider_metadata: dict[str, Any] | None = field(default=None)


Event = (
    ResponseStart
    | TextStart
    | TextDelta
    | TextEnd
    | ReasoningStart
    | ReasoningDelta
    | ReasoningEnd
    | ToolCallStart
    | ToolCallDelta
    | ToolCallEnd
    | UsageEvent
    | Finish
)


class Accumulator:
    """Folds events into a Response, one event at a time (so a broken stream keeps its part)."""

    __slots__ = ("_start", "_text", "_reasoning", "_calls", "_usage", "_finish", "_metadata")

    def __init__(self) -> None:
        self._start: ResponseStart | None = None
        self._text: list[str] = []
        self._reasoning: list[str] | None = None
        self._calls: dict[int, list[Any]] = {}
        self._usage: Usage | None = None
        self._finish: Finish | None = None
        self._metadata: dict[str, Any] | None = None

    def add(self, event: Event) -> None:
        kind = event.type
        if kind is EventType.TEXT_DELTA:
            self._text.append(event.delta)  # type: ignore[union-attr]
        elif kind is EventType.REASONING_DELTA:
            if self._reasoning is None:
                self._reasoning = []
            self._reasoning.append(event.delta)  # type: ignore[union-attr]
        elif kind is EventType.REASONING_START:
            if self._reasoning is None:
                self._reasoning = []
        elif isinstance(event, ToolCallStart):
            self._calls[event.index] = [event.id, event.name, [], None]
        elif isinstance(event, ToolCallDelta):
            self._calls[event.index][2].append(event.arguments_delta)
        elif isinstance(event, ToolCallEnd):
            self._calls[event.index] = [event.id, event.name, [event.raw_arguments], event]
        elif isinstance(event, UsageEvent):
            self._usage = event.usage
        elif isinstance(event, Finish):
            self._finish = event
            if event.usage is not None:
                self._usage = event.usage
        elif isinstance(event, ResponseStart):
            self._start = event
        elif isinstance(event, ReasoningEnd) and event.provider_metadata:
            self._metadata = _merge(self._metadata, event.provider_metadata)

    @property
    def finished(self) -> bool:
        return self._finish is not None

    def response(self) -> Response:
        """The Response so far; complete once the ``finish`` event has been added."""
        calls = []
        for index in sorted(self._calls):
            call_id, name, parts, end = self._calls[index]
            if end is not None:
                calls.append(
                    ToolCall(
                        id=call_id,
                        name=name,
                        arguments=end.arguments,
                        raw_arguments=end.raw_arguments,
                        provider_metadata=end.provider_metadata,
                    )
                )
            else:
                raw = "".join(parts)
                calls.append(
                    ToolCall(
                        id=call_id,
                        name=name,
                        arguments=parse_arguments(raw),
                        raw_arguments=raw or "{}",
                    )
                )
        text = "".join(self._text)
        reasoning = "".join(self._reasoning) if self._reasoning is not None else None
        message = Message(
            role="assistant",
            content=text if text or not calls else None,
            tool_calls=calls,
            reasoning=reasoning,
            provider_metadata=self._metadata,
        )
        start, finish = self._start, self._finish
        metadata = finish.provider_metadata if finish is not None else None
        return Response(
            id=start.id if start else None,
            model=start.model if start else None,
            provider=start.provider if start else None,
            message=message,
            finish_reason=finish.reason if finish else FinishReason.ERROR,
            raw_finish_reason=finish.raw_reason if finish else None,
            usage=self._usage,
            warnings=list(start.warnings) if start else [],
            provider_metadata=metadata,
        )


def _merge(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """Merge provider metadata two levels deep: ``{"provider": {key: value}}``."""
    merged = dict(old or {})
    for provider, values in new.items():
        before = merged.get(provider)
        if isinstance(before, dict) and isinstance(values, dict):
            merged[provider] = {**before, **values}
        else:
            merged[provider] = values
    return merged


def accumulate(events: Iterable[Event]) -> Response:
    """Fold a sequence of events into the Response that the non-streaming call returns."""
    accumulator = Accumulator()
    for event in events:
        accumulator.add(event)
    return accumulator.response()

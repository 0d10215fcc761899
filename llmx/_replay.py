"""Events for a Response that arrived whole (a server that ignored ``stream: true``)."""

from __future__ import annotations

from ._events import Event, Finish, ResponseStart, UsageEvent
from ._parts import PartTracker
from ._types import Response

__all__ = ["events_from_response"]


def events_from_response(response: Response) -> list[Event]:
    """The events a stream would have carried for ``response``; they accumulate back to it."""
    out: list[Event] = [
        ResponseStart(response.id, response.model, response.provider, tuple(response.warnings))
    ]
    parts = PartTracker()
    message = response.message
    if message.reasoning is not None:
        parts.reasoning(message.reasoning, out)
    if message.text:
        parts.text(message.text, out)
    for index, call in enumerate(message.tool_calls):
        parts.start_tool(index, call.id, call.name, out)
        parts.tool_arguments(index, call.raw_arguments, out)
        parts.end_tool(index, out, call.provider_metadata)
    parts.end_all(out)
    if response.usage is not None:
        out.append(UsageEvent(response.usage))
    out.append(
        Finish(
            response.finish_reason,
            response.raw_finish_reason,
            response.usage,
            response.provider_metadata,
        )
    )
    return out

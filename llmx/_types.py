"""Request, Message, Response and their parts: the provider-neutral data model."""

from __future__ import annotations

import base64
import json
import mimetypes
import re
from enum import Enum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "FinishReason",
    "ImagePart",
    "JSONSchemaFormat",
    "Message",
    "ModelInfo",
    "RateLimit",
    "ReasoningOptions",
    "Request",
    "Response",
    "TextPart",
    "Tool",
    "ToolCall",
    "Usage",
]

Role = Literal["system", "developer", "user", "assistant", "tool"]

_TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class FinishReason(str, Enum):
    """Why the model stopped, normalized across providers (the raw value is kept alongside)."""

    STOP = "stop"
    LENGTH = "length"
    TOOL_CALLS = "tool_calls"
    CONTENT_FILTER = "content_filter"
    ERROR = "error"
    OTHER = "other"

    def __str__(self) -> str:
        return self.value


class TextPart(_Model):
    """A piece of text inside a message."""

    type: Literal["text"] = "text"
    text: str


class ImagePart(_Model):
    """An image given by URL or by bytes (sent as a base64 data URL where the wire needs one)."""

    type: Literal["image"] = "image"
    url: str | None = None
    data: bytes | None = None
    media_type: str | None = None
    detail: Literal["auto", "low", "high"] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ImagePart:
        if (self.url is None) == (self.data is None):
            raise ValueError("ImagePart needs exactly one of url= or data=")
        if self.data is not None and not self.media_type:
            raise ValueError("ImagePart(data=...) needs media_type, e.g. 'image/png'")
        return self

    @classmethod
    def from_url(
        cls, url: str, *, detail: Literal["auto", "low", "high"] | None = None
    ) -> ImagePart:
        return cls(url=url, detail=detail)

    @classmethod
    def from_bytes(cls, data: bytes, media_type: str) -> ImagePart:
        return cls(data=data, media_type=media_type)

    @classmethod
    def from_path(cls, path: str | Path) -> ImagePart:
        path = Path(path)
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return cls(data=path.read_bytes(), media_type=media_type)

    def data_url(self) -> str:
        """The image as a URL: its own URL, or a ``data:`` URL with base64 content."""
        if self.url is not None:
            return self.url
        assert self.data is not None
        return f"data:{self.media_type};base64,{base64.b64encode(self.data).decode('ascii')}"


ContentPart = TextPart | ImagePart


class ToolCall(_Model):
    """A call the model asked for: ``arguments`` parsed, ``raw_arguments`` as sent."""

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    raw_arguments: str = "{}"
    provider_metadata: dict[str, Any] | None = None
    """Opaque provider data to send back with the call (e.g. Gemini's thought signature)."""

    @classmethod
    def from_raw(cls, id: str, name: str, raw_arguments: str | None) -> ToolCall:
        """Build from the wire's JSON string; ``"null"``, ``""`` and ``None`` mean no arguments."""
        return cls(
            id=id,
            name=name,
            arguments=parse_arguments(raw_arguments),
            raw_arguments=raw_arguments or "{}",
        )

    @property
    def arguments_error(self) -> str | None:
        """Why ``raw_arguments`` is not a JSON object (output cut short, or invalid), else None.

        ``arguments`` is ``{}`` for such a call; check this before running the tool."""
        raw = self.raw_arguments.strip()
        if raw in ("", "null", "{}"):
            return None
        try:
            value = json.loads(raw)
        except ValueError as exc:
            return f"the arguments are not valid JSON ({exc})"
        return None if isinstance(value, dict) else "the arguments are not a JSON object"


def parse_arguments(raw: str | None) -> dict[str, Any]:
    """Parse tool-call arguments; empty and ``null`` become ``{}``; invalid JSON is kept raw."""
    if not raw or raw.strip() in ("", "null"):
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {"value": value}


class Message(_Model):
    """One conversation turn. ``content`` is a string or a list of text and image parts."""

    role: Role
    content: str | list[ContentPart] | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None
    reasoning: str | None = None
    provider_metadata: dict[str, Any] | None = None

    @classmethod
    def system(cls, text: str) -> Message:
        return cls(role="system", content=text)

    @classmethod
    def user(cls, content: str | list[ContentPart]) -> Message:
        return cls(role="user", content=content)

    @classmethod
    def assistant(
        cls,
        text: str | None = None,
        *,
        tool_calls: list[ToolCall] | None = None,
        reasoning: str | None = None,
    ) -> Message:
        return cls(role="assistant", content=text, tool_calls=tool_calls or [], reasoning=reasoning)

    @classmethod
    def tool(cls, tool_call_id: str, content: str | Any, *, name: str | None = None) -> Message:
        """A tool result; non-string content is JSON-encoded."""
        text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
        return cls(role="tool", tool_call_id=tool_call_id, content=text, name=name)

    @property
    def text(self) -> str:
        """The message's text, with parts joined."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content if isinstance(part, TextPart))


class Tool(_Model):
    """A function the model may call; ``parameters`` is a JSON schema of an object."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    strict: bool | None = None

    @model_validator(mode="after")
    def _check(self) -> Tool:
        if not _TOOL_NAME.match(self.name):
            raise ValueError(
                f"tool name {self.name!r} is invalid: use 1-64 letters, digits, '_' or '-'"
            )
        params = self.parameters
        if params.get("type", "object") != "object":
            raise ValueError(
                f"tool {self.name!r}: parameters must be a JSON schema of type 'object'"
            )
        if "required" in params and not isinstance(params.get("properties"), dict):
            raise ValueError(f"tool {self.name!r}: parameters has 'required' but no 'properties'")
        missing = set(params.get("required", [])) - set(params.get("properties", {}) or {})
        if missing:
            raise ValueError(
                f"tool {self.name!r}: required properties {sorted(missing)} are not in 'properties'"
            )
        return self


class JSONSchemaFormat(_Model):
    """Structured output constrained to a JSON schema."""

    name: str
    schema_: dict[str, Any] = Field(alias="schema")
    description: str | None = None
    strict: bool | None = None

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, defer_build=True)


class ReasoningOptions(_Model):
    """Provider-neutral reasoning controls."""

    effort: Literal["none", "minimal", "low", "medium", "high", "default"] | None = None
    budget_tokens: int | None = Field(default=None, ge=0)
    include: bool | None = None
    """Return the reasoning text (True), hide it (False), or the provider's default (None)."""
    parse_think_tags: bool = False
    """Split ``<think>...</think>`` out of the text into ``reasoning`` on the client side."""


class Request(_Model):
    """Everything one chat call sends. ``None`` means "not set": the client default applies."""

    messages: list[Message]
    model: str | None = None
    tools: list[Tool] = Field(default_factory=list)
    tool_choice: str | None = None
    """"auto", "none", "required", or the name of one tool."""
    parallel_tool_calls: bool | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1)
    stop: list[str] | None = None
    seed: int | None = None
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    response_format: Literal["text", "json_object"] | JSONSchemaFormat | None = None
    reasoning: ReasoningOptions | None = None
    user: str | None = None
    provider_options: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Options for one provider only, keyed by provider name, validated by its adapter."""

    @model_validator(mode="before")
    @classmethod
    def _coerce(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("stop"), str):
            data = {**data, "stop": [data["stop"]]}
        return data


class Usage(_Model):
    """Token counts, plus provider timings in seconds where the provider reports them."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int | None = None
    cache_creation_tokens: int | None = None
    reasoning_tokens: int | None = None
    queue_time: float | None = None
    prompt_time: float | None = None
    completion_time: float | None = None
    total_time: float | None = None


class RateLimit(_Model):
    """Rate-limit state read from response headers; reset times in seconds."""

    limit_requests: int | None = None
    remaining_requests: int | None = None
    reset_requests: float | None = None
    limit_tokens: int | None = None
    remaining_tokens: int | None = None
    reset_tokens: float | None = None
    retry_after: float | None = None


class ModelInfo(_Model):
    """A model as listed by the provider, merged with the built-in catalog where known."""

    id: str
    provider: str
    owned_by: str | None = None
    created: int | None = None
    active: bool | None = None
    context_window: int | None = None
    max_output_tokens: int | None = None
    raw: dict[str, Any] | None = None


class Response(_Model):
    """The result of one chat call, the same whether it was streamed or not."""

    id: str | None = None
    model: str | None = None
    provider: str | None = None
    message: Message
    finish_reason: FinishReason = FinishReason.OTHER
    raw_finish_reason: str | None = None
    usage: Usage | None = None
    rate_limit: RateLimit | None = None
    request_id: str | None = None
    warnings: list[str] = Field(default_factory=list)
    provider_metadata: dict[str, Any] | None = None
    raw: dict[str, Any] | None = None
    """The provider's response body (non-streaming calls), for fields llmx does not map."""

    @property
    def text(self) -> str:
        return self.message.text

    @property
    def tool_calls(self) -> list[ToolCall]:
        return self.message.tool_calls

    @property
    def reasoning(self) -> str | None:
        return self.message.reasoning

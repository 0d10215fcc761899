"""Fluent, immutable builders: ``ClientBuilder`` for clients, ``RequestBuilder`` for requests.

Every method returns a new builder, so a half-configured builder can be shared and extended.
``build()`` validates and says what is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import SecretStr, ValidationError

from ._async_client import AsyncClient
from ._client import Client
from ._config import RetryPolicy, Timeout
from ._errors import InvalidInputError
from ._resolve import validation_message
from ._types import (
    ContentPart,
    ImagePart,
    JSONSchemaFormat,
    Message,
    ReasoningOptions,
    Request,
    TextPart,
    Tool,
    ToolCall,
)

__all__ = ["ClientBuilder", "RequestBuilder"]


class ClientBuilder:
    """``ClientBuilder().groq(key).model("llama-3.3-70b-versatile").temperature(0.7).build()``.

    The API key is held in a ``SecretStr`` and unwrapped only by ``build()``/``build_async()``:
    no repr shows it, and a builder refuses to be pickled.
    """

    __slots__ = ("_settings", "_defaults", "_headers")

    def __init__(self) -> None:
        self._settings: dict[str, Any] = {}
        self._defaults: dict[str, Any] = {}
        self._headers: dict[str, str] = {}

    def __repr__(self) -> str:
        shown = {k: v for k, v in self._settings.items() if k != "api_key"}
        return f"ClientBuilder({shown}, defaults={self._defaults})"

    def __reduce__(self) -> Any:
        raise TypeError(
            "llmx.ClientBuilder cannot be pickled (it may hold an API key); "
            "build the client in each process"
        )

    def __copy__(self) -> ClientBuilder:
        return self  # immutable: every method returns a new builder

    def __deepcopy__(self, memo: dict[int, Any]) -> ClientBuilder:
        return self

    def _with(self, **settings: Any) -> ClientBuilder:
        if settings.get("api_key") is not None:
            settings["api_key"] = SecretStr(settings["api_key"])
        new = ClientBuilder()
        new._settings = {**self._settings, **settings}
        new._defaults = dict(self._defaults)
        new._headers = dict(self._headers)
        return new

    def _default(self, name: str, value: Any) -> ClientBuilder:
        new = self._with()
        new._defaults[name] = value
        return new

    def provider(self, name: str, api_key: str | None = None) -> ClientBuilder:
        """Use provider ``name``; without a key, its environment variable is read at build."""
        return self._with(provider=name, api_key=api_key)

    def groq(self, api_key: str | None = None) -> ClientBuilder:
        return self.provider("groq", api_key)

    def openai(self, api_key: str | None = None) -> ClientBuilder:
        return self.provider("openai", api_key)

    def anthropic(self, api_key: str | None = None) -> ClientBuilder:
        return self.provider("anthropic", api_key)

    def gemini(self, api_key: str | None = None) -> ClientBuilder:
        return self.provider("gemini", api_key)

    def ollama(self, base_url: str | None = None) -> ClientBuilder:
        builder = self.provider("ollama")
        return builder.base_url(base_url) if base_url else builder

    def api_key(self, api_key: str) -> ClientBuilder:
        return self._with(api_key=api_key)

    def model(self, model: str) -> ClientBuilder:
        """The default model; ``"provider:model"`` also selects the provider."""
        return self._with(model=model)

    def base_url(self, url: str) -> ClientBuilder:
        return self._with(base_url=url)

    def timeout(self, timeout: Timeout | float | None) -> ClientBuilder:
        return self._with(timeout=timeout)

    def max_retries(self, count: int) -> ClientBuilder:
        return self._with(max_retries=count)

    def retry_policy(self, policy: RetryPolicy) -> ClientBuilder:
        return self._with(retry_policy=policy)

    def api_key_env(self, name: str) -> ClientBuilder:
        """Read the key from variable ``name`` instead of the provider's usual one."""
        return self._with(api_key_env=name)

    def follow_redirects(self, enabled: bool = True) -> ClientBuilder:
        """Follow 307/308 redirects (and any redirect of a GET); credentials stay on origin."""
        return self._with(follow_redirects=enabled)

    def max_connections(self, count: int) -> ClientBuilder:
        """Requests in flight at once (default 100); more wait for a free connection."""
        return self._with(max_connections=count)

    def max_keepalive_connections(self, count: int) -> ClientBuilder:
        """Idle connections kept open for reuse (default 20)."""
        return self._with(max_keepalive_connections=count)

    def max_response_bytes(self, size: int) -> ClientBuilder:
        """Largest non-streamed response body accepted (default 64 MiB)."""
        return self._with(max_response_bytes=size)

    def max_error_bytes(self, size: int) -> ClientBuilder:
        """How much of an error response body is read and kept (default 64 KiB)."""
        return self._with(max_error_bytes=size)

    def max_event_bytes(self, size: int) -> ClientBuilder:
        """Largest single stream event (default 16 MiB)."""
        return self._with(max_event_bytes=size)

    def trust_env(self, enabled: bool) -> ClientBuilder:
        """Use proxy settings and certificates from the environment (default on)."""
        return self._with(trust_env=enabled)

    def verify(self, enabled: bool) -> ClientBuilder:
        """Verify TLS certificates (default on; turning it off logs a warning)."""
        return self._with(verify=enabled)

    def allow_link_local(self, enabled: bool = True) -> ClientBuilder:
        """Allow a base_url on a link-local address (169.254.0.0/16: cloud metadata)."""
        return self._with(allow_link_local=enabled)

    def http_backend(self, name: Literal["httpx", "aiohttp"]) -> ClientBuilder:
        """``"aiohttp"`` needs ``llmx-ai[aiohttp]`` and works with ``build_async()`` only."""
        return self._with(http_backend=name)

    def header(self, name: str, value: str) -> ClientBuilder:
        new = self._with()
        new._headers[name] = value
        return new

    def temperature(self, value: float) -> ClientBuilder:
        return self._default("temperature", value)

    def max_tokens(self, value: int) -> ClientBuilder:
        return self._default("max_tokens", value)

    def top_p(self, value: float) -> ClientBuilder:
        return self._default("top_p", value)

    def default(self, name: str, value: Any) -> ClientBuilder:
        """Any other request default, e.g. ``.default("seed", 7)``."""
        return self._default(name, value)

    def _kwargs(self) -> dict[str, Any]:
        settings = dict(self._settings)
        key = settings.get("api_key")
        if isinstance(key, SecretStr):
            settings["api_key"] = key.get_secret_value()
        return {**settings, "defaults": dict(self._defaults), "headers": dict(self._headers)}

    def build(self) -> Client:
        """A synchronous client."""
        return Client(**self._kwargs())

    def build_async(self) -> AsyncClient:
        """An async client."""
        return AsyncClient(**self._kwargs())


class RequestBuilder:
    """Builds a :class:`llmx.Request` step by step."""

    __slots__ = ("_fields", "_messages", "_tools")

    def __init__(self) -> None:
        self._fields: dict[str, Any] = {}
        self._messages: list[Message] = []
        self._tools: list[Tool] = []

    def _with(
        self, message: Message | None = None, tool: Tool | None = None, **fields: Any
    ) -> RequestBuilder:
        new = RequestBuilder()
        new._fields = {**self._fields, **fields}
        new._messages = [*self._messages, *([message] if message else [])]
        new._tools = [*self._tools, *([tool] if tool else [])]
        return new

    def model(self, model: str) -> RequestBuilder:
        return self._with(model=model)

    def add_message(self, message: Message) -> RequestBuilder:
        return self._with(message)

    def add_system_message(self, text: str) -> RequestBuilder:
        return self._with(Message.system(text))

    def add_user_message(
        self, text: str, *, images: list[ImagePart | str] | None = None
    ) -> RequestBuilder:
        """A user turn; ``images`` are ImageParts or URLs."""
        if not images:
            return self._with(Message.user(text))
        parts: list[ContentPart] = [TextPart(text=text)]
        parts += [ImagePart.from_url(i) if isinstance(i, str) else i for i in images]
        return self._with(Message.user(parts))

    def add_assistant_message(
        self, text: str | None = None, *, tool_calls: list[ToolCall] | None = None
    ) -> RequestBuilder:
        return self._with(Message.assistant(text, tool_calls=tool_calls))

    def add_tool_result(self, tool_call_id: str, content: Any) -> RequestBuilder:
        return self._with(Message.tool(tool_call_id, content))

    def add_tool(
        self, tool: Tool | str, description: str = "", parameters: Mapping[str, Any] | None = None
    ) -> RequestBuilder:
        """Add a Tool, or build one from a name, description and JSON-schema parameters."""
        if isinstance(tool, str):
            try:
                tool = Tool(
                    name=tool,
                    description=description,
                    **({"parameters": dict(parameters)} if parameters else {}),
                )
            except ValidationError as exc:
                raise InvalidInputError(validation_message(exc)) from None
        return self._with(tool=tool)

    def tool_choice(self, choice: str) -> RequestBuilder:
        """ "auto", "none", "required", or a tool's name."""
        return self._with(tool_choice=choice)

    def parallel_tool_calls(self, enabled: bool) -> RequestBuilder:
        return self._with(parallel_tool_calls=enabled)

    def temperature(self, value: float) -> RequestBuilder:
        return self._with(temperature=value)

    def top_p(self, value: float) -> RequestBuilder:
        return self._with(top_p=value)

    def max_tokens(self, value: int) -> RequestBuilder:
        return self._with(max_tokens=value)

    def stop(self, *sequences: str) -> RequestBuilder:
        return self._with(stop=list(sequences))

    def seed(self, value: int) -> RequestBuilder:
        return self._with(seed=value)

    def frequency_penalty(self, value: float) -> RequestBuilder:
        return self._with(frequency_penalty=value)

    def presence_penalty(self, value: float) -> RequestBuilder:
        return self._with(presence_penalty=value)

    def json_mode(self) -> RequestBuilder:
        """Ask for a JSON object (the prompt should say so, too)."""
        return self._with(response_format="json_object")

    def json_schema(
        self,
        name: str,
        schema: Mapping[str, Any],
        *,
        strict: bool | None = None,
        description: str | None = None,
    ) -> RequestBuilder:
        """Constrain the output to a JSON schema."""
        return self._with(
            response_format=JSONSchemaFormat.model_validate(
                {"name": name, "schema": dict(schema), "strict": strict, "description": description}
            )
        )

    def reasoning(
        self,
        effort: Literal["none", "minimal", "low", "medium", "high", "default"] | None = None,
        *,
        include: bool | None = None,
        parse_think_tags: bool = False,
    ) -> RequestBuilder:
        return self._with(
            reasoning=ReasoningOptions(
                effort=effort, include=include, parse_think_tags=parse_think_tags
            )
        )

    def user(self, user: str) -> RequestBuilder:
        return self._with(user=user)

    def provider_options(self, provider: str, **options: Any) -> RequestBuilder:
        """Options only one provider understands, e.g. ``("groq", service_tier="flex")``."""
        merged = dict(self._fields.get("provider_options", {}))
        merged[provider] = {**merged.get(provider, {}), **options}
        return self._with(provider_options=merged)

    def build(self) -> Request:
        if not self._messages:
            raise InvalidInputError("RequestBuilder has no messages: call add_user_message(...)")
        try:
            return Request(messages=self._messages, tools=self._tools, **self._fields)
        except ValidationError as exc:
            raise InvalidInputError(f"invalid request: {validation_message(exc)}") from None

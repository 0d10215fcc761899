"""llmx: one typed API for every LLM provider, Groq first.

```python
import llmx

client = llmx.ClientBuilder().groq(key).model("llama-3.3-70b-versatile").build()
print(client.simple_chat("Hello"))
```
"""

from ._async_client import AsyncClient, AsyncStream
from ._builder import ClientBuilder, RequestBuilder
from ._catalog import ModelCard, model_card, model_cards
from ._client import Client, Stream
from ._config import RetryPolicy, Timeout
from ._errors import (
    AuthenticationError,
    ConfigurationError,
    ConnectError,
    ContextLengthError,
    InvalidInputError,
    InvalidRequestError,
    LLMXError,
    MissingAPIKeyError,
    ProviderError,
    ProviderNotFoundError,
    RateLimitError,
    RequestTimeout,
    ServerError,
    StreamError,
    ToolUseFailedError,
    TransportError,
    UnexpectedResponseError,
    UnsupportedFeatureError,
)
from ._events import (
    Accumulator,
    Event,
    EventType,
    Finish,
    ReasoningDelta,
    ReasoningEnd,
    ReasoningStart,
    ResponseStart,
    TextDelta,
    TextEnd,
    TextStart,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    UsageEvent,
    accumulate,
)
from ._registry import Registry, register_provider
from ._types import (
    FinishReason,
    ImagePart,
    JSONSchemaFormat,
    Message,
    ModelInfo,
    RateLimit,
    ReasoningOptions,
    Request,
    Response,
    TextPart,
    Tool,
    ToolCall,
    Usage,
)
from ._version import __version__

__all__ = [
    "Accumulator",
    "AsyncClient",
    "AsyncStream",
    "AuthenticationError",
    "Client",
    "ClientBuilder",
    "ConfigurationError",
    "ConnectError",
    "ContextLengthError",
    "Event",
    "EventType",
    "Finish",
    "FinishReason",
    "ImagePart",
    "InvalidInputError",
    "InvalidRequestError",
    "JSONSchemaFormat",
    "LLMXError",
    "Message",
    "MissingAPIKeyError",
    "ModelCard",
    "ModelInfo",
    "ProviderError",
    "ProviderNotFoundError",
    "RateLimit",
    "RateLimitError",
    "ReasoningDelta",
    "ReasoningEnd",
    "ReasoningOptions",
    "ReasoningStart",
    "Registry",
    "Request",
    "RequestBuilder",
    "RequestTimeout",
    "Response",
    "ResponseStart",
    "RetryPolicy",
    "ServerError",
    "Stream",
    "StreamError",
    "TextDelta",
    "TextEnd",
    "TextPart",
    "TextStart",
    "Timeout",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "ToolCallEnd",
    "ToolCallStart",
    "ToolUseFailedError",
    "TransportError",
    "UnexpectedResponseError",
    "UnsupportedFeatureError",
    "Usage",
    "UsageEvent",
    "__version__",
    "accumulate",
    "model_card",
    "model_cards",
    "register_provider",
]

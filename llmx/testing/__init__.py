"""Offline testing tools: a loopback server speaking Groq's wire format.

```python
from llmx.testing import Emulator, Reply

with Emulator() as emu:
    emu.script(Reply.error(429, headers={"retry-after": "1"}), Reply.text("Hello!"))
    ...  # point a client at emu.base_url with emu.api_key
    assert len(emu.requests) == 2
```
"""

from ._faults import FaultOptions, Faults, RecordedRequest
from ._groq import DEFAULT_MODELS, ModelInfo
from ._reply import Reply
from ._server import Emulator

__all__ = [
    "DEFAULT_MODELS",
    "Emulator",
    "FaultOptions",
    "Faults",
    "ModelInfo",
    "RecordedRequest",
    "Reply",
]

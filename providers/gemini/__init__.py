"""Google Gemini, native API (``https://generativelanguage.googleapis.com/v1beta``).

``GEMINI_API_KEY`` holds the key (``GOOGLE_API_KEY`` is not read: pass ``api_key=`` or
``api_key_env="GOOGLE_API_KEY"`` to use it); ``GEMINI_BASE_URL`` may move the endpoint. The key
is sent in the ``x-goog-api-key`` header, never in the URL. Model ids may be given as
``"gemini-2.5-flash"`` or ``"models/gemini-2.5-flash"``.

Mapping decisions (details in the module docstrings):

- system and developer messages, wherever they are, become ``systemInstruction``; tool results
  become ``functionResponse`` parts named after the call they answer (a JSON object result is
  sent as is, anything else as ``{"result": ...}``); images are ``inlineData`` (bytes and
  ``data:`` URLs) or ``fileData`` (``https://`` public or signed URLs, ``gs://``, Files API
  URIs; plain ``http://`` raises UnsupportedFeatureError).
- tool schemas go out as ``parametersJsonSchema``, ``json_schema`` output as
  ``responseJsonSchema`` (see ``_schema``; ``GeminiOptions(legacy_schema=True)`` converts to the
  OpenAPI subset instead). ``tool_choice``: auto/none/required -> AUTO/NONE/ANY, a tool name ->
  ANY with ``allowedFunctionNames``.
- reasoning: ``budget_tokens`` -> ``thinkingBudget``; ``effort`` -> ``thinkingLevel`` on
  Gemini 3+ (none/minimal -> MINIMAL) or a ``thinkingBudget`` on older models (none 0,
  minimal 512, low 1024, medium 8192, high 24576); ``include`` -> ``includeThoughts``.
- function calls get stable ids derived from ``responseId`` and their position (Gemini sends
  none), the same streamed or not; thought signatures are kept and sent back on the next turn.
- usage: ``completion_tokens`` includes the thought tokens (``reasoning_tokens``) and
  ``prompt_tokens`` includes cached and tool-use prompt tokens.
- a blocked prompt (``promptFeedback.blockReason``, no candidates) finishes with
  ``content_filter``, a warning and the feedback in ``provider_metadata``.
"""

from ._adapter import GeminiAdapter
from ._options import GeminiOptions

__all__ = ["GeminiAdapter", "GeminiOptions", "create_adapter"]


def create_adapter() -> GeminiAdapter:
    return GeminiAdapter()

"""Ollama's native API (``http://localhost:11434``): ``/api/chat`` with NDJSON streaming.

No key is needed; ``OLLAMA_API_KEY`` is sent as a bearer token when set (ollama.com, or a proxy
that wants one). ``OLLAMA_BASE_URL`` moves the endpoint and must be a full URL
(``http://gpu-box:11434``). ``OLLAMA_HOST``, the server's own variable, is *not* read: users often
set it without a scheme (``0.0.0.0:11434``), which is a bind address, not a URL to call.

Mapping notes:

- ``max_tokens`` -> ``options.num_predict``; temperature, top_p, seed, stop and the penalties go in
  ``options`` too. Ollama-only fields go in ``Request.provider_options["ollama"]``
  (:class:`OllamaOptions`: ``keep_alive``, ``options`` such as ``num_ctx``, ``think``,
  ``extra_body``).
- ``response_format``: ``"json_object"`` -> ``format: "json"``, a JSON schema -> the schema.
- ``reasoning``: effort ``low``/``medium``/``high`` -> ``think: "<level>"`` (``minimal`` ->
  ``"low"``), ``none`` -> ``false``; otherwise ``include`` -> ``true``/``false``.
  ``include=False`` also drops any reasoning text that still arrives.
- Images must be bytes (or ``data:`` URLs); an http(s) image URL raises
  :class:`llmx.UnsupportedFeatureError`.
- ``tool_choice``: Ollama has none. ``"none"`` sends no tools; a tool name sends only that tool;
  ``"required"`` and a named tool are not enforced and add a warning to the response.
- Tool calls without an id (older servers) get ``call_`` + 8 hex characters derived from their
  position, name and arguments, identical whether streamed or not.
"""

from ._adapter import OllamaAdapter
from ._convert import OllamaOptions

__all__ = ["OllamaAdapter", "OllamaOptions", "create_adapter"]


def create_adapter() -> OllamaAdapter:
    return OllamaAdapter()

"""ollama adapter (in progress)."""

"""gemini adapter (in progress)."""

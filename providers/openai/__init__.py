"""openai adapter (in progress)."""

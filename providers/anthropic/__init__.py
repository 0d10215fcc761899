"""anthropic adapter (in progress)."""

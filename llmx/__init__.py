"""llmx: one typed API for every LLM provider."""

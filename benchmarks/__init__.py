"""llmx's benchmark suite (issue #6): ``python -m benchmarks`` from the repository root.

See docs/benchmarks.md. Nothing here is imported by llmx, and llmx depends on nothing here.
"""

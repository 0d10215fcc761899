"""Shared fixtures. Tests never touch the internet and never read real API keys."""

from __future__ import annotations

import os

import pytest

# No real key may leak into a test run.
for _name in list(os.environ):
    if _name.endswith("_API_KEY") or (_name.startswith("LLMX_") and _name != "LLMX_LLAMACPP_CACHE"):
        del os.environ[_name]


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)

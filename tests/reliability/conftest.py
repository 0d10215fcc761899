"""Fixtures for the fault-injection suite (helpers live in reliability_support.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from reliability_support import CANARY, make_client

import llmx
from llmx.testing import Emulator


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(api_key=CANARY) as server:
        yield server


@pytest.fixture
def client(emu: Emulator) -> Iterator[llmx.Client]:
    with make_client(emu) as c:
        yield c

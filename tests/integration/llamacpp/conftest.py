"""Fixtures: real llama.cpp servers built by prepare.py (see README.md here).

Every test in this directory gets the `llamacpp` marker; deselect them with
`-m "not llamacpp"`. Without a prepared cache the server fixtures fail (they
do not skip), saying what to run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# This directory is on sys.path (pytest's default "prepend" import mode, and no
# __init__.py files under tests/), so the helpers next to this file import by name.
import servers

HERE = Path(__file__).resolve().parent
API_KEY = "sk-llmx-test-key"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.llamacpp)


@pytest.fixture(scope="session")
def llamacpp_manifest() -> dict[str, Any]:
    try:
        return servers.load_manifest()
    except servers.ManifestError as exc:
        error = str(exc)
    pytest.fail(error, pytrace=False)  # outside the except: no chained traceback


def _serve(
    manifest: dict[str, Any],
    factory: pytest.TempPathFactory,
    kind: str,
    api_key: str | None,
) -> Iterator[servers.Server]:
    try:
        server = servers.start_server(
            manifest, kind, api_key=api_key, log_dir=factory.mktemp(f"{kind}-log")
        )
    except (servers.ManifestError, servers.ServerError) as exc:
        error = str(exc)
    else:
        try:
            yield server
        finally:  # session teardown: SIGTERM, then SIGKILL, the whole process group
            server.stop()
        return
    pytest.fail(error, pytrace=False)  # outside the except: no chained traceback


@pytest.fixture(scope="session")
def llama_cpp_python_server(
    llamacpp_manifest: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[servers.Server]:
    yield from _serve(llamacpp_manifest, tmp_path_factory, "llama_cpp_python", None)


@pytest.fixture(scope="session")
def llama_cpp_python_server_with_key(
    llamacpp_manifest: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[servers.Server]:
    yield from _serve(llamacpp_manifest, tmp_path_factory, "llama_cpp_python", API_KEY)


@pytest.fixture(scope="session")
def llama_server(
    llamacpp_manifest: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[servers.Server]:
    yield from _serve(llamacpp_manifest, tmp_path_factory, "llama_server", None)


@pytest.fixture(scope="session")
def llama_server_with_key(
    llamacpp_manifest: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[servers.Server]:
    yield from _serve(llamacpp_manifest, tmp_path_factory, "llama_server", API_KEY)

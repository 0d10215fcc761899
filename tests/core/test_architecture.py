"""Guards: the dependency rules of ARCHITECTURE.md, exports, and sync/async parity."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import llmx

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "llmx"
PROVIDERS = ROOT / "providers"
# groq and openai are configuration plus hooks on the OpenAI-compatible base
DECLARED_BASES = {"groq": {"openai_compatible"}, "openai": {"openai_compatible"}}


def _imports(path: Path) -> list[tuple[str, int]]:
    """Absolute module names imported by a file (relative imports resolved against its package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - node.level + 1])
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.append((module, node.lineno))
    return found


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", _files(CORE), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_never_imports_providers_and_only_transport_imports_httpx(path: Path) -> None:
    for module, line in _imports(path):
        assert not module.startswith(("providers", "llmx.providers")), f"{path}:{line}"
        if module.split(".")[0] == "httpx":
            allowed = "_transport" in path.parts or "testing" in path.parts
            assert allowed, f"{path}:{line} imports httpx; only llmx/_transport/ may"
        if path.name != "_aiohttp.py":  # aiohttp runs on asyncio only
            assert module.split(".")[0] != "asyncio", f"{path}:{line}: use anyio"


@pytest.mark.parametrize("path", _files(PROVIDERS), ids=lambda p: str(p.relative_to(ROOT)))
def test_providers_use_only_the_public_api_and_declared_bases(path: Path) -> None:
    own = path.relative_to(PROVIDERS).parts[0]
    for module, line in _imports(path):
        parts = module.split(".")
        if parts[0] == "llmx" and len(parts) > 1 and parts[1] != "providers":
            assert not parts[1].startswith("_"), f"{path}:{line} imports private {module}"
        assert parts[0] != "httpx", f"{path}:{line}: adapters do no I/O"
        other = None
        if parts[0] == "providers" and len(parts) > 1:
            other = parts[1]
        elif parts[:2] == ["llmx", "providers"] and len(parts) > 2:
            other = parts[2]
        if other and other != own:
            assert other in DECLARED_BASES.get(own, set()), f"{path}:{line}: {own} -> {other}"


def test_modules_stay_small() -> None:
    for path in _files(CORE) + _files(PROVIDERS):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines <= 450, f"{path} has {lines} lines; split it"


def test_all_is_sorted_and_complete() -> None:
    assert llmx.__all__ == sorted(llmx.__all__)
    for name in llmx.__all__:
        assert hasattr(llmx, name), name


def _public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls)
        if not name.startswith("_") and callable(member)
    }


def test_sync_and_async_clients_have_the_same_signatures() -> None:
    sync, async_ = _public_methods(llmx.Client), _public_methods(llmx.AsyncClient)
    renames = {"close": "aclose"}
    assert {renames.get(n, n) for n in sync} == set(async_)
    for name, signature in sync.items():
        other = async_[renames.get(name, name)]
        assert list(signature.parameters) == list(other.parameters), name
        for param_name, param in signature.parameters.items():
            twin = other.parameters[param_name]
            assert (param.kind, param.default) == (twin.kind, twin.default), (name, param_name)
    stream, async_stream = _public_methods(llmx.Stream), _public_methods(llmx.AsyncStream)
    assert {renames.get(n, n) for n in stream} == set(async_stream)


def test_import_is_lazy_about_providers() -> None:
    code = (
        "import sys, llmx\n"
        "assert not any(m.startswith('llmx.providers') for m in sys.modules), 'provider loaded'\n"
        "c = llmx.Client('groq', api_key='k', model='m')\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('llmx.providers.'))\n"
        "other = [m for m in loaded if m.split('.')[2] not in ('groq', 'openai_compatible')]\n"
        "assert not other, other\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_every_package_is_installed() -> None:
    """pyproject lists packages explicitly (providers/ is mapped to llmx.providers): a package
    left out works in the editable checkout and is missing from the wheel."""
    import tomllib

    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(("llmx", *init.parent.relative_to(ROOT).parts)).replace("llmx.llmx", "llmx")
        for folder in (CORE, PROVIDERS)
        for init in folder.rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found == listed

"""Provider registry: name -> adapter factory, found through ``llmx.providers`` entry points.

The built-in providers register exactly like third-party ones. Looking a name up loads only that
entry point, so using Groq never imports the Anthropic adapter.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from ._errors import ConfigurationError, ProviderNotFoundError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    from .adapter import Adapter

__all__ = ["Registry", "default_registry", "register_provider"]

ENTRY_POINT_GROUP = "llmx.providers"
AdapterFactory = Callable[[], "Adapter"]


class Registry:
    """A thread-safe map from provider names to adapter factories."""

    def __init__(self, *, discover: bool = True) -> None:
        self._lock = threading.Lock()
        self._factories: dict[str, AdapterFactory] = {}
        self._entry_points: dict[str, EntryPoint] | None = None if discover else {}

    def _discovered(self) -> dict[str, EntryPoint]:
        if self._entry_points is None:
            from importlib.metadata import entry_points  # not at import: it costs ~8 ms

            found = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
            with self._lock:
                if self._entry_points is None:
                    self._entry_points = found
        return self._entry_points

    def register(self, name: str, factory: AdapterFactory, *, replace: bool = False) -> None:
        """Register a provider; refuses to shadow an existing name unless ``replace=True``."""
        with self._lock:
            if not replace and name in self._factories:
                raise ConfigurationError(f"provider {name!r} is already registered")
            self._factories[name] = factory

    def names(self) -> list[str]:
        return sorted({*self._discovered(), *self._factories})

    def factory(self, name: str) -> AdapterFactory:
        factory = self._factories.get(name)
        if factory is not None:
            return factory
        entry = self._discovered().get(name)
        if entry is None:
            known = self.names()
            from difflib import get_close_matches  # only on this error path

            close = get_close_matches(name, known, n=1, cutoff=0.5)
            raise ProviderNotFoundError(name, known, close[0] if close else None)
        loaded: AdapterFactory = entry.load()
        with self._lock:
            self._factories.setdefault(name, loaded)
        return loaded

    def create(self, name: str) -> Adapter:
        return self.factory(name)()


default_registry = Registry()


def register_provider(name: str, factory: AdapterFactory, *, replace: bool = False) -> None:
    """Register an adapter factory under ``name`` in the process-wide registry."""
    default_registry.register(name, factory, replace=replace)

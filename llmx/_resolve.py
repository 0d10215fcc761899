"""Turning configuration (keywords, a dict, a ``provider:model`` string, env vars) into a client."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import SecretStr, ValidationError

from ._config import ClientSettings, RetryPolicy, Timeout
from ._core import ClientCore
from ._errors import ConfigurationError, InvalidInputError, MissingAPIKeyError
from ._registry import Registry, default_registry
from ._types import Request
from .adapter import Adapter

__all__ = ["ClientFactory", "resolve_core", "split_model"]

DEFAULT_PROVIDER = "groq"
_SETTING_KEYS = frozenset(
    {
        "provider",
        "model",
        "api_key",
        "api_key_env",
        "base_url",
        "timeout",
        "max_retries",
        "retry_policy",
        "headers",
        "follow_redirects",
        "max_connections",
        "max_keepalive_connections",
    }
)
_DEFAULT_KEYS = frozenset(Request.model_fields) - {"messages", "model"}

C = TypeVar("C", bound="ClientFactory")


def split_model(spec: str) -> tuple[str | None, str]:
    """``"groq:llama-3.3-70b-versatile"`` -> ``("groq", "llama-3.3-70b-versatile")``.

    Only the first colon splits, so ``"ollama:llama3:8b"`` keeps its tag.
    """
    provider, sep, model = spec.partition(":")
    if sep and provider and "/" not in provider and model:
        return provider, model
    return None, spec


def validation_message(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "value"
        parts.append(f"{where}: {item['msg']} (got {item.get('input')!r})")
    return "; ".join(parts)


def resolve_core(
    provider: str | None = None,
    *,
    api_key: str | None = None,
    api_key_env: str | None = None,
    model: str | None = None,
    base_url: str | None = None,
    timeout: Timeout | float | None = None,
    max_retries: int | None = None,
    retry_policy: RetryPolicy | None = None,
    headers: Mapping[str, str] | None = None,
    defaults: Mapping[str, Any] | None = None,
    adapter: Adapter | None = None,
    registry: Registry | None = None,
    **options: Any,
) -> ClientCore:
    if model is not None:
        prefix, bare = split_model(model)
        if prefix is not None and (provider is None or provider == prefix):
            provider, model = prefix, bare
    if adapter is None:
        provider = provider or DEFAULT_PROVIDER
        adapter = (registry or default_registry).create(provider)
    spec = adapter.spec
    name = provider or spec.name
    env_var = api_key_env or spec.api_key_env
    key = api_key if api_key is not None else (os.environ.get(env_var) if env_var else None)
    if not key and spec.key_required:
        raise MissingAPIKeyError(name, env_var)
    url = base_url or (os.environ.get(spec.base_url_env) if spec.base_url_env else None)
    url = url or spec.default_base_url
    if not url:
        raise ConfigurationError(
            f"provider {name!r} has no default endpoint: pass base_url=... "
            "(for example 'http://127.0.0.1:8080/v1')",
            provider=name,
        )
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(
            f"base_url must start with http:// or https://, got {url!r}", provider=name
        )
    if defaults:
        unknown = set(defaults) - _DEFAULT_KEYS
        if unknown:
            raise InvalidInputError(
                f"unknown default setting(s) {sorted(unknown)}; valid: {sorted(_DEFAULT_KEYS)}"
            )
        try:
            Request(messages=[], **defaults)
        except ValidationError as exc:
            raise InvalidInputError(f"invalid default: {validation_message(exc)}") from None
    retry = retry_policy or RetryPolicy()
    if max_retries is not None:
        if max_retries < 0:
            raise InvalidInputError(f"max_retries must be >= 0, got {max_retries}")
        retry = retry.model_copy(update={"max_retries": max_retries})
    try:
        settings = ClientSettings(
            provider=name,
            api_key=SecretStr(key) if key else None,
            base_url=url,
            model=model,
            defaults=dict(defaults or {}),
            timeout=Timeout.coerce(timeout) if timeout is not None else Timeout(),
            retry=retry,
            headers=dict(headers or {}),
            **options,
        )
    except ValidationError as exc:
        raise InvalidInputError(f"invalid client setting: {validation_message(exc)}") from None
    return ClientCore(settings, adapter)


class ClientFactory:
    """The alternative constructors shared by ``Client`` and ``AsyncClient``."""

    def __init__(self, provider: str | None = None, **kwargs: Any) -> None:  # pragma: no cover
        raise NotImplementedError

    @classmethod
    def from_model(cls: type[C], spec: str, **kwargs: Any) -> C:
        """A client from ``"provider:model"``, e.g. ``"groq:llama-3.3-70b-versatile"``."""
        provider, model = split_model(spec)
        if provider is None:
            raise ConfigurationError(
                f"{spec!r} names no provider: use 'provider:model', "
                "e.g. 'groq:llama-3.3-70b-versatile'"
            )
        return cls(provider, model=model, **kwargs)

    @classmethod
    def from_config(cls: type[C], config: Mapping[str, Any]) -> C:
        """A client from a dict: provider, model, api_key (or api_key_env), base_url, timeout,
        max_retries, headers, and request defaults such as temperature or max_tokens."""
        config = dict(config)
        unknown = set(config) - _SETTING_KEYS - _DEFAULT_KEYS
        if unknown:
            raise ConfigurationError(
                f"unknown config key(s) {sorted(unknown)}; valid: "
                f"{sorted(_SETTING_KEYS | _DEFAULT_KEYS)}"
            )
        defaults = {k: config.pop(k) for k in list(config) if k in _DEFAULT_KEYS}
        provider = config.pop("provider", None)
        return cls(provider, defaults=defaults, **config)

    @classmethod
    def from_env(cls: type[C], prefix: str = "LLMX_", **kwargs: Any) -> C:
        """A client from ``LLMX_MODEL`` (``provider:model``), ``LLMX_BASE_URL``,
        ``LLMX_TIMEOUT`` and ``LLMX_MAX_RETRIES``; the key comes from the provider's variable."""
        env = os.environ
        config: dict[str, Any] = {}
        if env.get(prefix + "MODEL"):
            config["model"] = env[prefix + "MODEL"]
        if env.get(prefix + "PROVIDER"):
            config["provider"] = env[prefix + "PROVIDER"]
        if env.get(prefix + "BASE_URL"):
            config["base_url"] = env[prefix + "BASE_URL"]
        for key, convert in (("TIMEOUT", float), ("MAX_RETRIES", int)):
            raw = env.get(prefix + key)
            if raw:
                try:
                    config[key.lower()] = convert(raw)
                except ValueError:
                    raise ConfigurationError(f"{prefix}{key}={raw!r} is not a number") from None
        config.update(kwargs)
        return cls.from_config(config)

"""Turning configuration (keywords, a dict, a ``provider:model`` string, env vars) into a client."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

from pydantic import SecretStr, ValidationError

from ._config import ClientSettings, RetryPolicy, Timeout
from ._core import ClientCore
from ._errors import ConfigurationError, InvalidInputError, MissingAPIKeyError
from ._logging import logger, safe_url
from ._registry import Registry, default_registry
from ._types import Request
from ._validate import validation_message
from .adapter import Adapter

__all__ = [
    "ClientFactory",
    "check_base_url",
    "clean_key",
    "resolve_core",
    "split_model",
    "validation_message",
]

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
        "max_response_bytes",
        "max_error_bytes",
        "max_event_bytes",
        "trust_env",
        "verify",
        "allow_link_local",
        "http_backend",
    }
)
_SECRET_PARAMS = frozenset({"key", "api_key", "apikey", "api-key", "token", "access_token"})
_LOOPBACK_NAMES = frozenset({"localhost", "host.docker.internal"})
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


def clean_key(key: str | None, provider: str) -> str | None:
    """The key without surrounding whitespace; empty means none. Never echoes the key."""
    if key is None:
        return None
    key = key.strip()
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in key):
        raise ConfigurationError(
            f"the API key for {provider!r} contains whitespace or control characters "
            "(a pasted line break?); it was not used",
            provider=provider,
        )
    return key or None


def check_base_url(url: str, provider: str, *, allow_link_local: bool) -> str:
    """Reject URLs that would leak a secret or reach cloud metadata; warn on plain HTTP."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port
    except ValueError:
        raise ConfigurationError(
            f"base_url is not a valid URL: {safe_url(url)!r}", provider=provider
        ) from None
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigurationError(
            f"base_url must be an http:// or https:// URL with a host, got {safe_url(url)!r}",
            provider=provider,
        )
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(
            "base_url must not contain credentials (user:password@); pass api_key= instead",
            provider=provider,
        )
    if any(name.lower() in _SECRET_PARAMS for name, _ in parse_qsl(parts.query)):
        raise ConfigurationError(
            "base_url must not carry a key in its query string (it would show up in logs and "
            "errors); pass api_key= instead",
            provider=provider,
        )
    try:
        address: Any = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None and address.is_link_local and not allow_link_local:
        raise ConfigurationError(
            f"base_url points to a link-local address ({host}, where cloud metadata services "
            "live); pass allow_link_local=True if that is really intended",
            provider=provider,
        )
    loopback = host.lower() in _LOOPBACK_NAMES or (address is not None and address.is_loopback)
    if parts.scheme == "http" and not loopback and not (address and address.is_private):
        logger.warning(
            "llmx: %s base_url %s uses plain http: the API key travels unencrypted",
            provider,
            safe_url(url),
        )
    return url


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
    key = clean_key(key, name)
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
    check_base_url(url, name, allow_link_local=bool(options.get("allow_link_local")))
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
    try:
        retry = retry_policy or RetryPolicy()
        if max_retries is not None:
            retry = RetryPolicy.model_validate({**dict(retry), "max_retries": max_retries})
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
    except TypeError as exc:
        raise InvalidInputError(f"invalid client setting: {exc}") from None
    return ClientCore(settings, adapter)


class ClientFactory:
    """What ``Client`` and ``AsyncClient`` share: construction (keywords, and the alternative
    constructors below) and the read-only properties. Each adds its own transport."""

    _core: ClientCore

    def __init__(
        self,
        provider: str | None = None,
        *,
        api_key: str | None = None,
        model: str | None = None,
        base_url: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
        retry_policy: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        defaults: Mapping[str, Any] | None = None,
        adapter: Adapter | None = None,
        registry: Registry | None = None,
        http_client: Any = None,
        **options: Any,
    ) -> None:
        self._core = resolve_core(
            provider,
            api_key=api_key,
            model=model,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            retry_policy=retry_policy,
            headers=headers,
            defaults=defaults,
            adapter=adapter,
            registry=registry,
            **options,
        )
        self._open_transport(http_client)

    def _open_transport(self, http_client: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        s = self._core.settings
        return (
            f"{type(self).__name__}(provider={s.provider!r}, model={s.model!r}, "
            f"base_url={s.base_url!r})"
        )

    def __reduce__(self) -> Any:
        raise TypeError("llmx clients cannot be pickled; create one per process")

    @property
    def provider(self) -> str:
        return self._core.settings.provider

    @property
    def settings(self) -> ClientSettings:
        """Everything this client was configured with (read-only; the key stays hidden)."""
        return self._core.settings

    @property
    def model(self) -> str | None:
        return self._core.settings.model

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
        ``LLMX_TIMEOUT``, ``LLMX_MAX_RETRIES`` and ``LLMX_HTTP_BACKEND``; the key comes from the
        provider's variable."""
        env = os.environ
        config: dict[str, Any] = {}
        if env.get(prefix + "MODEL"):
            config["model"] = env[prefix + "MODEL"]
        if env.get(prefix + "PROVIDER"):
            config["provider"] = env[prefix + "PROVIDER"]
        if env.get(prefix + "BASE_URL"):
            config["base_url"] = env[prefix + "BASE_URL"]
        if env.get(prefix + "HTTP_BACKEND"):
            config["http_backend"] = env[prefix + "HTTP_BACKEND"].strip().lower()
        for key, convert in (("TIMEOUT", float), ("MAX_RETRIES", int)):
            raw = env.get(prefix + key)
            if raw:
                try:
                    config[key.lower()] = convert(raw)
                except ValueError:
                    raise ConfigurationError(f"{prefix}{key}={raw!r} is not a number") from None
        config.update(kwargs)
        return cls.from_config(config)

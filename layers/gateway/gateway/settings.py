"""Settings of the middleware, read once from the environment and validated.

Secrets (master key, hash salt) come from the environment locally and from Secrets Manager in AWS
(``*_SECRET_ARN``), fetched once per cold start.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from gateway.bedrock_ids import AliasError, ModelAliases

AuthMode = Literal["inline", "apigateway"]


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


def positive_number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive, got {raw!r}")
    return value


def positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    value = positive_number(env, name, default)
    if value != int(value):
        raise SettingsError(f"{name} must be a whole number, got {env.get(name)!r}")
    return int(value)


def flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _secret(env: Mapping[str, str], name: str) -> str | None:
    """``NAME`` from the environment, else the Secrets Manager secret named by ``NAME_SECRET_ARN``."""
    if env.get(name):
        return env[name]
    arn = env.get(f"{name}_SECRET_ARN")
    if not arn:
        return None
    from aws_lambda_powertools.utilities import parameters  # only in AWS: keeps local start-up light

    return parameters.get_secret(arn, max_age=300)


# The longest a cached authorization may outlive a key's deletion or blocking (docs/configuration.md).
MAX_KEY_CACHE_TTL_SECONDS = 300.0


def _key_cache_ttl(env: Mapping[str, str]) -> float:
    ttl = positive_number(env, "KEY_CACHE_TTL_SECONDS", 30.0)
    if ttl > MAX_KEY_CACHE_TTL_SECONDS:
        raise SettingsError(f"KEY_CACHE_TTL_SECONDS must be at most {MAX_KEY_CACHE_TTL_SECONDS:g}, got {ttl:g}")
    return ttl


def _model_aliases(env: Mapping[str, str]) -> ModelAliases:
    try:
        return ModelAliases.from_json(env.get("BEDROCK_MODEL_ALIASES"))
    except AliasError as exc:
        raise SettingsError(str(exc)) from None


def _guardrail_map(env: Mapping[str, str]) -> Mapping[str, tuple[str, ...]]:
    from gateway.converse.guardrails import parse_guardrail_map

    try:
        return parse_guardrail_map(env.get("GUARDRAIL_MAP", ""))
    except ValueError as exc:
        raise SettingsError(f"GUARDRAIL_MAP {exc}") from None


#: A public path prefix: ``""`` or ``/segment[/segment…]`` of URL-safe characters, no trailing slash.
_PREFIX_PATTERN = re.compile(r"(/[A-Za-z0-9._~-]+)*")


def _ui_path_prefix(env: Mapping[str, str]) -> str:
    raw = env.get("UI_PATH_PREFIX", "").strip()
    if not _PREFIX_PATTERN.fullmatch(raw):
        raise SettingsError(f"UI_PATH_PREFIX must be empty or a path like /prod (no trailing slash), got {raw!r}")
    return raw


@dataclass(frozen=True)
class Settings:
    litellm_base_url: str
    master_key: str | None
    hash_salt: str
    auth_mode: AuthMode
    connect_timeout: float
    read_timeout: float
    key_cache_ttl: float
    key_cache_size: int
    log_level: str
    history_enabled: bool
    #: Bedrock model ids and patterns → LiteLLM model names (``BEDROCK_MODEL_ALIASES``, gateway.bedrock_ids).
    bedrock_model_aliases: ModelAliases = field(default_factory=ModelAliases)
    #: LiteLLM's admin UI (pages, assets, login) reachable without a credential (UI_ACCESS, on|off).
    ui_access: bool = True
    #: The public path before the gateway's routes, for the admin UI's own links (UI_PATH_PREFIX, e.g. ``/prod``).
    ui_path_prefix: str = ""
    guardrail_map: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # GUARDRAIL_MAP (converse/guardrails.py)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        base_url = env.get("LITELLM_BASE_URL", "http://127.0.0.1:4000").rstrip("/")
        if not base_url.startswith(("http://", "https://")):
            raise SettingsError(f"LITELLM_BASE_URL must be an http(s) URL, got {base_url!r}")
        auth_mode = env.get("GATEWAY_AUTH_MODE", "inline")
        if auth_mode not in ("inline", "apigateway"):
            raise SettingsError(f"GATEWAY_AUTH_MODE must be 'inline' or 'apigateway', got {auth_mode!r}")
        master_key = _secret(env, "LITELLM_MASTER_KEY")
        salt = _secret(env, "GATEWAY_HASH_SALT") or master_key
        if not salt:
            raise SettingsError("GATEWAY_HASH_SALT (or LITELLM_MASTER_KEY) must be set to hash API keys")
        return cls(
            litellm_base_url=base_url,
            master_key=master_key,
            hash_salt=salt,
            auth_mode=auth_mode,  # type: ignore[arg-type]
            connect_timeout=positive_number(env, "UPSTREAM_CONNECT_TIMEOUT_SECONDS", 5.0),
            read_timeout=positive_number(env, "UPSTREAM_READ_TIMEOUT_SECONDS", 600.0),
            key_cache_ttl=_key_cache_ttl(env),
            key_cache_size=positive_int(env, "KEY_CACHE_SIZE", 10_000),
            log_level=env.get("LOG_LEVEL", "INFO").upper(),
            history_enabled=flag(env, "HISTORY_ENABLED", True),
            bedrock_model_aliases=_model_aliases(env),
            ui_access=flag(env, "UI_ACCESS", True),
            ui_path_prefix=_ui_path_prefix(env),
            guardrail_map=_guardrail_map(env),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env(os.environ)

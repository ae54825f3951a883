"""Pure rules for self-service ``/user/new`` (JWT) and ``/key/generate`` (non-admin). No I/O.

``/user/new`` with a JWT: the LiteLLM user is derived from the verified claims and the operator's
defaults only. The caller's request body is not an input, so nothing in it (``user_id``,
``user_role``, teams, budgets, limits, models, metadata …) can be applied: extra fields are ignored.

``/key/generate`` by a non-admin: the key is for the caller's own ``user_id`` (filled in when
omitted) and the body may only use the fields in :data:`USER_KEY_FIELDS`. Anything else that carries
a value is refused with 403 naming the fields; empty values (``None``, ``""``, ``[]``, ``{}``,
``False``, ``0``) of other fields are dropped, since UIs send such defaults and they request nothing.
Per-key budgets and limits are allowed because LiteLLM still enforces the user's own budget, limits
and models on every request made with a personal key; a key can only narrow them. Team keys are
refused (a team key escapes the user's budget), as are aliases, tags, guardrail and routing
settings, and LiteLLM-interpreted metadata. Admins are unrestricted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.errors import ErrorKind, GatewayError, validation
from gateway.identity.principal import Principal

INTERNAL_USER_ROLE = "internal_user"
_NON_ADMIN_ROLES = frozenset({"internal_user", "internal_user_viewer"})

# LiteLLM's duration syntax (litellm_core_utils/duration_parser.py).
_DURATION = re.compile(r"\d+(s|m|h|d|w|mo)")

# Fields a non-admin may set on a key for themselves (besides user_id == their own).
USER_KEY_FIELDS = frozenset(
    {
        "key_alias",
        "duration",
        "models",
        "metadata",
        "max_budget",
        "soft_budget",
        "budget_duration",
        "tpm_limit",
        "rpm_limit",
        "max_parallel_requests",
        "key_type",
    }
)
# "management"/"read_only" key types change which routes a key reaches: admin-only.
_USER_KEY_TYPES = frozenset({"default", "llm_api"})

# Metadata names LiteLLM interprets (checked against LiteLLM 1.108.x: guardrails, budgets, rate
# limits, routing, logging, auth context …). Non-admin metadata must avoid them: it is for labels.
_RESERVED_METADATA = frozenset(
    {
        "agent_id",
        "billing_agent_id",
        "budget_fallbacks",
        "cache",
        "callback_settings",
        "enforced_params",
        "enable_prompt_caching",
        "global_max_parallel_requests",
        "guardrails",
        "logging",
        "max_iterations",
        "opik",
        "password_reset_required",
        "policies",
        "priority",
        "prompts",
        "require_trace_id",
        "requester_metadata",
        "rpm_limit_type",
        "scim_active",
        "secret_manager_settings",
        "service_account_id",
        "session_id",
        "soft_budget_alerting_emails",
        "spend_logs_metadata",
        "status",
        "tag_rpm_limit",
        "tags",
        "team_id",
        "team_member_budget_id",
        "temp_budget_expiry",
        "temp_budget_increase",
        "throttle_on_budget_exceeded",
        "tpm_limit_type",
        "trace_id",
        "user",
        "user_id",
        "zguard_policy_id",
    }
)
_RESERVED_METADATA_PREFIXES = (
    "_",
    "user_api_",
    "litellm",
    "gateway",
    "allowed_",
    "disable",
    "opted_out",
    "model",
    "mcp_",
    "guardrail",
    "sensitive_data",
    "standard_logging",
)
_METADATA_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")
_MAX_METADATA_ENTRIES = 16
_MAX_METADATA_VALUE_CHARS = 256


# ---- /user/new --------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserDefaults:
    """Budgets and limits every JWT-provisioned user gets (``None`` / empty = LiteLLM's default)."""

    max_budget: float | None = None
    budget_duration: str | None = None
    tpm_limit: int | None = None
    rpm_limit: int | None = None
    max_parallel_requests: int | None = None
    models: tuple[str, ...] = ()  # empty: all models

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> UserDefaults:
        """Read ``OKTA_USER_*``; ValueError naming the variable on a bad value."""
        budget_duration = env.get("OKTA_USER_BUDGET_DURATION", "").strip() or None
        if budget_duration is not None and not _DURATION.fullmatch(budget_duration):
            raise ValueError(
                f"OKTA_USER_BUDGET_DURATION must look like 30s, 30m, 24h, 30d, 4w or 1mo, got {budget_duration!r}"
            )
        models = tuple(m.strip() for m in env.get("OKTA_USER_MODELS", "").split(",") if m.strip())
        return cls(
            max_budget=_env_budget(env, "OKTA_USER_MAX_BUDGET"),
            budget_duration=budget_duration,
            tpm_limit=_env_positive_int(env, "OKTA_USER_TPM_LIMIT"),
            rpm_limit=_env_positive_int(env, "OKTA_USER_RPM_LIMIT"),
            max_parallel_requests=_env_positive_int(env, "OKTA_USER_MAX_PARALLEL_REQUESTS"),
            models=models,
        )


def _env_budget(env: Mapping[str, str], name: str) -> float | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number (USD), got {raw!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative number, got {raw!r}")
    return value


def _env_positive_int(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {raw!r}")
    return value


def user_new_body_for_jwt(claims: Mapping[str, Any], defaults: UserDefaults) -> dict[str, Any]:
    """The LiteLLM ``/user/new`` body for the user a verified JWT stands for.

    ``user_id`` is ``sub``, ``user_email`` the ``email`` claim (omitted when absent or when the
    token says ``email_verified: false``), role ``internal_user``, budgets/limits/models from
    ``defaults``. The HTTP request body is deliberately not a parameter: it is ignored.
    """
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.strip():
        raise GatewayError(ErrorKind.UNAUTHENTICATED, "token has no subject (sub)")
    body: dict[str, Any] = {
        "user_id": sub,
        "user_role": INTERNAL_USER_ROLE,
        "auto_create_key": True,
    }
    email = claims.get("email")
    if isinstance(email, str) and "@" in email and claims.get("email_verified") is not False:
        body["user_email"] = email
    for field in ("max_budget", "budget_duration", "tpm_limit", "rpm_limit", "max_parallel_requests"):
        value = getattr(defaults, field)
        if value is not None:
            body[field] = value
    if defaults.models:
        body["models"] = list(defaults.models)
    return body


def check_existing_user_for_jwt(user_info: Mapping[str, Any]) -> None:
    """Refuse to hand a JWT a key for an existing LiteLLM user that is not a plain internal user.

    ``user_info`` is the user row from LiteLLM ``/user/info`` (``response["user_info"]``). Without
    this, a token whose ``sub`` equals an administrator's ``user_id`` would inherit admin rights.
    """
    role = user_info.get("user_role")
    if role not in _NON_ADMIN_ROLES:
        raise GatewayError(
            ErrorKind.FORBIDDEN,
            "this identity maps to an existing LiteLLM user with an elevated role; "
            "self-provisioning with a JWT is not allowed for it",
        )


# ---- /key/generate ----------------------------------------------------------------------------


def key_generate_body_for(
    principal: Principal,
    body: Mapping[str, Any],
    *,
    user_models: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The ``/key/generate`` body to forward for ``principal`` (see the module docstring).

    ``user_models``: the caller's allowed models when known (empty/None: not checked here; LiteLLM
    still checks the user's models on each request).
    """
    if not isinstance(body, Mapping):
        raise validation("request body must be a JSON object")
    if principal.is_admin:
        return dict(body)
    if not principal.user_id:
        raise GatewayError(
            ErrorKind.FORBIDDEN,
            "this key does not belong to a user, so it cannot generate keys; "
            "use a key that belongs to a user, a JWT, or ask an administrator",
        )

    requested_user = body.get("user_id")
    if requested_user not in (None, "") and requested_user != principal.user_id:
        raise GatewayError(ErrorKind.FORBIDDEN, "you can only generate keys for your own user_id", param="user_id")

    out: dict[str, Any] = {}
    refused: list[str] = []
    for field, value in body.items():
        if field == "user_id":
            continue
        if field in USER_KEY_FIELDS:
            if value is not None:
                out[field] = value
        elif not _is_empty(value):
            refused.append(field)
    if refused:
        raise GatewayError(
            ErrorKind.FORBIDDEN,
            "only an administrator can set " + ", ".join(sorted(refused)) + " on a key; "
            "you may set: " + ", ".join(sorted(USER_KEY_FIELDS | {"user_id"})),
            param=sorted(refused)[0],
        )
    _validate_user_key_fields(out, user_models)
    out["user_id"] = principal.user_id
    return out


def _is_empty(value: Any) -> bool:
    """A value that requests nothing: what clients and UIs send for fields left at their default."""
    if value is None or value is False:
        return True
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value == 0
    return isinstance(value, (str, list, dict)) and not value


def _validate_user_key_fields(fields: dict[str, Any], user_models: Sequence[str] | None) -> None:
    for name in ("key_alias", "duration", "budget_duration"):
        if name in fields and not isinstance(fields[name], str):
            raise validation(f"{name} must be a string", name)
    for name in ("duration", "budget_duration"):
        if name in fields and not _DURATION.fullmatch(fields[name]):
            raise validation(f"{name} must look like 30s, 30m, 24h, 30d, 4w or 1mo", name)
    for name in ("max_budget", "soft_budget"):
        value = fields.get(name)
        if name in fields and (
            isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0
        ):
            raise validation(f"{name} must be a non-negative number", name)
    for name in ("tpm_limit", "rpm_limit", "max_parallel_requests"):
        value = fields.get(name)
        if name in fields and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise validation(f"{name} must be a non-negative integer", name)
    if "key_type" in fields and fields["key_type"] not in _USER_KEY_TYPES:
        raise GatewayError(
            ErrorKind.FORBIDDEN,
            "key_type must be one of " + ", ".join(sorted(_USER_KEY_TYPES)) + " for non-admins",
            param="key_type",
        )
    if "models" in fields:
        models = fields["models"]
        if not isinstance(models, list) or not all(isinstance(m, str) and m for m in models):
            raise validation("models must be a list of model names", "models")
        if user_models:
            outside = sorted(set(models) - set(user_models))
            if outside:
                raise GatewayError(
                    ErrorKind.FORBIDDEN,
                    "models not available to you: " + ", ".join(outside),
                    param="models",
                )
    if "metadata" in fields:
        _validate_user_metadata(fields["metadata"])


def _validate_user_metadata(metadata: Any) -> None:
    """Non-admin metadata is a small map of string labels that LiteLLM does not interpret."""
    if not isinstance(metadata, dict):
        raise validation("metadata must be a JSON object", "metadata")
    if len(metadata) > _MAX_METADATA_ENTRIES:
        raise validation(f"metadata may have at most {_MAX_METADATA_ENTRIES} entries", "metadata")
    for key, value in metadata.items():
        if not isinstance(key, str) or not _METADATA_KEY.fullmatch(key):
            raise validation("metadata keys must be short names (letters, digits, _ . -)", "metadata")
        if key.lower() in _RESERVED_METADATA or key.lower().startswith(_RESERVED_METADATA_PREFIXES):
            raise GatewayError(
                ErrorKind.FORBIDDEN,
                f"metadata.{key} is a LiteLLM setting; only an administrator can set it",
                param="metadata",
            )
        if not isinstance(value, str) or len(value) > _MAX_METADATA_VALUE_CHARS:
            raise validation(
                f"metadata values must be strings of at most {_MAX_METADATA_VALUE_CHARS} characters",
                "metadata",
            )

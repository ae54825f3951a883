"""Pure rules for self-service ``/user/new`` with a JWT. No I/O. (What non-admins may write on
keys is in ``key_policy``.)

The LiteLLM user is derived from the verified claims and the operator's defaults only. The caller's
request body is not an input, so nothing in it (``user_id``, ``user_role``, teams, budgets, limits,
models, metadata …) can be applied: extra fields are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.errors import ErrorKind, GatewayError
from gateway.identity.key_policy import DURATION

INTERNAL_USER_ROLE = "internal_user"
_NON_ADMIN_ROLES = frozenset({"internal_user", "internal_user_viewer"})


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
        if budget_duration is not None and not DURATION.fullmatch(budget_duration):
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

"""What a non-administrator may write on a LiteLLM key, on every route that writes keys. Pure, no I/O.

LiteLLM lets a key's owner (and a team member with key permissions) set far more on a key than the
gateway lets a non-admin ask for: tags, guardrail and routing settings, LiteLLM-interpreted metadata,
route permissions, team membership … So every key-writing route of LiteLLM 1.108.x
(``proxy/management_endpoints/key_management_endpoints.py``) goes through one allow-list here when
the caller is not an administrator (master key, or a key of a ``proxy_admin`` user):

``POST /key/generate``
    For the caller's own ``user_id`` (filled in when omitted), only :data:`USER_KEY_FIELDS`. Empty
    values (``None``, ``""``, ``[]``, ``{}``, ``False``, ``0``) of other fields are dropped: UIs send
    such defaults and on a new key they request nothing.
``POST /key/update``
    ``key`` (or ``key_alias`` alone) names the key; the rest must be in :data:`USER_KEY_UPDATE_FIELDS`.
    Any other field is refused even when null or empty: an update is a merge patch, so ``"tags": []``
    or ``"guardrails": null`` would clear what an administrator set.
``POST /key/regenerate``, ``POST /key/{key}/regenerate``
    As ``/key/update`` (LiteLLM applies the body as an update), plus ``grace_period`` and ``key_type``.
``POST /key/bulk_update``
    Each item: ``key`` and ``max_budget`` only (LiteLLM itself admits only proxy admins today).
``POST /team/key/bulk_update``
    The team selection plus budget, limit and duration fields in ``update_fields``.
``POST /key/service-account/generate``, ``/key/unblock``, ``/key/{key}/reset_spend``
    Administrators only: service-account keys are team keys, and unblocking or resetting spend
    undoes an administrator's decision.

Per-key budgets and limits are allowed because LiteLLM still enforces the user's own budget, limits
and models on every request made with a personal key; a key can only narrow them. Team keys are
refused (a team key escapes the user's budget), as are aliases, tags, guardrail and routing
settings, and LiteLLM-interpreted metadata. Every other ``/key/*`` route reads or narrows (info,
list, delete, block, health) and is relayed unchanged; LiteLLM checks who may do it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from gateway.errors import ErrorKind, GatewayError, validation
from gateway.identity.principal import Principal

# LiteLLM's duration syntax (litellm_core_utils/duration_parser.py).
DURATION = re.compile(r"\d+(s|m|h|d|w|mo)")

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
# /key/update: the key is named by `key` (or `key_alias`); key_type is fixed at creation.
USER_KEY_UPDATE_FIELDS = (USER_KEY_FIELDS - {"key_type"}) | {"key"}
USER_KEY_REGENERATE_FIELDS = USER_KEY_FIELDS | {"key", "grace_period"}
_USER_BULK_ITEM_FIELDS = frozenset({"key", "max_budget"})
_TEAM_BULK_SELECTION = frozenset({"team_id", "key_ids", "all_keys_in_team", "update_fields"})
# Team bulk updates replace each key's metadata wholesale, so metadata is not among them.
_USER_TEAM_BULK_FIELDS = frozenset(
    {"max_budget", "budget_duration", "tpm_limit", "rpm_limit", "max_parallel_requests", "duration"}
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
    _require_user(principal)

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
    _refuse(sorted(refused), USER_KEY_FIELDS | {"user_id"}, "/key/generate")
    _validate_user_key_fields(out, user_models)
    out["user_id"] = principal.user_id
    return out


# ---- the other key-writing routes -----------------------------------------------------------


def key_update_body_for(principal: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
    """The ``/key/update`` body to forward for ``principal``: unchanged when allowed, else an error."""
    return _checked_patch(principal, body, USER_KEY_UPDATE_FIELDS, "/key/update")


def key_regenerate_body_for(principal: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
    """The ``/key/regenerate`` body to forward (LiteLLM applies its fields as an update)."""
    out = _checked_patch(principal, body, USER_KEY_REGENERATE_FIELDS, "/key/regenerate")
    if out.get("grace_period") is not None and not (
        isinstance(out["grace_period"], str) and DURATION.fullmatch(out["grace_period"])
    ):
        raise validation("grace_period must look like 30s, 30m, 24h, 30d, 4w or 1mo", "grace_period")
    return out


def key_bulk_update_body_for(principal: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
    """The ``/key/bulk_update`` body to forward: each item may only name a key and its max_budget."""
    body = _object(body)
    if principal.is_admin:
        return dict(body)
    _require_user(principal)
    items = body.get("keys")
    if not isinstance(items, list) or not all(isinstance(item, Mapping) for item in items):
        raise validation("keys must be a list of objects", "keys")
    _refuse(sorted(set(body) - {"keys"}), _USER_BULK_ITEM_FIELDS, "/key/bulk_update")
    for index, item in enumerate(items):
        refused = sorted(set(item) - _USER_BULK_ITEM_FIELDS)
        _refuse([f"keys[{index}].{f}" for f in refused], _USER_BULK_ITEM_FIELDS, "/key/bulk_update")
        _validate_user_key_fields({k: v for k, v in item.items() if k != "key" and v is not None}, None)
    return dict(body)


def team_key_bulk_update_body_for(principal: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
    """The ``/team/key/bulk_update`` body to forward: budgets, limits and durations only."""
    body = _object(body)
    if principal.is_admin:
        return dict(body)
    _require_user(principal)
    _refuse(sorted(set(body) - _TEAM_BULK_SELECTION), _USER_TEAM_BULK_FIELDS, "/team/key/bulk_update")
    fields = body.get("update_fields")
    if not isinstance(fields, Mapping):
        raise validation("update_fields must be a JSON object", "update_fields")
    refused = sorted(set(fields) - _USER_TEAM_BULK_FIELDS)
    _refuse([f"update_fields.{f}" for f in refused], _USER_TEAM_BULK_FIELDS, "/team/key/bulk_update")
    _validate_user_key_fields({k: v for k, v in fields.items() if v is not None}, None)
    return dict(body)


def admin_only(route: str, why: str) -> GatewayError:
    """The refusal for a key-writing route that only administrators may call."""
    return GatewayError(ErrorKind.FORBIDDEN, f"only an administrator can call {route}: {why}")


def carry_reserved_metadata(existing: Mapping[str, Any] | None, requested: Mapping[str, Any] | None) -> dict[str, Any]:
    """The metadata to write when a non-admin replaces a key's metadata with ``requested``.

    LiteLLM replaces a key's metadata wholesale on update, and keeps its own settings there (tags,
    guardrails, budgets …). The caller's labels replace the old labels; the entries only an
    administrator can set are carried over, so editing labels cannot remove them.
    """
    kept = {k: v for k, v in (existing or {}).items() if not isinstance(k, str) or _is_reserved_metadata(k)}
    return kept | dict(requested or {})


def _checked_patch(
    principal: Principal, body: Mapping[str, Any], allowed: frozenset[str], route: str
) -> dict[str, Any]:
    body = _object(body)
    if principal.is_admin:
        return dict(body)
    _require_user(principal)
    if "user_id" in body and body["user_id"] != principal.user_id:
        raise GatewayError(ErrorKind.FORBIDDEN, "you cannot give a key to another user_id", param="user_id")
    _refuse(sorted(set(body) - allowed - {"user_id"}), allowed | {"user_id"}, route)
    if "key" in body and (not isinstance(body["key"], str) or not body["key"]):
        raise validation("key must be the key (or its token id) to change", "key")
    _validate_user_key_fields({k: v for k, v in body.items() if k != "key" and v is not None}, None)
    return dict(body)


def _object(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise validation("request body must be a JSON object")
    return body


def _require_user(principal: Principal) -> None:
    if not principal.user_id:
        raise GatewayError(
            ErrorKind.FORBIDDEN,
            "this key does not belong to a user, so it cannot manage keys; "
            "use a key that belongs to a user, a JWT, or ask an administrator",
        )


def _refuse(refused: Sequence[str], allowed: frozenset[str], route: str) -> None:
    if refused:
        raise GatewayError(
            ErrorKind.FORBIDDEN,
            "only an administrator can set " + ", ".join(refused) + f" with {route}; "
            "you may set: " + ", ".join(sorted(allowed)),
            param=refused[0],
        )


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
        if name in fields and not DURATION.fullmatch(fields[name]):
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
        if _is_reserved_metadata(key):
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


def _is_reserved_metadata(name: str) -> bool:
    return name.lower() in _RESERVED_METADATA or name.lower().startswith(_RESERVED_METADATA_PREFIXES)

"""Users and keys: ``create_user``, ``issue_key``, ``revoke_key``, ``spend`` (LiteLLM's admin API)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from gateway.ops.context import OpsContext, OpsError
from gateway.ops.fields import exactly_one, only, text

#: What a user or a key may carry (LiteLLM's field names, see docs/operations.md).
LIMIT_FIELDS = (
    "max_budget",
    "budget_duration",
    "tpm_limit",
    "rpm_limit",
    "max_parallel_requests",
    "models",
    "model_rpm_limit",
    "model_tpm_limit",
    "metadata",
)
USER_FIELDS = ("user_id", "user_email", "user_role", "user_alias", *LIMIT_FIELDS)
KEY_FIELDS = ("user_id", "key_alias", "duration", *LIMIT_FIELDS)
USER_ROLES = ("internal_user", "internal_user_viewer", "proxy_admin", "proxy_admin_viewer")


def token_id(key: str) -> str:
    """LiteLLM's stored id of a key (its SHA-256): safe to show, and accepted wherever a key is."""
    return hashlib.sha256(key.encode()).hexdigest() if key.startswith("sk-") else key


def _limits(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: params[k] for k in LIMIT_FIELDS if k in params}


async def create_user(ctx: OpsContext, event: Mapping[str, Any]) -> dict[str, Any]:
    params = only(event, USER_FIELDS)
    role = params.setdefault("user_role", "internal_user")
    if role not in USER_ROLES:
        raise OpsError(f"user_role must be one of {', '.join(USER_ROLES)}")
    if not (text(params, "user_id", required=False) or text(params, "user_email", required=False)):
        raise OpsError("user_id or user_email is required (to find the user again)")
    user = await ctx.admin("POST", "/user/new", params)
    return {
        "user_id": user.get("user_id"),
        "user_email": user.get("user_email"),
        "user_role": user.get("user_role"),
        "key": user.get("key"),  # created by this event: the one secret an event may return
        "key_id": token_id(user["key"]) if user.get("key") else None,
        **{k: user.get(k) for k in LIMIT_FIELDS if k in params},
    }


async def issue_key(ctx: OpsContext, event: Mapping[str, Any]) -> dict[str, Any]:
    params = only(event, KEY_FIELDS)
    text(params, "user_id")
    answer = await ctx.admin("POST", "/key/generate", params)
    return {
        "user_id": answer.get("user_id"),
        "key": answer.get("key"),  # created by this event
        "key_id": answer.get("token") or token_id(answer["key"]),
        "key_alias": answer.get("key_alias"),
        "expires": answer.get("expires"),
        **{k: answer.get(k) for k in _limits(params)},
    }


async def revoke_key(ctx: OpsContext, event: Mapping[str, Any]) -> dict[str, Any]:
    """By key id (``key_id``: the SHA-256 shown by ``issue_key`` and the admin UI), alias or the key."""
    params = only(event, ("key", "key_id", "key_alias"))
    name, value = exactly_one(params, "key", "key_id", "key_alias")
    body = {"key_aliases": [value]} if name == "key_alias" else {"keys": [token_id(value)]}
    answer = await ctx.admin("POST", "/key/delete", body)
    deleted = answer.get("deleted_keys") or []
    if not deleted:
        raise OpsError("no such key")
    return {
        "revoked": len(deleted),
        **({"key_alias": value} if name == "key_alias" else {"key_id": token_id(value)}),
        "note": "model calls refuse the key at once; the gateway's own key cache may accept it for up to "
        "KEY_CACHE_TTL_SECONDS on routes that do not reach LiteLLM",
    }


async def spend(ctx: OpsContext, event: Mapping[str, Any]) -> dict[str, Any]:
    params = only(event, ("user_id", "key", "key_id"))
    name, value = exactly_one(params, "user_id", "key", "key_id")
    if name == "user_id":
        answer = await ctx.admin("GET", "/user/info", query={"user_id": value})
        info = answer.get("user_info") or {}
        return {
            "user_id": value,
            "spend": info.get("spend", 0.0),
            "max_budget": info.get("max_budget"),
            "budget_duration": info.get("budget_duration"),
            "budget_reset_at": info.get("budget_reset_at"),
            "keys": [
                {"key_id": k.get("token"), "key_alias": k.get("key_alias"), "spend": k.get("spend", 0.0)}
                for k in answer.get("keys") or []
            ],
        }
    answer = await ctx.admin("GET", "/key/info", query={"key": token_id(value)})
    info = answer.get("info") or {}
    return {
        "key_id": token_id(value),
        "key_alias": info.get("key_alias"),
        "user_id": info.get("user_id"),
        "spend": info.get("spend", 0.0),
        "max_budget": info.get("max_budget"),
        "budget_duration": info.get("budget_duration"),
        "budget_reset_at": info.get("budget_reset_at"),
    }

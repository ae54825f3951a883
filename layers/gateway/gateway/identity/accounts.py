"""The I/O side of JWT self-provisioning: LiteLLM users and keys for ``jwt`` principals.

All calls use LiteLLM's management API with the master key; the rules themselves (what a JWT user
gets, who may hold such a user) are the pure functions in ``provisioning``.

- :meth:`Accounts.ensure_user`: the LiteLLM ``internal_user`` whose ``user_id`` is the token's
  ``sub`` exists (created from the operator's defaults when missing; an existing user with an
  elevated role is refused, so a token cannot inherit an administrator's rights).
- :meth:`Accounts.new_key_for`: ``POST /user/new`` with a JWT — the user above plus a new key.
- :meth:`Accounts.managed_key`: the key the gateway uses upstream when a JWT is used directly on a
  chat route, so LiteLLM charges the user and applies the user's budget and limits.

The managed key is *derived*, not stored: ``"sk-gw-" + HMAC-SHA256(k, sub)`` with ``k`` derived
from the gateway's hash salt (``GATEWAY_HASH_SALT``, a secret) under a label of its own. Every
process (and every Lambda) computes the same key, so there is nothing to store, encrypt or share,
and LiteLLM keeps only its hash. On first use per process the key is checked with LiteLLM (a
self-lookup, so the key never appears in a URL) and created with ``POST /key/generate`` if missing.
It is never returned to a client. Rotating the salt rotates every managed key (the old ones stay
in LiteLLM, unused, tagged ``metadata.gateway_managed``).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import zlib
from typing import Any
from urllib.parse import quote

from cachetools import TTLCache

from gateway.errors import ErrorKind, GatewayError
from gateway.identity.principal import Principal
from gateway.identity.provisioning import UserDefaults, check_existing_user_for_jwt, user_new_body_for_jwt
from gateway.log import logger
from gateway.upstream import LiteLLMClient

MANAGED_KEY_PREFIX = "sk-gw-"
MANAGED_ALIAS_PREFIX = "gateway-managed-"
_DERIVATION_LABEL = b"genai-gateway/managed-key/v1\x00"
_LOCK_STRIPES = 64
# Fields of the LiteLLM user row that the JWT /user/new answer repeats (what the user was given).
_USER_FIELDS = (
    "user_email",
    "user_role",
    "max_budget",
    "budget_duration",
    "tpm_limit",
    "rpm_limit",
    "max_parallel_requests",
    "models",
    "spend",
)
_KEY_FIELDS = ("key", "key_name", "token_id", "expires")


def derive_managed_key(hash_salt: str, user_id: str) -> str:
    """The managed LiteLLM key of ``user_id``: stable, secret (keyed by the salt), never stored.

    The HMAC key is itself derived from the salt under a fixed label, so no value the gateway
    computes elsewhere with the salt (e.g. ``hash_key`` of a bearer) can ever equal a managed key.
    """
    derived = hmac.new(hash_salt.encode(), _DERIVATION_LABEL, hashlib.sha256).digest()
    return MANAGED_KEY_PREFIX + hmac.new(derived, user_id.encode(), hashlib.sha256).hexdigest()


def _status(exc: GatewayError) -> int | None:
    return exc.upstream[0] if exc.upstream else None


def _mentions(exc: GatewayError, *words: str) -> bool:
    text = exc.message.lower()
    return all(w in text for w in words)


class Accounts:
    """LiteLLM users and keys for JWT principals. One per process; safe for concurrent use."""

    def __init__(
        self,
        client: LiteLLMClient,
        *,
        master_key: str | None,
        hash_salt: str,
        defaults: UserDefaults,
        cache_ttl: float = 300.0,
        cache_size: int = 10_000,
    ) -> None:
        self._client = client
        self._master_key = master_key
        self._salt = hash_salt
        self.defaults = defaults
        # sub -> True: the user exists with a plain role / the managed key exists (re-checked after the TTL,
        # so a deleted key is re-created and a promoted user is refused again within minutes)
        self._users: TTLCache[str, bool] = TTLCache(maxsize=cache_size, ttl=cache_ttl)
        self._keys: TTLCache[str, bool] = TTLCache(maxsize=cache_size, ttl=cache_ttl)
        self._locks = [asyncio.Lock() for _ in range(_LOCK_STRIPES)]

    # ---- public ---------------------------------------------------------------------------------

    async def ensure_user(self, principal: Principal) -> tuple[dict[str, Any], bool]:
        """The LiteLLM user row for a ``jwt`` principal and whether it was created just now."""
        sub = self._sub(principal)
        row = await self._user_row(sub)
        created = False
        if row is None:
            row, created = await self._create_user(principal)
        if not created:
            check_existing_user_for_jwt(row)
        self._users[sub] = True
        return row, created

    async def new_key_for(self, principal: Principal) -> dict[str, Any]:
        """``POST /user/new`` with a JWT: provision the user (from the token only) and mint a new key."""
        row, created = await self.ensure_user(principal)
        sub = self._sub(principal)
        generated = await self._call(
            "POST", "/key/generate", {"user_id": sub, "metadata": {"gateway_source": "jwt-user-new"}}
        )
        if not isinstance(generated.get("key"), str) or not generated["key"]:
            raise GatewayError(ErrorKind.MODEL_ERROR, "the model gateway did not return a key")
        answer: dict[str, Any] = {"user_id": sub, "user_created": created}
        answer |= {f: row[f] for f in _USER_FIELDS if f in row}
        answer |= {f: generated[f] for f in _KEY_FIELDS if f in generated}
        logger.info("JWT user provisioned a key", extra={"user_id": sub, "user_created": created})
        return answer

    def managed_key_of(self, user_id: str) -> str:
        return derive_managed_key(self._salt, user_id)

    async def managed_key(self, principal: Principal) -> str:
        """The key the gateway uses upstream for a ``jwt`` principal (created on first use)."""
        sub = self._sub(principal)
        key = self.managed_key_of(sub)
        if sub in self._keys:
            return key
        async with self._locks[zlib.crc32(sub.encode()) % _LOCK_STRIPES]:
            if sub in self._keys:  # another request of this process made it while we waited
                return key
            if sub not in self._users:
                await self.ensure_user(principal)
            if not await self._key_usable(key):
                await self._create_managed_key(sub, key)
            self._keys[sub] = True
        return key

    # ---- users ----------------------------------------------------------------------------------

    def _sub(self, principal: Principal) -> str:
        if principal.type != "jwt" or not principal.user_id:
            raise GatewayError(ErrorKind.INTERNAL, "account provisioning is only for JWT principals")
        if not self._master_key:
            raise GatewayError(
                ErrorKind.UNAVAILABLE, "JWT users are not available: the gateway has no LiteLLM master key"
            )
        return principal.user_id

    async def _user_row(self, sub: str) -> dict[str, Any] | None:
        """The user row (``/v2/user/info``: the row only, no keys or teams loaded), None if missing."""
        try:
            return await self._call("GET", "/v2/user/info?user_id=" + quote(sub, safe=""))
        except GatewayError as exc:
            if _status(exc) == 404:
                return None
            raise

    async def _create_user(self, principal: Principal) -> tuple[dict[str, Any], bool]:
        sub = self._sub(principal)
        body = user_new_body_for_jwt({"sub": sub, "email": principal.email}, self.defaults)
        body["auto_create_key"] = False  # keys are made explicitly (the same way for new and existing users)
        try:
            return await self._call("POST", "/user/new", body), True
        except GatewayError as exc:
            if _status(exc) not in (400, 409):
                raise
            # Created concurrently (another request or process won the race)?
            row = await self._user_row(sub)
            if row is not None:
                return row, False  # ensure_user checks its role
            if "user_email" in body and _mentions(exc, "email", "already exists"):
                # Another LiteLLM user holds this email. The identity is `sub`: never attach the token to
                # that user; create this one without an email and leave the clash to an administrator.
                logger.warning("JWT user created without email: the email belongs to another user",
                               extra={"user_id": sub})  # fmt: skip
                del body["user_email"]
                return await self._call("POST", "/user/new", body), True
            raise

    # ---- the managed key ------------------------------------------------------------------------

    async def _key_usable(self, key: str) -> bool:
        """Does LiteLLM accept ``key``? A self-lookup, so the key is only ever sent as a credential."""
        response = await self._client.send(
            "GET", "/key/info", headers={"authorization": f"Bearer {key}", "accept": "application/json"}
        )
        await response.aclose()
        if response.status_code == 200:
            return True
        if response.status_code in (400, 401, 403, 404):
            return False
        raise GatewayError(ErrorKind.UNAVAILABLE, "cannot reach the model gateway's key store right now; retry shortly")

    async def _create_managed_key(self, sub: str, key: str) -> None:
        body: dict[str, Any] = {
            "key": key,
            "user_id": sub,
            "key_alias": MANAGED_ALIAS_PREFIX + sub,
            "metadata": {"gateway_managed": "true"},
        }
        try:
            await self._call("POST", "/key/generate", body)
        except GatewayError as exc:
            # The alias is taken (a key made with an earlier salt, or a user-renamed key) or refused:
            # the alias is only a label, so create the key without it. LiteLLM's insert of a given key is
            # an upsert that leaves an existing key untouched, so this is also safe in a race.
            if _status(exc) != 400:
                raise
            del body["key_alias"]
            await self._call("POST", "/key/generate", body)
        logger.info("managed key ready for JWT user", extra={"user_id": sub})

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self._client.json_call(
            method,
            path,
            authorization=f"Bearer {self._master_key}",
            body=json.dumps(body).encode() if body is not None else None,
        )

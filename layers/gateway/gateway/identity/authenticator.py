"""The authorizer's rules: turn an ``Authorization`` header into a :class:`Principal`.

The same code runs as the API Gateway REQUEST authorizer (AWS) and in front of every local route.
Order: master key → admin; a JWT (when an issuer is configured) → the token's subject; anything else
is a LiteLLM virtual key, validated with LiteLLM's ``/key/info`` using the key itself and cached
briefly (bounded) under its salted hash — the raw key is never stored or logged.

JWTs are verified locally (signature against the issuer's published keys, ``iss``/``aud``/``exp``/
``nbf``/``iat``, ``sub`` required; see ``jwt_verifier``): a refused token answers 401 with a short
reason, an unreachable issuer (no signing keys at all) answers 503. Tokens are never logged.
"""

from __future__ import annotations

import dataclasses
import hmac
import time
from collections.abc import Mapping
from typing import Any, Protocol

from cachetools import TTLCache

from gateway.errors import ErrorKind, GatewayError
from gateway.identity.jwt_verifier import IssuerUnavailable, JwtConfig, JwtError, JwtVerifier, looks_like_jwt
from gateway.identity.principal import Principal, hash_key
from gateway.log import logger
from gateway.settings import Settings
from gateway.upstream import LiteLLMClient

# A rejected key is remembered briefly so a client retrying a bad key cannot hammer LiteLLM.
_NEGATIVE_TTL_SECONDS = 5.0


class TokenVerifier(Protocol):
    """What the authenticator needs from a JWT verifier (``jwt_verifier.JwtVerifier``).

    ``verify`` returns the verified claims or raises ``JwtError`` (``IssuerUnavailable`` when no
    signing keys could be loaded at all).
    """

    async def verify(self, token: str) -> Mapping[str, Any]: ...


def unauthenticated(reason: str) -> GatewayError:
    return GatewayError(ErrorKind.UNAUTHENTICATED, reason)


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header, or a 401 saying what is wrong."""
    if not authorization:
        raise unauthenticated("missing Authorization header: send 'Authorization: Bearer <API key or JWT>'")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise unauthenticated("malformed Authorization header: expected 'Bearer <API key or JWT>'")
    return token


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    """The ``jwt`` principal of verified claims: ``sub`` is the user; ``email`` unless unverified."""
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.strip():
        raise unauthenticated("invalid token: invalid sub claim")
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email or claims.get("email_verified") is False:
        email = None
    return Principal(type="jwt", user_id=sub, key_hash=None, email=email)


class Authenticator:
    def __init__(
        self,
        client: LiteLLMClient,
        *,
        master_key: str | None,
        hash_salt: str,
        cache_ttl: float = 60.0,
        cache_size: int = 10_000,
        jwt_verifier: TokenVerifier | None = None,
    ) -> None:
        self._client = client
        self._master_key = master_key
        self._salt = hash_salt
        self._jwt = jwt_verifier
        self._valid: TTLCache[str, Principal] = TTLCache(maxsize=cache_size, ttl=cache_ttl)
        self._rejected: TTLCache[str, float] = TTLCache(maxsize=cache_size, ttl=_NEGATIVE_TTL_SECONDS)

    @property
    def jwt_enabled(self) -> bool:
        return self._jwt is not None

    async def authenticate(self, authorization: str | None) -> Principal:
        token = bearer_token(authorization)
        if self._master_key and hmac.compare_digest(token.encode(), self._master_key.encode()):
            return Principal(type="admin", user_id=None, key_hash=hash_key(token, self._salt))
        if self._jwt is not None and looks_like_jwt(token):
            principal = await self._from_jwt(self._jwt, token)
            # the credential's hash binds the principal to this very token (see web/auth.py)
            return dataclasses.replace(principal, key_hash=hash_key(token, self._salt))
        return await self._from_litellm_key(token, hash_key(token, self._salt))

    async def _from_jwt(self, verifier: TokenVerifier, token: str) -> Principal:
        try:
            claims = await verifier.verify(token)
        except IssuerUnavailable as exc:
            logger.warning("JWT not verifiable: identity provider unavailable", extra={"detail": exc.detail})
            raise GatewayError(
                ErrorKind.UNAVAILABLE, "cannot verify the token right now (identity provider unavailable); retry"
            ) from None
        except JwtError as exc:
            logger.info("JWT refused", extra={"reason": exc.reason})
            raise unauthenticated(f"invalid token: {exc.reason}") from None
        return principal_from_claims(claims)

    async def _from_litellm_key(self, token: str, key_hash: str) -> Principal:
        cached = self._valid.get(key_hash)
        if cached is not None:
            return cached
        if key_hash in self._rejected:
            raise unauthenticated("invalid API key")
        response = await self._client.send(
            "GET", "/key/info", headers={"authorization": f"Bearer {token}", "accept": "application/json"}
        )
        if response.status_code in (400, 401, 403, 404):
            self._rejected[key_hash] = time.monotonic()
            raise unauthenticated("invalid API key")
        if response.status_code != 200:
            raise GatewayError(ErrorKind.UNAVAILABLE, "cannot validate the API key right now; retry shortly")
        try:
            info = response.json().get("info") or {}
        except (ValueError, AttributeError):
            raise GatewayError(ErrorKind.UNAVAILABLE, "cannot validate the API key right now") from None
        user_id = info.get("user_id")
        principal = Principal(type="key", user_id=str(user_id) if user_id else None, key_hash=key_hash)
        self._valid[key_hash] = principal
        return principal


def build_authenticator(settings: Settings, client: LiteLLMClient, env: Mapping[str, str]) -> Authenticator:
    """The authenticator both entry points use (the Lambda authorizer and the ASGI app's middleware).

    JWTs are verified only when ``OKTA_ISSUER`` is set (bad ``OKTA_*`` values fail start-up); without
    it every bearer is a LiteLLM key.
    """
    jwt_config = JwtConfig.from_env(env)
    return Authenticator(
        client,
        master_key=settings.master_key,
        hash_salt=settings.hash_salt,
        cache_ttl=settings.key_cache_ttl,
        cache_size=settings.key_cache_size,
        jwt_verifier=JwtVerifier(jwt_config) if jwt_config else None,
    )

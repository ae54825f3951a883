"""The authorizer's rules: turn a request's credential into a :class:`Principal`.

The same code runs as the API Gateway REQUEST authorizer (AWS) and in front of every local route.
The credential is the request's one ``Authorization: Bearer``, ``x-api-key`` or ``api-key`` value
(``credentials``). Order: master key → admin; a JWT (when an issuer is configured) → the token's
subject; anything else is a LiteLLM virtual key.

A virtual key is looked up by its SHA-256 (LiteLLM's own token id; the raw key stays out of URLs)
with the master key, ``GET /key/info?key=<sha256>``, so a key whose ``allowed_routes`` exclude
``/key/info`` (e.g. ``["llm_api_routes"]``) is still recognised. Deleted, blocked (``/key/block``)
and expired keys are refused, and so are keys of a blocked or missing team (``/team/info``) — except
the admin UI's session keys: LiteLLM's login mints them in the team ``litellm-dashboard``, which is no
real team, and LiteLLM itself skips the team check for it (``user_api_key_auth``); they are otherwise
ordinary keys (looked up, expire with the UI session), the principal is the logged-in user.
Without a master key (not a supported deployment) the key looks itself up instead.

Decisions are cached per instance under the credential's salted hash (the raw credential is never
stored or logged), in a cache bounded in size (``KEY_CACHE_SIZE``) and in time: an entry lives at
most ``KEY_CACHE_TTL_SECONDS``, and never past the key's ``expires`` or the JWT's ``exp``. So a key
deleted or blocked in LiteLLM is refused by every instance within ``KEY_CACHE_TTL_SECONDS``; a
refused key is remembered for 5 s so a client retrying a bad key cannot hammer LiteLLM.

JWTs are verified locally (signature against the issuer's published keys, ``iss``/``aud``/``exp``/
``nbf``/``iat``, ``sub`` required; see ``jwt_verifier``): a refused token answers 401 with a short
reason, an unreachable issuer (no signing keys at all) answers 503. Tokens are never logged.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn, Protocol

from cachetools import TLRUCache

from gateway.errors import ErrorKind, GatewayError
from gateway.identity.credentials import bearer_token, credential_from_headers, unauthenticated
from gateway.identity.jwt_verifier import IssuerUnavailable, JwtConfig, JwtError, JwtVerifier, looks_like_jwt
from gateway.identity.principal import Principal, hash_key
from gateway.log import logger
from gateway.settings import Settings
from gateway.upstream import LiteLLMClient

__all__ = ["Authenticator", "bearer_token", "build_authenticator", "principal_from_claims", "unauthenticated"]

#: The pseudo-team of the admin UI's session keys (LiteLLM's ``UI_SESSION_TOKEN_TEAM_ID``).
UI_SESSION_TEAM_ID = "litellm-dashboard"
# A rejected key is remembered briefly so a client retrying a bad key cannot hammer LiteLLM.
NEGATIVE_TTL_SECONDS = 5.0


class TokenVerifier(Protocol):
    """What the authenticator needs from a JWT verifier (``jwt_verifier.JwtVerifier``).

    ``verify`` returns the verified claims or raises ``JwtError`` (``IssuerUnavailable`` when no
    signing keys could be loaded at all).
    """

    async def verify(self, token: str) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class _Decision:
    """A cached outcome: the principal (None: refused) and the wall-clock time it stops counting."""

    principal: Principal | None
    until: float


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    """The ``jwt`` principal of verified claims: ``sub`` is the user; ``email`` unless unverified."""
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.strip():
        raise unauthenticated("invalid token: invalid sub claim")
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email or claims.get("email_verified") is False:
        email = None
    return Principal(type="jwt", user_id=sub, key_hash=None, email=email)


def litellm_token_id(key: str) -> str:
    """LiteLLM's id of a virtual key (the SHA-256 it stores), accepted by ``/key/info?key=``."""
    return hashlib.sha256(key.encode()).hexdigest()


def _timestamp(value: object) -> float | None:
    """A LiteLLM datetime (ISO 8601 string, naive means UTC) as a POSIX timestamp; None if absent."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("not an ISO 8601 string")
    moment = datetime.fromisoformat(value)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


class Authenticator:
    def __init__(
        self,
        client: LiteLLMClient,
        *,
        master_key: str | None,
        hash_salt: str,
        cache_ttl: float = 30.0,
        cache_size: int = 10_000,
        jwt_verifier: TokenVerifier | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._master_key = master_key
        self._salt = hash_salt
        self._jwt = jwt_verifier
        self._ttl = cache_ttl
        self._clock = clock
        # one bounded cache for accepted and refused credentials; each entry carries its own end
        self._decisions: TLRUCache[str, _Decision] = TLRUCache(
            maxsize=cache_size, ttu=lambda _key, decision, _now: decision.until, timer=clock
        )

    @property
    def jwt_enabled(self) -> bool:
        return self._jwt is not None

    async def authenticate(self, authorization: str | None) -> Principal:
        """The principal of an ``Authorization: Bearer`` header value."""
        return await self.authenticate_token(bearer_token(authorization))

    async def authenticate_headers(self, headers: Iterable[tuple[str, str]]) -> Principal:
        """The principal of a request's one credential (see ``credentials.credential_from_headers``)."""
        return await self.authenticate_token(credential_from_headers(headers))

    async def authenticate_token(self, token: str) -> Principal:
        key_hash = hash_key(token, self._salt)
        if self._master_key and hmac.compare_digest(token.encode(), self._master_key.encode()):
            return Principal(type="admin", user_id=None, key_hash=key_hash)
        cached = self._decisions.get(key_hash)
        if cached is not None:
            if cached.principal is None:
                raise unauthenticated("invalid API key")
            return cached.principal
        if self._jwt is not None and looks_like_jwt(token):
            principal, until = await self._from_jwt(self._jwt, token)
            # the credential's hash binds the principal to this very token (see web/auth.py)
            principal = dataclasses.replace(principal, key_hash=key_hash)
        else:
            principal, until = await self._from_litellm_key(token, key_hash)
        self._decisions[key_hash] = _Decision(principal, min(until, self._clock() + self._ttl))
        return principal

    async def _from_jwt(self, verifier: TokenVerifier, token: str) -> tuple[Principal, float]:
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
        exp = claims.get("exp")
        # the verifier requires a numeric exp; a cached decision never outlives it
        until = float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else self._clock()
        return principal_from_claims(claims), until

    async def _from_litellm_key(self, token: str, key_hash: str) -> tuple[Principal, float]:
        if not token.startswith("sk-"):
            # LiteLLM accepts only "sk-" keys (so a stored token id can never be used as a key)
            self._refuse(key_hash, self._clock())
        info = await self._key_info(token, key_hash)
        now = self._clock()
        try:
            expires = _timestamp(info.get("expires"))
        except ValueError:
            logger.warning("LiteLLM answered /key/info with an unreadable expires value")
            raise GatewayError(ErrorKind.UNAVAILABLE, "cannot validate the API key right now") from None
        status = info.get("status")
        if (
            info.get("blocked") is True
            or status not in (None, "active")
            or info.get("deleted_at")
            or (expires is not None and expires <= now)
        ):
            self._refuse(key_hash, now)
        team_id = info.get("team_id")
        if team_id and team_id != UI_SESSION_TEAM_ID and self._master_key and not await self._team_usable(str(team_id)):
            self._refuse(key_hash, self._clock())
        user_id = info.get("user_id")
        principal = Principal(type="key", user_id=str(user_id) if user_id else None, key_hash=key_hash)
        return principal, expires if expires is not None else now + self._ttl

    async def _team_usable(self, team_id: str) -> bool:
        """Whether the key's team exists and is not blocked (``/team/block``), as LiteLLM requires."""
        response = await self._client.send(
            "GET",
            "/team/info",
            params={"team_id": team_id, "key_limit": "1"},
            headers={"authorization": f"Bearer {self._master_key}", "accept": "application/json"},
        )
        if response.status_code in (400, 404):
            return False
        try:
            team = response.json().get("team_info") if response.status_code == 200 else None
        except (ValueError, AttributeError, RecursionError):
            team = None
        if not isinstance(team, dict):
            logger.warning("LiteLLM could not describe a key's team", extra={"upstream_status": response.status_code})
            raise GatewayError(ErrorKind.UNAVAILABLE, "cannot validate the API key right now; retry shortly")
        return team.get("blocked") is not True

    def _refuse(self, key_hash: str, now: float) -> NoReturn:
        self._decisions[key_hash] = _Decision(None, now + min(NEGATIVE_TTL_SECONDS, self._ttl))
        raise unauthenticated("invalid API key")

    async def _key_info(self, token: str, key_hash: str) -> dict[str, Any]:
        """LiteLLM's row for the key ``token`` (its ``info``), or a 401 if LiteLLM does not know it."""
        if self._master_key:
            # an administrator's lookup: independent of the key's own allowed_routes
            response = await self._client.send(
                "GET",
                "/key/info",
                params={"key": litellm_token_id(token)},
                headers={"authorization": f"Bearer {self._master_key}", "accept": "application/json"},
            )
            unknown = (400, 404)
        else:
            response = await self._client.send(
                "GET", "/key/info", headers={"authorization": f"Bearer {token}", "accept": "application/json"}
            )
            unknown = (400, 401, 403, 404)
        if response.status_code in unknown:
            self._refuse(key_hash, self._clock())
        if response.status_code != 200:
            logger.warning("LiteLLM could not validate a key", extra={"upstream_status": response.status_code})
            raise GatewayError(ErrorKind.UNAVAILABLE, "cannot validate the API key right now; retry shortly")
        try:
            info = response.json().get("info")
        except (ValueError, AttributeError, RecursionError):
            info = None
        if not isinstance(info, dict):
            raise GatewayError(ErrorKind.UNAVAILABLE, "cannot validate the API key right now")
        return info


def build_authenticator(settings: Settings, client: LiteLLMClient, env: Mapping[str, str]) -> Authenticator:
    """The authenticator both entry points use (the Lambda authorizer and the ASGI app's middleware).

    JWTs are verified only when ``OKTA_ISSUER`` is set (bad ``OKTA_*`` values fail start-up); without
    it every credential is a LiteLLM key.
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

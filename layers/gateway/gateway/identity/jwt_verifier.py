"""Verify OAuth 2.0 / OIDC access tokens (Okta, Entra ID, Cognito, Auth0, …) against one issuer.

Keys come from OIDC discovery (``{issuer}/.well-known/openid-configuration`` → ``jwks_uri``) and
are cached: reloaded when older than ``jwks_max_age_seconds`` (stale keys are kept if the reload
fails), and refreshed early when a token names an unknown ``kid`` — at most once per
``jwks_refresh_min_interval_seconds``, with concurrent callers sharing one fetch, so a flood of
forged ``kid`` values cannot turn the gateway into a JWKS hammer.

The algorithm is pinned: the header ``alg`` must be in the configured allow-list (asymmetric
algorithms only; ``none`` and HMAC are refused at configuration time), and the key's type must
match it, so a public key is never used as an HMAC secret. PyJWT does the cryptography and the
``iss``/``aud``/``exp``/``nbf``/``iat`` checks. Tokens never appear in logs or exceptions.
"""

from __future__ import annotations

import asyncio
import binascii
import ipaddress
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
from jwt.exceptions import InvalidSubjectError
from jwt.utils import base64url_decode

logger = logging.getLogger(__name__)

MAX_TOKEN_CHARS = 16 * 1024
_MAX_HEADER_SEGMENT_CHARS = 4 * 1024
_MAX_DOCUMENT_BYTES = 512 * 1024
_HTTP_TIMEOUT = httpx.Timeout(5.0, connect=2.0)
_FAILURE_BACKOFF_SECONDS = 5.0

# Asymmetric JWS algorithms only: the keys are public, so a symmetric (HS*) algorithm would let
# anyone who reads the JWKS forge tokens.
_KTY_FOR_ALG = {
    **{f"RS{n}": "RSA" for n in (256, 384, 512)},
    **{f"PS{n}": "RSA" for n in (256, 384, 512)},
    **{f"ES{n}": "EC" for n in (256, 384, 512)},
    "EdDSA": "OKP",
}
_CRV_FOR_ALG = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}
_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")


class JwtError(Exception):
    """A token was refused. ``reason`` is short and safe to return to the caller (never the token)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IssuerUnavailable(JwtError):
    """The issuer's discovery document or JWKS could not be loaded (no usable keys).

    A ``JwtError`` so that a plain ``except JwtError`` refuses the request; callers that want to
    answer 503 rather than 401 catch this first. ``detail`` is for server logs.
    """

    def __init__(self, detail: str) -> None:
        super().__init__("identity provider unavailable")
        self.detail = detail


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_url(url: str, what: str) -> str | None:
    """Return why ``url`` is unacceptable as an issuer/JWKS URL, or None if it is fine."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return f"{what} is not a valid URL"
    if not host:
        return f"{what} must be an absolute URL with a host"
    if parts.username or parts.password or parts.query or parts.fragment:
        return f"{what} must not contain credentials, a query or a fragment"
    if parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(host)):
        return None
    return f"{what} must use https (http is only allowed for a loopback host)"


def _env_number(env: Mapping[str, str], name: str, default: float, *, minimum: float, maximum: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ValueError(f"{name} must be between {minimum:g} and {maximum:g}, got {raw!r}")
    return value


@dataclass(frozen=True)
class JwtConfig:
    issuer: str
    audience: str = "api://default"
    algorithms: tuple[str, ...] = ("RS256",)
    leeway_seconds: int = 60
    jwks_refresh_min_interval_seconds: float = 60.0
    jwks_max_age_seconds: float = 3600.0

    def __post_init__(self) -> None:
        problem = _check_url(self.issuer, "OKTA_ISSUER")
        if problem:
            raise ValueError(problem)
        if not self.audience:
            raise ValueError("OKTA_AUDIENCE must not be empty")
        if not self.algorithms:
            raise ValueError("OKTA_ALGORITHMS must list at least one algorithm")
        for alg in self.algorithms:
            if alg not in _KTY_FOR_ALG:
                raise ValueError(
                    f"OKTA_ALGORITHMS: {alg!r} is not allowed; use asymmetric algorithms only "
                    f"({', '.join(_KTY_FOR_ALG)}); 'none' and HMAC (HS*) are always refused"
                )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> JwtConfig | None:
        """Read ``OKTA_*`` settings; None when ``OKTA_ISSUER`` is unset (JWT auth disabled)."""
        issuer = env.get("OKTA_ISSUER", "").strip()
        if not issuer:
            return None
        algorithms = tuple(a.strip() for a in env.get("OKTA_ALGORITHMS", "RS256").split(",") if a.strip())
        return cls(
            issuer=issuer,
            audience=env.get("OKTA_AUDIENCE", "").strip() or "api://default",
            algorithms=algorithms,
            leeway_seconds=int(_env_number(env, "OKTA_LEEWAY_SECONDS", 60, minimum=0, maximum=600)),
            jwks_refresh_min_interval_seconds=_env_number(
                env, "OKTA_JWKS_REFRESH_MIN_INTERVAL_SECONDS", 60.0, minimum=0, maximum=86400
            ),
            jwks_max_age_seconds=_env_number(env, "OKTA_JWKS_MAX_AGE_SECONDS", 3600.0, minimum=1, maximum=604800),
        )

    @property
    def discovery_url(self) -> str:
        # OIDC Discovery 1.0 §4: strip a trailing slash, then append the well-known path.
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


def looks_like_jwt(token: str) -> bool:
    """Three base64url segments whose first decodes to a JSON object with ``alg``. No verification.

    Used to route a bearer either to JWT verification or to LiteLLM key validation. An empty third
    segment (``alg: none``) still looks like a JWT, so it is refused as one.
    """
    if not isinstance(token, str):
        return False
    parts = token.split(".")
    if len(parts) != 3 or not parts[0] or not parts[1] or len(parts[0]) > _MAX_HEADER_SEGMENT_CHARS:
        return False
    if not all(_SEGMENT.fullmatch(p) for p in parts):
        return False
    try:
        header = json.loads(base64url_decode(parts[0]))
    except (ValueError, binascii.Error, RecursionError):  # RecursionError: deeply nested JSON
        return False
    return isinstance(header, dict) and "alg" in header


class _FetchError(Exception):
    pass


class JwtVerifier:
    """Verifies tokens for one :class:`JwtConfig`. One instance per process; safe for concurrent use."""

    def __init__(
        self,
        config: JwtConfig,
        http: httpx.AsyncClient | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._own_http = http is None
        self._http = http or httpx.AsyncClient(timeout=_HTTP_TIMEOUT, follow_redirects=False)
        self._clock = clock
        self._lock = asyncio.Lock()
        self._jwks_uri: str | None = None
        self._keys: dict[str | None, dict[str, Any]] = {}  # kid -> JWK (as published)
        self._parsed: dict[tuple[str | None, str], jwt.PyJWK] = {}
        self._loaded_at: float | None = None  # last successful JWKS load
        self._failed_at: float | None = None  # last failed load (anti-storm backoff)
        self._last_error = "not loaded yet"
        self._unknown_kid_refresh_at: float | None = None
        self._generation = 0  # bumped after every fetch attempt; lets waiters reuse its result

    @property
    def config(self) -> JwtConfig:
        return self._config

    async def aclose(self) -> None:
        if self._own_http:
            await self._http.aclose()

    async def verify(self, token: str) -> dict[str, Any]:
        """Return the verified claims of ``token`` or raise :class:`JwtError`."""
        if not isinstance(token, str) or not token:
            raise JwtError("malformed token")
        if len(token) > MAX_TOKEN_CHARS:
            raise JwtError("token too large")
        try:
            header = jwt.get_unverified_header(token)
        except (jwt.PyJWTError, RecursionError):
            raise JwtError("malformed token") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._config.algorithms:
            raise JwtError("algorithm not allowed")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise JwtError("malformed token")

        key = await self._key_for(kid, alg)
        cfg = self._config
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=cfg.audience,
                issuer=cfg.issuer,
                leeway=cfg.leeway_seconds,
                options={"require": ["exp", "iss", "aud", "sub"], "enforce_minimum_key_length": True},
            )
        except jwt.PyJWTError as exc:
            raise JwtError(_reason(exc)) from None
        except RecursionError:  # a deeply nested payload (PyJWT parses it after the signature check)
            raise JwtError("malformed token") from None
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub.strip():
            raise JwtError("invalid sub claim")
        return claims

    # ---- keys -------------------------------------------------------------------------------

    async def _key_for(self, kid: str | None, alg: str) -> jwt.PyJWK:
        if self._load_due():
            await self._refresh(unknown_kid=False)
        jwk = self._find(kid, alg)
        if jwk is None and self._loaded_at is not None and self._unknown_kid_refresh_allowed():
            await self._refresh(unknown_kid=True)
            jwk = self._find(kid, alg)
        if jwk is None:
            if self._loaded_at is None:
                raise IssuerUnavailable(self._last_error)
            raise JwtError("unknown signing key")
        return self._parsed_key(kid, jwk, alg)

    def _find(self, kid: str | None, alg: str) -> dict[str, Any] | None:
        if kid is not None:
            return self._keys.get(kid)
        # No kid: acceptable only when exactly one published key could have signed it.
        candidates = [k for k in self._keys.values() if k.get("kty") == _KTY_FOR_ALG[alg]]
        return candidates[0] if len(candidates) == 1 else None

    def _parsed_key(self, kid: str | None, jwk: dict[str, Any], alg: str) -> jwt.PyJWK:
        cached = self._parsed.get((kid, alg))
        if cached is not None:
            return cached
        if jwk.get("kty") != _KTY_FOR_ALG[alg] or jwk.get("alg", alg) != alg:
            raise JwtError("signing key does not match algorithm")
        if alg in _CRV_FOR_ALG and jwk.get("crv") != _CRV_FOR_ALG[alg]:
            raise JwtError("signing key does not match algorithm")
        try:
            key = jwt.PyJWK(jwk, algorithm=alg)
        except jwt.PyJWTError:
            logger.warning("JWKS key %r from %s is unusable", kid, self._jwks_uri)
            raise JwtError("unusable signing key") from None
        self._parsed[(kid, alg)] = key
        return key

    def _load_due(self) -> bool:
        """Keys never loaded or older than the max age, and not backing off after a failure."""
        now = self._clock()
        if self._failed_at is not None and now - self._failed_at < _FAILURE_BACKOFF_SECONDS:
            return False
        return self._loaded_at is None or now - self._loaded_at >= self._config.jwks_max_age_seconds

    def _unknown_kid_refresh_allowed(self) -> bool:
        last = self._unknown_kid_refresh_at
        return last is None or self._clock() - last >= self._config.jwks_refresh_min_interval_seconds

    async def _refresh(self, *, unknown_kid: bool) -> None:
        generation = self._generation
        async with self._lock:
            if self._generation != generation:
                return  # another caller fetched while we waited: use its result
            now = self._clock()
            if unknown_kid:
                if not self._unknown_kid_refresh_allowed():
                    return
                self._unknown_kid_refresh_at = now
            elif not self._load_due():
                return
            try:
                keys = await self._fetch_keys()
            except _FetchError as exc:
                self._failed_at = now
                self._last_error = str(exc)
                self._jwks_uri = None  # rediscover next time
                logger.warning("could not load signing keys for %s: %s", self._config.issuer, exc)
                return
            finally:
                self._generation += 1
            self._keys = keys
            self._parsed.clear()
            self._loaded_at = now
            self._failed_at = None

    async def _fetch_keys(self) -> dict[str | None, dict[str, Any]]:
        if self._jwks_uri is None:
            doc = await self._get_json(self._config.discovery_url, "discovery document")
            if doc.get("issuer") != self._config.issuer:
                raise _FetchError("discovery document issuer does not match OKTA_ISSUER")
            jwks_uri = doc.get("jwks_uri")
            if not isinstance(jwks_uri, str) or _check_url(jwks_uri, "jwks_uri"):
                raise _FetchError("discovery document has no acceptable jwks_uri")
            self._jwks_uri = jwks_uri
        jwks = await self._get_json(self._jwks_uri, "JWKS")
        raw_keys = jwks.get("keys")
        if not isinstance(raw_keys, list):
            raise _FetchError("JWKS has no keys list")
        keys: dict[str | None, dict[str, Any]] = {}
        for jwk in raw_keys:
            # Only public signing keys; an "oct" (symmetric) key is never trusted from a JWKS.
            if not isinstance(jwk, dict) or jwk.get("kty") not in ("RSA", "EC", "OKP"):
                continue
            if jwk.get("use", "sig") != "sig":
                continue
            kid = jwk.get("kid")
            keys[kid if isinstance(kid, str) else None] = jwk
        return keys

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            resp = await self._http.get(url, timeout=_HTTP_TIMEOUT, follow_redirects=False)
        except httpx.HTTPError as exc:
            raise _FetchError(f"{what} fetch failed: {type(exc).__name__}") from None
        if resp.status_code != 200:
            raise _FetchError(f"{what} fetch returned HTTP {resp.status_code}")
        if len(resp.content) > _MAX_DOCUMENT_BYTES:
            raise _FetchError(f"{what} is too large")
        try:
            doc = resp.json()
        except ValueError:
            raise _FetchError(f"{what} is not JSON") from None
        if not isinstance(doc, dict):
            raise _FetchError(f"{what} is not a JSON object")
        return doc


def _reason(exc: jwt.PyJWTError) -> str:
    """Map a PyJWT error to a short, stable reason (PyJWT's own messages are not shown)."""
    if isinstance(exc, jwt.ExpiredSignatureError):
        return "token expired"
    if isinstance(exc, jwt.ImmatureSignatureError):
        return "token issued in the future" if "(iat)" in str(exc) else "token not yet valid"
    if isinstance(exc, jwt.InvalidAudienceError):
        return "wrong audience"
    if isinstance(exc, jwt.InvalidIssuerError):
        return "wrong issuer"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"missing {exc.claim} claim"
    if isinstance(exc, jwt.InvalidSignatureError):
        return "invalid signature"
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return "algorithm not allowed"
    if isinstance(exc, jwt.InvalidKeyError):
        return "unusable signing key"
    if isinstance(exc, InvalidSubjectError):
        return "invalid sub claim"
    if isinstance(exc, jwt.InvalidIssuedAtError):
        return "invalid iat claim"
    if isinstance(exc, jwt.DecodeError):
        return "malformed token"
    return "invalid token"

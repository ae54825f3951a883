"""A local OIDC issuer for tests and samples: discovery + JWKS on loopback, tokens minted in-process.

It serves ``{issuer}/.well-known/openid-configuration`` and ``{issuer}/v1/keys`` (Okta's layout)
on ``127.0.0.1`` from a daemon thread, counts fetches, can rotate keys at runtime, and mints tokens
with any claims, headers and keys, including forgeries (``alg: none``, HS256 keyed with the public
key) that a verifier must refuse. No pytest dependency, so integration tests and samples reuse it::

    with OidcIssuer() as idp:
        token = idp.mint(idp.claims(sub="alice@example.com"))
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from tests.support.loopback_server import LoopbackServer

DEFAULT_AUDIENCE = "api://default"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_json(obj: Mapping[str, Any]) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


class OidcIssuer:
    """A threaded OIDC discovery + JWKS server with an in-memory key ring.

    ``path`` is appended to ``http://127.0.0.1:PORT`` to form the issuer (Okta custom authorization
    servers look like ``https://org.okta.com/oauth2/default``).
    """

    def __init__(self, path: str = "/oauth2/default", *, audience: str = DEFAULT_AUDIENCE) -> None:
        self.path = "/" + path.strip("/") if path.strip("/") else ""
        self.audience = audience
        self._lock = threading.Lock()
        self._keys: dict[str, dict[str, Any]] = {}  # kid -> {"private": key, "alg": str, "published": bool}
        self.active_kid: str = ""
        self.jwks_fetches = 0
        self.discovery_fetches = 0
        # Knobs for failure tests.
        self.discovery_issuer_override: str | None = None
        self.jwks_status = 200
        self._http = LoopbackServer("oidc-issuer")
        self.add_key()

    # ---- server lifecycle -------------------------------------------------------------------

    def start(self) -> OidcIssuer:
        self._http.start(self._handler_class())
        return self

    def stop(self) -> None:
        self._http.stop()

    def __enter__(self) -> OidcIssuer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._http.port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return self.base_url + self.path

    @property
    def jwks_uri(self) -> str:
        return self.issuer + "/v1/keys"

    def reset_counters(self) -> None:
        with self._lock:
            self.jwks_fetches = 0
            self.discovery_fetches = 0

    # ---- keys -------------------------------------------------------------------------------

    def add_key(self, kid: str | None = None, *, kty: str = "RSA", publish: bool = True, activate: bool = True) -> str:
        """Add a signing key (``RSA`` → RS256, ``EC`` → ES256); new tokens use it when ``activate``."""
        kid = kid or uuid.uuid4().hex[:16]
        if kty == "RSA":
            private: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            alg = "RS256"
        elif kty == "EC":
            private = ec.generate_private_key(ec.SECP256R1())
            alg = "ES256"
        else:
            raise ValueError(f"unsupported kty {kty!r}")
        with self._lock:
            self._keys[kid] = {"private": private, "alg": alg, "published": publish}
            if activate:
                self.active_kid = kid
        return kid

    def remove_key(self, kid: str) -> None:
        """Stop publishing a key (tokens signed with it can still be minted)."""
        with self._lock:
            self._keys[kid]["published"] = False

    def private_key(self, kid: str | None = None) -> Any:
        return self._keys[kid or self.active_kid]["private"]

    def public_pem(self, kid: str | None = None) -> bytes:
        return (
            self.private_key(kid)
            .public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )

    def jwks(self) -> dict[str, Any]:
        keys = []
        with self._lock:
            items = [(kid, dict(entry)) for kid, entry in self._keys.items() if entry["published"]]
        for kid, entry in items:
            public = entry["private"].public_key()
            algo = RSAAlgorithm if entry["alg"].startswith("RS") else ECAlgorithm
            jwk = algo.to_jwk(public, as_dict=True)
            jwk.update({"kid": kid, "use": "sig", "alg": entry["alg"]})
            keys.append(jwk)
        return {"keys": keys}

    def discovery(self) -> dict[str, Any]:
        issuer = self.discovery_issuer_override or self.issuer
        return {
            "issuer": issuer,
            "authorization_endpoint": self.issuer + "/v1/authorize",
            "token_endpoint": self.issuer + "/v1/token",
            "jwks_uri": self.jwks_uri,
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    # ---- tokens -----------------------------------------------------------------------------

    def claims(
        self,
        sub: Any = "alice@example.com",
        *,
        email: str | None = "alice@example.com",
        expires_in: int = 300,
        omit: Iterable[str] = (),
        **extra: Any,
    ) -> dict[str, Any]:
        """Okta-like access-token claims; ``extra`` overrides/adds claims, ``omit`` removes them."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "ver": 1,
            "jti": "AT." + uuid.uuid4().hex,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "nbf": now,
            "exp": now + expires_in,
            "cid": "0oa-test-client",
            "uid": "00u-" + hashlib.sha256(str(sub).encode()).hexdigest()[:16],
            "scp": ["openid", "email"],
            "sub": sub,
        }
        if email is not None:
            claims["email"] = email
        claims.update(extra)
        for name in omit:
            claims.pop(name, None)
        return claims

    def mint(
        self,
        claims: Mapping[str, Any] | None = None,
        *,
        kid: str | None = None,
        headers: Mapping[str, Any] | None = None,
        key: Any = None,
        alg: str | None = None,
    ) -> str:
        """Sign ``claims`` (default: :meth:`claims`) with the key ``kid`` (default: the active key).

        ``key``/``alg`` sign with something else entirely (e.g. a key the issuer never published);
        ``headers`` are merged into the JOSE header (``{"kid": None}`` drops the kid).
        """
        kid = kid or self.active_kid
        if key is None:
            entry = self._keys[kid]
            key, alg = entry["private"], alg or entry["alg"]
        alg = alg or "RS256"
        merged: dict[str, Any] = {"kid": kid, **(headers or {})}
        header = {k: v for k, v in merged.items() if v is not None}
        payload = dict(self.claims() if claims is None else claims)
        return jwt.encode(payload, key, algorithm=alg, headers=header)

    def mint_unsigned(self, claims: Mapping[str, Any] | None = None, *, kid: str | None = None) -> str:
        """An ``alg: none`` token (empty signature) — must always be refused."""
        header = {"alg": "none", "typ": "JWT", "kid": kid or self.active_kid}
        payload = dict(self.claims() if claims is None else claims)
        return f"{_b64url_json(header)}.{_b64url_json(payload)}."

    def mint_hs256_with_public_key(self, claims: Mapping[str, Any] | None = None, *, kid: str | None = None) -> str:
        """The classic key-confusion forgery: HS256 with the issuer's public PEM as the HMAC secret.

        Built by hand because PyJWT itself refuses to use a PEM key as an HMAC secret.
        """
        kid = kid or self.active_kid
        header = {"alg": "HS256", "typ": "JWT", "kid": kid}
        payload = dict(self.claims() if claims is None else claims)
        signing_input = f"{_b64url_json(header)}.{_b64url_json(payload)}"
        signature = hmac.new(self.public_pem(kid), signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{b64url(signature)}"

    # ---- HTTP -------------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                route = self.path.split("?", 1)[0]
                if route == issuer.path + "/.well-known/openid-configuration":
                    with issuer._lock:
                        issuer.discovery_fetches += 1
                    self._send(200, issuer.discovery())
                elif route == issuer.path + "/v1/keys":
                    with issuer._lock:
                        issuer.jwks_fetches += 1
                        status = issuer.jwks_status
                    if status != 200:
                        self._send(status, {"error": "unavailable"})
                    else:
                        self._send(200, issuer.jwks())
                else:
                    self._send(404, {"error": "not found"})

            def _send(self, status: int, body: Mapping[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output quiet

        return Handler

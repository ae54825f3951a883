"""JwtVerifier against a real (loopback) OIDC issuer: every refusal a client could run into."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.identity.jwt_verifier import IssuerUnavailable, JwtConfig, JwtError, JwtVerifier, looks_like_jwt
from tests.support.oidc_issuer import OidcIssuer, b64url

T = TypeVar("T")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def config_for(idp: OidcIssuer, **overrides: Any) -> JwtConfig:
    return JwtConfig(issuer=idp.issuer, **overrides)


def run_with(
    idp: OidcIssuer,
    body: Callable[[JwtVerifier], Awaitable[T]],
    *,
    clock: FakeClock | None = None,
    **cfg: Any,
) -> T:
    async def go() -> T:
        verifier = JwtVerifier(config_for(idp, **cfg), clock=clock or FakeClock())
        try:
            return await body(verifier)
        finally:
            await verifier.aclose()

    return asyncio.run(go())


def verify(idp: OidcIssuer, token: str, **cfg: Any) -> dict[str, Any]:
    return run_with(idp, lambda v: v.verify(token), **cfg)


def refused(idp: OidcIssuer, token: str, **cfg: Any) -> JwtError:
    with pytest.raises(JwtError) as info:
        verify(idp, token, **cfg)
    err = info.value
    assert not token or (token not in str(err) and token not in repr(err))
    # No library error (whose message might quote token parts) is chained in.
    assert err.__cause__ is None and (err.__context__ is None or err.__suppress_context__)
    return err


# ---- accepted ---------------------------------------------------------------------------------


def test_valid_token_returns_claims(idp: OidcIssuer) -> None:
    claims = verify(idp, idp.mint(idp.claims(sub="alice@example.com")))
    assert claims["sub"] == "alice@example.com"
    assert claims["email"] == "alice@example.com"
    assert claims["iss"] == idp.issuer
    assert claims["aud"] == "api://default"


def test_audience_list_containing_ours_is_accepted(idp: OidcIssuer) -> None:
    token = idp.mint(idp.claims(aud=["other", "api://default"]))
    assert verify(idp, token)["sub"]


def test_small_clock_skew_is_tolerated(idp: OidcIssuer) -> None:
    now = int(time.time())
    token = idp.mint(idp.claims(exp=now - 10, iat=now - 300, nbf=now + 10))
    assert verify(idp, token)["sub"]


def test_token_without_kid_accepted_when_issuer_has_one_key(idp: OidcIssuer) -> None:
    assert verify(idp, idp.mint(headers={"kid": None}))["sub"]


def test_es256_when_configured() -> None:
    with OidcIssuer() as ec_idp:
        ec_idp.add_key(kty="EC")
        claims = verify(ec_idp, ec_idp.mint(), algorithms=("ES256",))
        assert claims["sub"]


# ---- refused: claims ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": int(time.time()) - 3600}, "token expired"),
        ({"nbf": int(time.time()) + 3600}, "token not yet valid"),
        ({"iat": int(time.time()) + 3600}, "token issued in the future"),
        ({"aud": "api://other"}, "wrong audience"),
        ({"aud": ["api://other", "api://more"]}, "wrong audience"),
        ({"iss": "https://evil.example.com/oauth2/default"}, "wrong issuer"),
        ({"sub": ""}, "invalid sub claim"),
        ({"sub": 42}, "invalid sub claim"),
    ],
    ids=[
        "expired",
        "nbf-future",
        "iat-future",
        "wrong-aud",
        "wrong-aud-list",
        "wrong-iss",
        "empty-sub",
        "int-sub",
    ],
)
def test_bad_claims_are_refused(idp: OidcIssuer, claims: dict[str, Any], reason: str) -> None:
    assert refused(idp, idp.mint(idp.claims(**claims))).reason == reason


@pytest.mark.parametrize("claim", ["sub", "exp", "aud", "iss"])
def test_missing_required_claim(idp: OidcIssuer, claim: str) -> None:
    assert refused(idp, idp.mint(idp.claims(omit=[claim]))).reason == f"missing {claim} claim"


def test_expired_beyond_custom_leeway(idp: OidcIssuer) -> None:
    token = idp.mint(idp.claims(exp=int(time.time()) - 10))
    assert refused(idp, token, leeway_seconds=0).reason == "token expired"


# ---- refused: signature, algorithm, keys --------------------------------------------------------


def test_tampered_payload_is_refused(idp: OidcIssuer) -> None:
    header, _, signature = idp.mint(idp.claims(sub="alice")).split(".")
    forged_payload = b64url(json.dumps(idp.claims(sub="admin")).encode())
    assert refused(idp, f"{header}.{forged_payload}.{signature}").reason == "invalid signature"


def test_tampered_signature_is_refused(idp: OidcIssuer) -> None:
    header, payload, signature = idp.mint().split(".")
    middle = len(signature) // 2
    flipped = signature[:middle] + ("A" if signature[middle] != "A" else "B") + signature[middle + 1 :]
    assert refused(idp, f"{header}.{payload}.{flipped}").reason == "invalid signature"


def test_token_signed_by_foreign_key_with_our_kid(idp: OidcIssuer) -> None:
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = idp.mint(key=attacker, alg="RS256", kid=idp.active_kid)
    assert refused(idp, token).reason == "invalid signature"


def test_alg_none_is_refused(idp: OidcIssuer) -> None:
    assert refused(idp, idp.mint_unsigned()).reason == "algorithm not allowed"


def test_hs256_signed_with_public_key_is_refused(idp: OidcIssuer) -> None:
    token = idp.mint_hs256_with_public_key()
    assert refused(idp, token).reason == "algorithm not allowed"


def test_algorithm_outside_allow_list_is_refused(idp: OidcIssuer) -> None:
    token = idp.mint(alg="RS384")
    assert refused(idp, token).reason == "algorithm not allowed"


def test_key_type_must_match_algorithm(idp: OidcIssuer) -> None:
    # An RS256 token pointing at an EC key (both algorithms allowed) is refused before any crypto.
    with OidcIssuer() as mixed:
        rsa_kid = mixed.active_kid
        ec_kid = mixed.add_key(kty="EC", activate=False)
        token = mixed.mint(kid=rsa_kid, headers={"kid": ec_kid})
        err = refused(mixed, token, algorithms=("RS256", "ES256"))
        assert err.reason == "signing key does not match algorithm"


def test_unknown_kid_without_rotation_is_refused(fresh_idp: OidcIssuer) -> None:
    stray = fresh_idp.add_key(publish=False)
    assert refused(fresh_idp, fresh_idp.mint(kid=stray)).reason == "unknown signing key"
    assert fresh_idp.jwks_fetches == 2  # the first load, then exactly one refresh for the unknown kid


def test_removed_key_is_refused_after_reload(fresh_idp: OidcIssuer) -> None:
    clock = FakeClock()
    old = fresh_idp.active_kid
    fresh_idp.add_key()
    old_token = fresh_idp.mint(kid=old)

    async def body(v: JwtVerifier) -> None:
        assert (await v.verify(old_token))["sub"]
        fresh_idp.remove_key(old)
        clock.now += 3601  # past the JWKS max age
        with pytest.raises(JwtError, match="unknown signing key"):
            await v.verify(old_token)

    run_with(fresh_idp, body, clock=clock)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "not.a.jwt",
        "sk-1234567890abcdef",
        "a.b",
        "eyJhbGciOiJSUzI1NiJ9.!!!.abc",
        "x" * 20000,
    ],
    ids=["empty", "word", "three-words", "litellm-key", "two-parts", "bad-b64", "huge"],
)
def test_garbage_is_refused(idp: OidcIssuer, token: str) -> None:
    err = refused(idp, token)
    assert err.reason in ("malformed token", "token too large")


def test_no_kid_with_several_keys_is_refused(fresh_idp: OidcIssuer) -> None:
    fresh_idp.add_key()
    assert refused(fresh_idp, fresh_idp.mint(headers={"kid": None})).reason == "unknown signing key"


# ---- JWKS cache, rotation, rate limiting --------------------------------------------------------


def test_keys_are_cached(fresh_idp: OidcIssuer) -> None:
    async def body(v: JwtVerifier) -> None:
        for _ in range(5):
            await v.verify(fresh_idp.mint())

    run_with(fresh_idp, body)
    assert (fresh_idp.discovery_fetches, fresh_idp.jwks_fetches) == (1, 1)


def test_rotation_new_kid_accepted_after_exactly_one_refresh(fresh_idp: OidcIssuer) -> None:
    old = fresh_idp.active_kid

    async def body(v: JwtVerifier) -> None:
        await v.verify(fresh_idp.mint())
        assert fresh_idp.jwks_fetches == 1
        new = fresh_idp.add_key()
        assert (await v.verify(fresh_idp.mint(kid=new)))["sub"]
        assert fresh_idp.jwks_fetches == 2
        # Both keys are now known: no further fetches.
        await v.verify(fresh_idp.mint(kid=new))
        await v.verify(fresh_idp.mint(kid=old))
        assert fresh_idp.jwks_fetches == 2

    run_with(fresh_idp, body)  # default 60 s interval: rotation does not need a short one


def test_unknown_kid_flood_causes_at_most_one_refresh_per_interval(fresh_idp: OidcIssuer) -> None:
    clock = FakeClock()
    stray_tokens = [fresh_idp.mint(kid=fresh_idp.add_key(publish=False, activate=False)) for _ in range(3)]

    async def body(v: JwtVerifier) -> None:
        await v.verify(fresh_idp.mint())  # initial load
        flood = [v.verify(stray_tokens[i % 3]) for i in range(30)]
        results = await asyncio.gather(*flood, return_exceptions=True)
        assert all(isinstance(r, JwtError) and r.reason == "unknown signing key" for r in results)
        assert fresh_idp.jwks_fetches == 2
        clock.now += 30  # still inside the 60 s interval
        with pytest.raises(JwtError):
            await v.verify(stray_tokens[0])
        assert fresh_idp.jwks_fetches == 2
        clock.now += 31  # interval over: one more refresh is allowed
        with pytest.raises(JwtError):
            await v.verify(stray_tokens[1])
        assert fresh_idp.jwks_fetches == 3

    run_with(fresh_idp, body, clock=clock, jwks_refresh_min_interval_seconds=60)


def test_concurrent_first_requests_share_one_load(fresh_idp: OidcIssuer) -> None:
    async def body(v: JwtVerifier) -> None:
        await asyncio.gather(*(v.verify(fresh_idp.mint()) for _ in range(20)))

    run_with(fresh_idp, body)
    assert (fresh_idp.discovery_fetches, fresh_idp.jwks_fetches) == (1, 1)


def test_stale_keys_are_kept_when_reload_fails(fresh_idp: OidcIssuer) -> None:
    clock = FakeClock()

    async def body(v: JwtVerifier) -> None:
        await v.verify(fresh_idp.mint())
        fresh_idp.jwks_status = 503
        clock.now += 3601
        assert (await v.verify(fresh_idp.mint()))["sub"]  # reload failed, cached key still used
        fetches = fresh_idp.jwks_fetches
        await v.verify(fresh_idp.mint())  # backing off: no new attempt right away
        assert fresh_idp.jwks_fetches == fetches

    run_with(fresh_idp, body, clock=clock)


# ---- issuer problems ----------------------------------------------------------------------------


def test_discovery_issuer_mismatch_is_rejected(fresh_idp: OidcIssuer) -> None:
    fresh_idp.discovery_issuer_override = "https://evil.example.com/oauth2/default"
    with pytest.raises(IssuerUnavailable) as info:
        verify(fresh_idp, fresh_idp.mint())
    assert info.value.reason == "identity provider unavailable"
    assert "issuer does not match" in info.value.detail
    assert fresh_idp.jwks_fetches == 0  # never trusted the mismatched document's jwks_uri


def test_jwks_outage_is_issuer_unavailable_and_backs_off(fresh_idp: OidcIssuer) -> None:
    fresh_idp.jwks_status = 503
    clock = FakeClock()

    async def body(v: JwtVerifier) -> None:
        for _ in range(3):
            with pytest.raises(IssuerUnavailable):
                await v.verify(fresh_idp.mint())
        assert fresh_idp.jwks_fetches == 1
        fresh_idp.jwks_status = 200
        clock.now += 6  # past the failure backoff
        assert (await v.verify(fresh_idp.mint()))["sub"]

    run_with(fresh_idp, body, clock=clock)


def test_unreachable_issuer_is_issuer_unavailable(idp: OidcIssuer) -> None:
    cfg = JwtConfig(issuer="http://127.0.0.1:9/oauth2/default")

    async def go() -> None:
        verifier = JwtVerifier(cfg)
        try:
            await verifier.verify(idp.mint())
        finally:
            await verifier.aclose()

    with pytest.raises(IssuerUnavailable):
        asyncio.run(go())


def test_failures_never_log_the_token(fresh_idp: OidcIssuer, caplog: pytest.LogCaptureFixture) -> None:
    fresh_idp.jwks_status = 500
    token = fresh_idp.mint()
    caplog.set_level(logging.DEBUG)
    with pytest.raises(JwtError):
        verify(fresh_idp, token)
    assert caplog.records  # the outage is logged …
    assert all(token not in r.getMessage() for r in caplog.records)  # … without the token


# ---- looks_like_jwt -----------------------------------------------------------------------------


def test_looks_like_jwt(idp: OidcIssuer) -> None:
    assert looks_like_jwt(idp.mint())
    assert looks_like_jwt(idp.mint_unsigned())  # goes to JWT verification, refused there
    assert looks_like_jwt(idp.mint_hs256_with_public_key())
    assert not looks_like_jwt("sk-1234567890")
    assert not looks_like_jwt("a.b.c")
    assert not looks_like_jwt(f"{b64url(b'{}')}.{b64url(b'{}')}.sig")  # header without alg
    assert not looks_like_jwt(f"{b64url(b'[1]')}.{b64url(b'{}')}.sig")
    assert not looks_like_jwt("")
    assert not looks_like_jwt("a.b.c.d")

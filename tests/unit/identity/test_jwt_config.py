"""JwtConfig.from_env: what an operator sees when OKTA_* is right, unset or wrong."""

from __future__ import annotations

import pytest

from gateway.identity.jwt_verifier import JwtConfig

OKTA = "https://dev-123.okta.com/oauth2/default"


def test_unset_issuer_disables_jwt_auth() -> None:
    assert JwtConfig.from_env({}) is None
    assert JwtConfig.from_env({"OKTA_ISSUER": "  "}) is None


def test_defaults() -> None:
    cfg = JwtConfig.from_env({"OKTA_ISSUER": OKTA})
    assert cfg == JwtConfig(
        issuer=OKTA,
        audience="api://default",
        algorithms=("RS256",),
        leeway_seconds=60,
        jwks_refresh_min_interval_seconds=60.0,
        jwks_max_age_seconds=3600.0,
    )
    assert cfg.discovery_url == OKTA + "/.well-known/openid-configuration"


def test_all_settings() -> None:
    cfg = JwtConfig.from_env(
        {
            "OKTA_ISSUER": "https://tenant.auth0.com/",
            "OKTA_AUDIENCE": "https://api.example.com",
            "OKTA_ALGORITHMS": "RS256, PS256,ES256",
            "OKTA_LEEWAY_SECONDS": "30",
            "OKTA_JWKS_REFRESH_MIN_INTERVAL_SECONDS": "0.5",
            "OKTA_JWKS_MAX_AGE_SECONDS": "600",
        }
    )
    assert cfg is not None
    assert cfg.issuer == "https://tenant.auth0.com/"  # kept verbatim: iss must match it exactly
    assert cfg.discovery_url == "https://tenant.auth0.com/.well-known/openid-configuration"
    assert cfg.audience == "https://api.example.com"
    assert cfg.algorithms == ("RS256", "PS256", "ES256")
    assert cfg.leeway_seconds == 30
    assert cfg.jwks_refresh_min_interval_seconds == 0.5
    assert cfg.jwks_max_age_seconds == 600


@pytest.mark.parametrize(
    "issuer",
    [
        "http://127.0.0.1:8123/oauth2/default",
        "http://127.5.6.7:80",
        "http://localhost:9000/",
        "http://[::1]:9000/oauth2/default",
        "https://login.microsoftonline.com/tenant/v2.0",
    ],
)
def test_accepted_issuers(issuer: str) -> None:
    assert JwtConfig.from_env({"OKTA_ISSUER": issuer}).issuer == issuer


@pytest.mark.parametrize(
    "issuer",
    [
        "http://dev-123.okta.com/oauth2/default",  # plain http to a real host
        "http://10.0.0.5/oauth2/default",
        "http://127.0.0.1.evil.com/",
        "ftp://127.0.0.1/",
        "dev-123.okta.com",
        "https:///nohost",
        "https://user:pw@dev-123.okta.com/oauth2/default",
        "https://dev-123.okta.com/oauth2/default?x=1",
    ],
)
def test_refused_issuers_name_the_variable(issuer: str) -> None:
    with pytest.raises(ValueError, match="OKTA_ISSUER"):
        JwtConfig.from_env({"OKTA_ISSUER": issuer})


@pytest.mark.parametrize("algs", ["none", "HS256", "RS256,HS512", "RS257", "rs256", ","])
def test_refused_algorithms_name_the_variable(algs: str) -> None:
    with pytest.raises(ValueError, match="OKTA_ALGORITHMS"):
        JwtConfig.from_env({"OKTA_ISSUER": OKTA, "OKTA_ALGORITHMS": algs})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OKTA_LEEWAY_SECONDS", "soon"),
        ("OKTA_LEEWAY_SECONDS", "-1"),
        ("OKTA_LEEWAY_SECONDS", "100000"),
        ("OKTA_JWKS_REFRESH_MIN_INTERVAL_SECONDS", "fast"),
        ("OKTA_JWKS_MAX_AGE_SECONDS", "0"),
    ],
)
def test_refused_numbers_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        JwtConfig.from_env({"OKTA_ISSUER": OKTA, name: value})

"""Self-provisioning rules: what a JWT user gets from /user/new and may ask of /key/generate."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.errors import ErrorKind, GatewayError
from gateway.identity.key_policy import key_generate_body_for
from gateway.identity.principal import Principal
from gateway.identity.provisioning import (
    UserDefaults,
    check_existing_user_for_jwt,
    user_new_body_for_jwt,
)

CLAIMS = {
    "iss": "https://dev-123.okta.com/oauth2/default",
    "aud": "api://default",
    "sub": "alice@example.com",
    "email": "alice@example.com",
    "exp": 2_000_000_000,
}
ALICE = Principal(type="jwt", user_id="alice@example.com", key_hash=None, email="alice@example.com")
ALICE_KEY = Principal(type="key", user_id="alice@example.com", key_hash="h1")
USERLESS_KEY = Principal(type="key", user_id=None, key_hash="h2")
ADMIN = Principal(type="admin", user_id=None, key_hash="h3")


# ---- UserDefaults.from_env ----------------------------------------------------------------------


def test_defaults_from_env() -> None:
    defaults = UserDefaults.from_env(
        {
            "OKTA_USER_MAX_BUDGET": "25.5",
            "OKTA_USER_BUDGET_DURATION": "30d",
            "OKTA_USER_TPM_LIMIT": "100000",
            "OKTA_USER_RPM_LIMIT": "60",
            "OKTA_USER_MAX_PARALLEL_REQUESTS": "4",
            "OKTA_USER_MODELS": "gpt-4o-mini, claude-haiku,,",
        }
    )
    assert defaults == UserDefaults(
        max_budget=25.5,
        budget_duration="30d",
        tpm_limit=100000,
        rpm_limit=60,
        max_parallel_requests=4,
        models=("gpt-4o-mini", "claude-haiku"),
    )


def test_defaults_unset_means_litellm_defaults() -> None:
    assert UserDefaults.from_env({}) == UserDefaults()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OKTA_USER_MAX_BUDGET", "lots"),
        ("OKTA_USER_MAX_BUDGET", "-1"),
        ("OKTA_USER_MAX_BUDGET", "nan"),
        ("OKTA_USER_BUDGET_DURATION", "monthly"),
        ("OKTA_USER_BUDGET_DURATION", "30x"),
        ("OKTA_USER_TPM_LIMIT", "1.5"),
        ("OKTA_USER_RPM_LIMIT", "0"),
        ("OKTA_USER_MAX_PARALLEL_REQUESTS", "-3"),
    ],
)
def test_bad_defaults_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        UserDefaults.from_env({name: value})


# ---- /user/new body -----------------------------------------------------------------------------


def test_user_new_body_from_claims_and_defaults() -> None:
    defaults = UserDefaults(max_budget=10.0, budget_duration="30d", rpm_limit=60, models=("gpt-4o-mini",))
    assert user_new_body_for_jwt(CLAIMS, defaults) == {
        "user_id": "alice@example.com",
        "user_email": "alice@example.com",
        "user_role": "internal_user",
        "auto_create_key": True,
        "max_budget": 10.0,
        "budget_duration": "30d",
        "rpm_limit": 60,
        "models": ["gpt-4o-mini"],
    }


def test_user_new_body_without_defaults_or_email() -> None:
    claims = {**CLAIMS, "sub": "0oa-service-client"}
    del claims["email"]
    assert user_new_body_for_jwt(claims, UserDefaults()) == {
        "user_id": "0oa-service-client",
        "user_role": "internal_user",
        "auto_create_key": True,
    }


def test_unverified_email_is_not_used() -> None:
    body = user_new_body_for_jwt({**CLAIMS, "email_verified": False}, UserDefaults())
    assert "user_email" not in body


def test_claims_cannot_escalate() -> None:
    # Claims an attacker-controlled IdP profile might carry are not LiteLLM fields: only sub/email count.
    claims = {
        **CLAIMS,
        "user_role": "proxy_admin",
        "max_budget": 1e9,
        "teams": ["admins"],
        "groups": ["Everyone", "LiteLLM-Admins"],
        "models": ["*"],
    }
    body = user_new_body_for_jwt(claims, UserDefaults(max_budget=5.0))
    assert body["user_role"] == "internal_user"
    assert body["max_budget"] == 5.0
    assert set(body) == {"user_id", "user_email", "user_role", "auto_create_key", "max_budget"}


@pytest.mark.parametrize("sub", [None, "", "  ", 42])
def test_user_new_requires_a_subject(sub: Any) -> None:
    claims = {**CLAIMS, "sub": sub}
    with pytest.raises(GatewayError) as info:
        user_new_body_for_jwt(claims, UserDefaults())
    assert info.value.kind is ErrorKind.UNAUTHENTICATED


@pytest.mark.parametrize("role", ["internal_user", "internal_user_viewer"])
def test_existing_plain_user_may_be_reused(role: str) -> None:
    check_existing_user_for_jwt({"user_id": "alice@example.com", "user_role": role})


@pytest.mark.parametrize("role", ["proxy_admin", "proxy_admin_viewer", None, "org_admin"])
def test_existing_elevated_user_is_not_handed_to_a_jwt(role: Any) -> None:
    with pytest.raises(GatewayError) as info:
        check_existing_user_for_jwt({"user_id": "default_user_id", "user_role": role})
    assert info.value.kind is ErrorKind.FORBIDDEN


# ---- /key/generate ------------------------------------------------------------------------------


@pytest.mark.parametrize("principal", [ALICE, ALICE_KEY], ids=["jwt", "user-key"])
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, {"user_id": "alice@example.com"}),
        ({"user_id": "alice@example.com"}, {"user_id": "alice@example.com"}),
        ({"user_id": None, "key_alias": "laptop"}, {"user_id": "alice@example.com", "key_alias": "laptop"}),
        (
            {
                "key_alias": "ci",
                "duration": "30d",
                "models": ["gpt-4o-mini"],
                "metadata": {"project": "search", "env": "dev"},
                "max_budget": 5,
                "soft_budget": 4.0,
                "budget_duration": "1mo",
                "tpm_limit": 1000,
                "rpm_limit": 10,
                "max_parallel_requests": 2,
                "key_type": "llm_api",
            },
            {
                "user_id": "alice@example.com",
                "key_alias": "ci",
                "duration": "30d",
                "models": ["gpt-4o-mini"],
                "metadata": {"project": "search", "env": "dev"},
                "max_budget": 5,
                "soft_budget": 4.0,
                "budget_duration": "1mo",
                "tpm_limit": 1000,
                "rpm_limit": 10,
                "max_parallel_requests": 2,
                "key_type": "llm_api",
            },
        ),
        # Empty values of admin-only fields (what UIs send by default) are dropped, not refused.
        (
            {
                "team_id": "",
                "tags": [],
                "aliases": {},
                "spend": 0,
                "send_invite_email": False,
                "guardrails": None,
            },
            {"user_id": "alice@example.com"},
        ),
    ],
    ids=["empty", "own-user-id", "null-user-id", "all-user-fields", "empty-admin-fields"],
)
def test_user_key_generate_allowed(principal: Principal, body: dict, expected: dict) -> None:
    assert key_generate_body_for(principal, body) == expected


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"user_id": "bob@example.com"}, "user_id"),
        ({"team_id": "team-admins"}, "team_id"),
        ({"user_role": "proxy_admin"}, "user_role"),
        ({"tags": ["premium-routing"]}, "tags"),
        ({"aliases": {"cheap": "gpt-4o"}}, "aliases"),
        ({"permissions": {"allow_pii_controls": True}}, "permissions"),
        ({"allowed_routes": ["/key/delete"]}, "allowed_routes"),
        ({"key_type": "management"}, "key_type"),
        ({"model_rpm_limit": {"gpt-4o": 1000}}, "model_rpm_limit"),
        ({"budget_id": "unlimited"}, "budget_id"),
        ({"spend": -100}, "spend"),
        ({"key": "sk-chosen-by-me"}, "key"),
        ({"organization_id": "org-1"}, "organization_id"),
        ({"metadata": {"guardrails": "none"}}, "metadata"),
        ({"metadata": {"temp_budget_increase": "1000"}}, "metadata"),
        ({"metadata": {"disable_global_guardrails": "true"}}, "metadata"),
        ({"metadata": {"model_rpm_limit": "x"}}, "metadata"),
        ({"metadata": {"user_api_key_user_id": "bob"}}, "metadata"),
        ({"metadata": {"Priority": "high"}}, "metadata"),
        ({"metadata": {"gateway_managed": "true"}}, "metadata"),
    ],
)
def test_user_key_generate_refused(body: dict, param: str) -> None:
    with pytest.raises(GatewayError) as info:
        key_generate_body_for(ALICE, body)
    assert info.value.kind is ErrorKind.FORBIDDEN
    assert info.value.param == param
    assert info.value.openai_status() == 403


def test_refusal_names_every_refused_field() -> None:
    with pytest.raises(GatewayError) as info:
        key_generate_body_for(ALICE, {"team_id": "t", "tags": ["x"], "key_alias": "ok"})
    assert "tags" in info.value.message and "team_id" in info.value.message


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"duration": "forever"}, "duration"),
        ({"duration": 30}, "duration"),
        ({"budget_duration": "1y"}, "budget_duration"),
        ({"max_budget": -1}, "max_budget"),
        ({"max_budget": "100"}, "max_budget"),
        ({"max_budget": True}, "max_budget"),
        ({"rpm_limit": 1.5}, "rpm_limit"),
        ({"tpm_limit": -5}, "tpm_limit"),
        ({"models": "gpt-4o"}, "models"),
        ({"models": [1, 2]}, "models"),
        ({"metadata": ["a"]}, "metadata"),
        ({"metadata": {"project": {"nested": "x"}}}, "metadata"),
        ({"metadata": {"project": "x" * 300}}, "metadata"),
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
        ({"metadata": {"bad key": "v"}}, "metadata"),
        ({"key_alias": 7}, "key_alias"),
    ],
)
def test_user_key_generate_invalid_values(body: dict, param: str) -> None:
    with pytest.raises(GatewayError) as info:
        key_generate_body_for(ALICE, body)
    assert info.value.kind is ErrorKind.VALIDATION
    assert info.value.param == param


def test_models_checked_against_user_models_when_known() -> None:
    assert key_generate_body_for(ALICE, {"models": ["a"]}, user_models=["a", "b"])["models"] == ["a"]
    with pytest.raises(GatewayError) as info:
        key_generate_body_for(ALICE, {"models": ["a", "c"]}, user_models=["a", "b"])
    assert info.value.kind is ErrorKind.FORBIDDEN
    assert "c" in info.value.message


def test_key_without_user_cannot_generate_keys() -> None:
    with pytest.raises(GatewayError) as info:
        key_generate_body_for(USERLESS_KEY, {"key_alias": "x"})
    assert info.value.kind is ErrorKind.FORBIDDEN
    assert "does not belong to a user" in info.value.message


def test_admin_body_passes_through_unchanged() -> None:
    body = {"user_id": "bob", "team_id": "t", "max_budget": 1e6, "metadata": {"guardrails": ["x"]}}
    out = key_generate_body_for(ADMIN, body)
    assert out == body
    assert out is not body


def test_non_object_body_is_a_validation_error() -> None:
    with pytest.raises(GatewayError) as info:
        key_generate_body_for(ALICE, ["not", "an", "object"])  # type: ignore[arg-type]
    assert info.value.kind is ErrorKind.VALIDATION


def test_input_body_is_not_mutated() -> None:
    body = {"key_alias": "x"}
    key_generate_body_for(ALICE, body)
    assert body == {"key_alias": "x"}

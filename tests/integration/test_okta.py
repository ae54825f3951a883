"""Okta / OIDC JWTs through the local stack: verification, self-provisioning, keys, JWTs on chat.

A local OIDC issuer (discovery + JWKS on loopback, tokens minted here) stands in for Okta; a
middleware instance with ``OKTA_ISSUER`` set runs next to the session's stack. Every LiteLLM fact is
checked with LiteLLM itself (master key, its own port), not through the code under test.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric import rsa

from devstack.processes import free_port
from devstack.stack import LocalStack
from tests.integration.bedrock_clients import bearer_client
from tests.integration.conftest import new_user_key
from tests.support.oidc_issuer import OidcIssuer

OKTA_DEFAULTS = {
    "OKTA_AUDIENCE": "api://default",
    "OKTA_USER_MAX_BUDGET": "5",
    "OKTA_USER_BUDGET_DURATION": "30d",
    "OKTA_USER_TPM_LIMIT": "100000",
    "OKTA_USER_RPM_LIMIT": "1000",
    "OKTA_USER_MAX_PARALLEL_REQUESTS": "20",
}
CHAT = {"model": "fake", "messages": [{"role": "user", "content": "hi from okta"}]}


# ---- fixtures and helpers ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def okta_url(stack: LocalStack, idp: OidcIssuer) -> str:
    return stack.start_middleware(
        "middleware-okta", free_port(), env_overrides={"OKTA_ISSUER": idp.issuer, **OKTA_DEFAULTS}
    )


@pytest.fixture(scope="module")
def litellm(stack: LocalStack, master_key: str) -> Iterator[httpx.Client]:
    """LiteLLM itself, as an administrator: the ground truth for users, keys and spend."""
    with httpx.Client(base_url=stack.litellm_url, headers={"Authorization": f"Bearer {master_key}"}) as client:
        yield client


def new_sub(name: str = "user") -> str:
    """An Okta-like subject with characters that need URL-encoding."""
    return f"{name}+{secrets.token_hex(4)}@example.com"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def user_row(litellm: httpx.Client, user_id: str) -> dict[str, Any] | None:
    response = litellm.get("/user/info", params={"user_id": user_id})
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    return response.json()["user_info"]


def key_info(litellm: httpx.Client, key: str) -> dict[str, Any]:
    response = httpx.get(f"{litellm.base_url}/key/info", headers=bearer(key))
    assert response.status_code == 200, response.text
    return response.json()["info"]


def user_keys(litellm: httpx.Client, user_id: str) -> list[dict[str, Any]]:
    response = litellm.get("/key/list", params={"user_id": user_id, "return_full_object": "true", "size": 100})
    assert response.status_code == 200, response.text
    return response.json()["keys"]


def managed_key_row(litellm: httpx.Client, user_id: str) -> dict[str, Any]:
    rows = [k for k in user_keys(litellm, user_id) if (k.get("metadata") or {}).get("gateway_managed") == "true"]
    assert len(rows) == 1, rows
    return rows[0]


def poll(check: Callable[[], Any], timeout: float = 60.0, interval: float = 0.5) -> Any:
    """LiteLLM writes spend logs asynchronously (batched): wait for ``check`` to return something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval)


def spend_logs_of(litellm: httpx.Client, user_id: str) -> list[dict[str, Any]]:
    response = litellm.get("/spend/logs", params={"user_id": user_id})
    assert response.status_code == 200, response.text
    return response.json()


def provision(okta_url: str, token: str, body: dict | None = None) -> httpx.Response:
    return httpx.post(f"{okta_url}/user/new", headers=bearer(token), json=body or {}, timeout=30)


def chat(url: str, key: str, body: dict | None = None) -> httpx.Response:
    return httpx.post(f"{url}/v1/chat/completions", headers=bearer(key), json=body or CHAT, timeout=30)


# ---- /user/new with a JWT -------------------------------------------------------------------------


def test_valid_token_provisions_the_user_from_the_token_and_defaults_only(okta_url, idp, litellm):
    sub = new_sub("alice")
    someone_else = new_sub("someone-else")
    token = idp.mint(idp.claims(sub=sub, email="alice.okta@example.com"))
    overrides = {
        "user_id": someone_else,
        "user_role": "proxy_admin",
        "max_budget": 1e9,
        "budget_duration": "1s",
        "tpm_limit": 10**9,
        "rpm_limit": 10**9,
        "models": ["mock-gpt"],
        "teams": ["team-x"],
        "metadata": {"x": "y"},
        "auto_create_key": False,
    }

    response = provision(okta_url, token, overrides)

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["user_id"] == sub and answer["user_created"] is True
    assert answer["user_role"] == "internal_user" and answer["max_budget"] == 5
    assert answer["key"].startswith("sk-")
    row = user_row(litellm, sub)
    assert row is not None
    assert row["user_id"] == sub
    assert row["user_role"] == "internal_user"
    assert row["user_email"] == "alice.okta@example.com"
    assert row["max_budget"] == 5
    assert row["budget_duration"] == "30d"
    assert row["tpm_limit"] == 100000 and row["rpm_limit"] == 1000
    assert row["models"] == []  # OKTA_USER_MODELS unset: all models, not the body's list
    assert not row.get("teams")
    assert user_row(litellm, someone_else) is None
    assert key_info(litellm, answer["key"])["user_id"] == sub

    reply = chat(okta_url, answer["key"])
    assert reply.status_code == 200, reply.text
    assert reply.json()["choices"][0]["message"]["content"] == "Echo: hi from okta"


def test_calling_user_new_again_returns_another_key_for_the_same_user(okta_url, idp, litellm):
    sub = new_sub("repeat")
    first = provision(okta_url, idp.mint(idp.claims(sub=sub)))
    second = provision(okta_url, idp.mint(idp.claims(sub=sub)))
    assert first.status_code == second.status_code == 200, (first.text, second.text)
    assert first.json()["user_created"] is True and second.json()["user_created"] is False
    assert first.json()["key"] != second.json()["key"]
    for key in (first.json()["key"], second.json()["key"]):
        assert key_info(litellm, key)["user_id"] == sub
        assert chat(okta_url, key).status_code == 200


def test_token_for_an_existing_admin_user_id_is_refused(okta_url, idp, litellm):
    admin_id = new_sub("admin")
    created = litellm.post(
        "/user/new", json={"user_id": admin_id, "user_role": "proxy_admin", "auto_create_key": False}
    )
    assert created.status_code == 200, created.text
    token = idp.mint(idp.claims(sub=admin_id))
    assert provision(okta_url, token).status_code == 403
    assert chat(okta_url, token).status_code == 403
    assert user_keys(litellm, admin_id) == []
    auth = {"Authorization": f"Bearer {token}"}
    assert httpx.post(f"{okta_url}/session-ids", headers=auth, json={}).status_code == 403
    assert httpx.post(f"{okta_url}/chat-history", headers=auth, json={"session_id": "0" * 32}).status_code == 403


def _now() -> int:
    return int(time.time())


def _swap_payload(idp: OidcIssuer, sub: str) -> str:
    """A valid token for someone else with ``sub``'s payload pasted in: the signature no longer matches."""
    header, _, signature = idp.mint(idp.claims(sub=new_sub("victim"))).split(".")
    payload = idp.mint(idp.claims(sub=sub)).split(".")[1]
    return f"{header}.{payload}.{signature}"


def _flip_signature(idp: OidcIssuer, sub: str) -> str:
    header, payload, signature = idp.mint(idp.claims(sub=sub)).split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[10] ^= 0x01
    return f"{header}.{payload}.{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"


def _unknown_kid(idp: OidcIssuer, sub: str) -> str:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return idp.mint(idp.claims(sub=sub), key=stranger, alg="RS256", headers={"kid": "kid-nobody-published"})


def _garbage_jwt(idp: OidcIssuer, sub: str) -> str:
    header = base64.urlsafe_b64encode(json.dumps({"alg": "RS256", "kid": idp.active_kid}).encode()).rstrip(b"=")
    return f"{header.decode()}.bm90LWpzb24.c2ln"


BAD_TOKENS: dict[str, Callable[[OidcIssuer, str], str]] = {
    "expired": lambda idp, sub: idp.mint(idp.claims(sub=sub, iat=_now() - 7200, nbf=_now() - 7200, exp=_now() - 3600)),
    "not-yet-valid": lambda idp, sub: idp.mint(idp.claims(sub=sub, nbf=_now() + 3600, exp=_now() + 7200)),
    "wrong-audience": lambda idp, sub: idp.mint(idp.claims(sub=sub, aud="api://someone-else")),
    "wrong-issuer": lambda idp, sub: idp.mint(idp.claims(sub=sub, iss="https://evil.example.com/oauth2/default")),
    "unknown-kid": _unknown_kid,
    "tampered-payload": _swap_payload,
    "tampered-signature": _flip_signature,
    "alg-none": lambda idp, sub: idp.mint_unsigned(idp.claims(sub=sub)),
    "hs256-with-public-key": lambda idp, sub: idp.mint_hs256_with_public_key(idp.claims(sub=sub)),
    "missing-sub": lambda idp, sub: idp.mint(idp.claims(sub=sub, omit=["sub"])),
    "garbage-jwt": _garbage_jwt,
    "garbage": lambda idp, sub: "this-is-not-a-token",
}


@pytest.mark.parametrize("make_token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_bad_tokens_get_401_and_create_nothing(okta_url, idp, litellm, make_token):
    sub = new_sub("mallory")
    token = make_token(idp, sub)

    response = provision(okta_url, token, {"user_id": sub, "user_role": "proxy_admin"})

    assert response.status_code == 401, response.text
    error = response.json()["error"]
    assert error["type"] == "authentication_error"
    assert token not in response.text
    assert user_row(litellm, sub) is None
    # nor through any other route
    assert chat(okta_url, token).status_code == 401
    assert httpx.post(f"{okta_url}/key/generate", headers=bearer(token), json={}).status_code == 401
    assert user_row(litellm, sub) is None


def test_refusal_reasons_are_short_and_specific(okta_url, idp):
    expected = {
        "expired": "invalid token: token expired",
        "wrong-audience": "invalid token: wrong audience",
        "wrong-issuer": "invalid token: wrong issuer",
        "alg-none": "invalid token: algorithm not allowed",
        "hs256-with-public-key": "invalid token: algorithm not allowed",
        "tampered-signature": "invalid token: invalid signature",
        "missing-sub": "invalid token: missing sub claim",
    }
    for name, message in expected.items():
        response = provision(okta_url, BAD_TOKENS[name](idp, new_sub()))
        assert response.json()["error"]["message"] == message, name


# ---- key rotation and an unreachable issuer (their own middleware instances) ----------------------------


def test_key_rotation_is_accepted_after_exactly_one_jwks_refresh(stack, litellm):
    with OidcIssuer() as rotating:
        url = stack.start_middleware(
            "middleware-okta-rotation", free_port(), env_overrides={"OKTA_ISSUER": rotating.issuer, **OKTA_DEFAULTS}
        )
        sub = new_sub("rotation")
        assert provision(url, rotating.mint(rotating.claims(sub=sub))).status_code == 200
        assert rotating.jwks_fetches == 1

        old_kid = rotating.active_kid
        rotating.add_key()  # the issuer publishes a new key and signs with it from now on
        rotating.remove_key(old_kid)
        response = provision(url, rotating.mint(rotating.claims(sub=sub)))
        assert response.status_code == 200, response.text
        assert rotating.jwks_fetches == 2  # one refresh for the unknown kid

        # A flood of made-up kids right after: refused, and the JWKS is not fetched again (rate limit).
        for _ in range(5):
            assert provision(url, _unknown_kid(rotating, sub)).status_code == 401
        assert rotating.jwks_fetches == 2
        assert provision(url, rotating.mint(rotating.claims(sub=sub))).status_code == 200
        assert rotating.jwks_fetches == 2


def test_unreachable_issuer_answers_503_not_401(stack):
    with OidcIssuer() as gone:
        issuer, token = gone.issuer, gone.mint()
    url = stack.start_middleware(
        "middleware-okta-dead-issuer", free_port(), env_overrides={"OKTA_ISSUER": issuer, **OKTA_DEFAULTS}
    )
    response = provision(url, token)
    assert response.status_code == 503, response.text
    assert "identity provider unavailable" in response.json()["error"]["message"]
    # LiteLLM keys keep working while the identity provider is down
    assert httpx.get(f"{url}/v1/models", headers=bearer(stack.options.master_key)).status_code == 200


# ---- /key/generate --------------------------------------------------------------------------------


def test_key_generate_with_a_user_key_only_for_the_callers_own_user(gateway_url, master_key, litellm):
    user_id, key = new_user_key(gateway_url, master_key, "keygen")
    other_id, _ = new_user_key(gateway_url, master_key, "keygen-other")
    url = f"{gateway_url}/key/generate"

    refused = httpx.post(url, headers=bearer(key), json={"user_id": other_id})
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["type"] == "permission_error"
    assert len(user_keys(litellm, other_id)) == 1  # only the key new_user_key made

    for body in ({}, {"user_id": user_id}, {"key_alias": f"mine-{secrets.token_hex(3)}", "max_budget": 1}):
        made = httpx.post(url, headers=bearer(key), json=body)
        assert made.status_code == 200, made.text
        assert key_info(litellm, made.json()["key"])["user_id"] == user_id

    # an empty body is a default key for the caller
    empty = httpx.post(url, headers=bearer(key))
    assert empty.status_code == 200, empty.text
    assert key_info(litellm, empty.json()["key"])["user_id"] == user_id

    # fields only an administrator may set
    assert httpx.post(url, headers=bearer(key), json={"team_id": "t1"}).status_code == 403


def test_key_generate_with_a_jwt_is_for_the_tokens_user(okta_url, idp, litellm):
    sub = new_sub("jwt-keygen")
    token = idp.mint(idp.claims(sub=sub))
    url = f"{okta_url}/key/generate"

    assert httpx.post(url, headers=bearer(token), json={"user_id": new_sub("other")}).status_code == 403
    made = httpx.post(url, headers=bearer(token), json={"key_alias": f"laptop-{secrets.token_hex(3)}"})
    assert made.status_code == 200, made.text
    assert key_info(litellm, made.json()["key"])["user_id"] == sub
    assert user_row(litellm, sub)["user_role"] == "internal_user"  # provisioned on the way


def test_key_generate_and_user_new_for_admins_pass_through(gateway_url, master_key, litellm):
    user_id, key = new_user_key(gateway_url, master_key, "for-admin")
    made = httpx.post(
        f"{gateway_url}/key/generate", headers=bearer(master_key), json={"user_id": user_id, "models": ["fake"]}
    )
    assert made.status_code == 200, made.text
    assert key_info(litellm, made.json()["key"])["user_id"] == user_id

    # a virtual key of a proxy_admin user is an administrator too
    admin_id = new_sub("proxy-admin")
    created = litellm.post("/user/new", json={"user_id": admin_id, "user_role": "proxy_admin"})
    assert created.status_code == 200, created.text
    admin_key = created.json()["key"]
    made = httpx.post(f"{gateway_url}/key/generate", headers=bearer(admin_key), json={"user_id": user_id})
    assert made.status_code == 200, made.text
    assert key_info(litellm, made.json()["key"])["user_id"] == user_id

    # /user/new with a plain user's key goes to LiteLLM, which refuses an internal user
    refused = httpx.post(f"{gateway_url}/user/new", headers=bearer(key), json={"user_id": new_sub()})
    assert refused.status_code in (401, 403), refused.text


# ---- a JWT used directly on the chat routes --------------------------------------------------------


def test_jwt_on_openai_chat_is_charged_to_the_user_with_a_managed_key(okta_url, idp, litellm):
    sub = new_sub("chatter")
    token = idp.mint(idp.claims(sub=sub))
    provisioned = provision(okta_url, token).json()["key"]

    reply = chat(okta_url, token)
    assert reply.status_code == 200, reply.text
    assert reply.json()["choices"][0]["message"]["content"] == "Echo: hi from okta"
    streamed = chat(okta_url, token, {**CHAT, "stream": True})
    assert streamed.status_code == 200 and "data: [DONE]" in streamed.text

    managed = managed_key_row(litellm, sub)
    assert managed["user_id"] == sub
    assert managed["key_alias"] == f"gateway-managed-{sub}"
    # never handed out: not the key /user/new returned
    assert managed["token"] != key_info(litellm, provisioned).get("token")

    # LiteLLM logged both calls against the user, made with the managed key. (The local models have
    # no price, so the user's spend stays 0: the spend log rows are the proof of who was charged.)
    logs = poll(lambda: [r for r in spend_logs_of(litellm, sub) if r["api_key"] == managed["token"]])
    assert len(logs) >= 1 and all(r["user"] == sub for r in logs)
    assert poll(lambda: managed_key_row(litellm, sub).get("last_active") or None) is not None


def test_jwt_on_converse_works_and_uses_the_same_managed_key(okta_url, idp, litellm):
    sub = new_sub("bedrock")
    token = idp.mint(idp.claims(sub=sub))
    client = bearer_client(okta_url, token)
    response = client.converse(modelId="fake", messages=[{"role": "user", "content": [{"text": "hello okta"}]}])
    assert response["output"]["message"]["content"][0]["text"] == "Echo: hello okta"
    stream = client.converse_stream(modelId="fake", messages=[{"role": "user", "content": [{"text": "more"}]}])
    assert any("contentBlockDelta" in event for event in stream["stream"])

    managed = managed_key_row(litellm, sub)
    assert user_row(litellm, sub)["user_role"] == "internal_user"
    logs = poll(lambda: [r for r in spend_logs_of(litellm, sub) if r["api_key"] == managed["token"]])
    assert logs and all(r["user"] == sub for r in logs)

    with pytest.raises(ClientError) as info:
        bearer_client(okta_url, BAD_TOKENS["expired"](idp, sub)).converse(
            modelId="fake", messages=[{"role": "user", "content": [{"text": "x"}]}]
        )
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 401
    assert info.value.response["Error"]["Code"] == "AccessDeniedException"


def test_user_budget_applies_to_jwt_chat(okta_url, idp, litellm):
    """Budgets and limits are the user's: an exhausted user budget stops the JWT's calls too."""
    sub = new_sub("budget")
    token = idp.mint(idp.claims(sub=sub))
    assert chat(okta_url, token).status_code == 200
    updated = litellm.post("/user/update", json={"user_id": sub, "max_budget": 0})
    assert updated.status_code == 200, updated.text

    refused = poll(lambda: (r := chat(okta_url, token)).status_code >= 400 and r, timeout=15)
    assert refused, "the JWT's calls should be refused once the user's budget is exhausted"
    assert "budget" in refused.text.lower()


def test_email_of_an_existing_user_does_not_link_the_token_to_that_user(okta_url, idp, litellm):
    victim_id = new_sub("victim")
    email = f"shared-{secrets.token_hex(3)}@example.com"
    created = litellm.post("/user/new", json={"user_id": victim_id, "user_email": email, "auto_create_key": False})
    assert created.status_code == 200, created.text

    sub = new_sub("claims-email")
    answer = provision(okta_url, idp.mint(idp.claims(sub=sub, email=email)))
    assert answer.status_code == 200, answer.text
    assert key_info(litellm, answer.json()["key"])["user_id"] == sub
    assert user_row(litellm, sub)["user_email"] is None
    assert user_keys(litellm, victim_id) == []


def test_jwt_conversations_are_the_users_and_shared_with_the_users_keys(okta_url, idp):
    sub = new_sub("history")
    token = idp.mint(idp.claims(sub=sub))
    first = chat(okta_url, token)
    assert first.status_code == 200, first.text
    session_id = first.json()["session_id"]
    key = provision(okta_url, token).json()["key"]
    stranger = idp.mint(idp.claims(sub=new_sub("stranger")))

    def history(credential: str) -> httpx.Response:
        return httpx.post(f"{okta_url}/chat-history", headers=bearer(credential), json={"session_id": session_id})

    for credential in (token, key):
        response = history(credential)
        assert response.status_code == 200, response.text
        assert [m["content"] for m in response.json()["messages"]] == ["hi from okta", "Echo: hi from okta"]
    assert history(stranger).status_code == 404


def test_key_update_with_a_jwt_has_the_same_allow_list(okta_url, idp, litellm):
    """Issue 16 defect 3: what /key/generate refuses cannot be set afterwards with /key/update."""
    sub = new_sub("jwt-keyupdate")
    token = idp.mint(idp.claims(sub=sub))
    made = httpx.post(
        f"{okta_url}/key/generate", headers=bearer(token), json={"key_alias": f"a-{secrets.token_hex(3)}"}
    )
    assert made.status_code == 200, made.text
    key = made.json()["key"]

    refused = httpx.post(
        f"{okta_url}/key/update", headers=bearer(token), json={"key": key, "metadata": {"guardrails": ["none"]}}
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["type"] == "permission_error"
    assert "guardrails" not in (key_info(litellm, key).get("metadata") or {})

    alias = f"b-{secrets.token_hex(3)}"
    updated = httpx.post(f"{okta_url}/key/update", headers=bearer(token), json={"key": key, "key_alias": alias})
    assert updated.status_code == 200, updated.text
    assert key_info(litellm, key)["key_alias"] == alias

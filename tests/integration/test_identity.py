"""Identity hardening against the real local stack (issue 16 defects 2, 5, 8, 9; issue 12's key headers).

Real LiteLLM (database mode), real SDK clients (``openai``, ``anthropic``); the Lambda authorizer's
entry point is called with REST API REQUEST-authorizer events as API Gateway would build them (AWS
itself is the only thing replaced). Waits poll with a deadline; nothing asserts a duration.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import time
from collections.abc import Callable, Iterator

import anthropic
import httpx
import jwt
import openai
import pytest

from devstack.processes import free_port
from devstack.stack import LocalStack
from gateway.identity.principal import hash_key
from tests.integration.conftest import new_user_key
from tests.support.oidc_issuer import OidcIssuer

CHAT = {"model": "fake", "messages": [{"role": "user", "content": "who am I?"}]}
CONVERSE = {"messages": [{"role": "user", "content": [{"text": "who am I?"}]}]}
OKTA = {"OKTA_AUDIENCE": "api://default"}


# ---- helpers ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def litellm(stack: LocalStack, master_key: str) -> Iterator[httpx.Client]:
    """LiteLLM itself, as an administrator (to make, block and delete keys)."""
    with httpx.Client(base_url=stack.litellm_url, headers={"Authorization": f"Bearer {master_key}"}) as client:
        yield client


def make_key(litellm: httpx.Client, **fields: object) -> str:
    response = litellm.post("/key/generate", json=fields, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["key"]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def session_ids(url: str, headers: dict[str, str] | list[tuple[str, str]]) -> httpx.Response:
    """A history route: it never calls LiteLLM, so only the gateway's own check guards it."""
    return httpx.post(f"{url}/session-ids", headers=headers, json={}, timeout=30)


def eventually(check: Callable[[], bool], *, within: float) -> bool:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def nested_header_token(depth: int = 1200) -> str:
    """A JWT-shaped token whose JOSE header nests ``depth`` arrays (fits the 4 KB header limit)."""
    header = b'{"alg":"RS256","typ":"JWT","x":' + b"[" * depth + b"]" * depth + b"}"
    return f"{b64(header)}.{b64(b'{}')}.{b64(b'sig')}"


def nested_payload_token(idp: OidcIssuer, depth: int = 5000) -> str:
    """Correctly signed by the issuer, with a payload nesting ``depth`` arrays."""
    payload = json.dumps(idp.claims())[:-1].encode() + b', "x": ' + b"[" * depth + b"]" * depth + b"}"
    return jwt.api_jws.PyJWS().encode(payload, idp.private_key(), algorithm="RS256", headers={"kid": idp.active_kid})


# ---- defect 2: keys whose allowed_routes exclude /key/info -------------------------------------------------


def test_a_key_limited_to_llm_api_routes_works_through_the_gateway(gateway_url, litellm):
    key = make_key(litellm, allowed_routes=["llm_api_routes"])
    # the premise: LiteLLM refuses such a key when it asks about itself
    assert litellm.get("/key/info", headers=bearer(key)).status_code == 403

    chat = httpx.post(f"{gateway_url}/v1/chat/completions", headers=bearer(key), json=CHAT, timeout=60)
    assert chat.status_code == 200, chat.text
    assert session_ids(gateway_url, bearer(key)).status_code == 200


def test_blocked_and_deleted_keys_are_refused_on_a_history_route(gateway_url, litellm):
    blocked, deleted = make_key(litellm), make_key(litellm)
    assert litellm.post("/key/block", json={"key": blocked}).status_code == 200
    assert litellm.post("/key/delete", json={"keys": [deleted]}).status_code == 200
    for key in (blocked, deleted):  # never seen by this gateway before: looked up now
        refused = session_ids(gateway_url, bearer(key))
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"]["message"] == "invalid API key"


# ---- defect 9: revocation and expiry take effect within the stated window --------------------------------


@pytest.fixture(scope="module")
def short_cache(stack: LocalStack) -> str:
    """A middleware whose authorization cache lasts 1 s (the setting the guarantee is stated in)."""
    return stack.start_middleware("middleware-short-cache", free_port(), env_overrides={"KEY_CACHE_TTL_SECONDS": "1"})


@pytest.mark.parametrize("revoke", ["delete", "block"])
def test_a_revoked_key_is_refused_on_history_routes_once_the_cache_ttl_has_passed(short_cache, litellm, revoke):
    key = make_key(litellm)
    assert session_ids(short_cache, bearer(key)).status_code == 200  # cached from now on
    body = {"keys": [key]} if revoke == "delete" else {"key": key}
    assert litellm.post(f"/key/{revoke}", json=body).status_code == 200
    assert eventually(lambda: session_ids(short_cache, bearer(key)).status_code == 401, within=15)


def test_a_key_of_a_blocked_team_is_refused_once_the_cache_ttl_has_passed(short_cache, litellm):
    team = litellm.post("/team/new", json={"team_alias": f"identity-{secrets.token_hex(3)}"})
    assert team.status_code == 200, team.text
    team_id = team.json()["team_id"]
    key = make_key(litellm, team_id=team_id)
    assert session_ids(short_cache, bearer(key)).status_code == 200
    assert litellm.post("/team/block", json={"team_id": team_id}).status_code == 200
    assert eventually(lambda: session_ids(short_cache, bearer(key)).status_code == 401, within=15)


def test_a_cached_key_stops_working_when_it_expires_not_when_the_cache_entry_would(gateway_url, litellm):
    # the default cache (KEY_CACHE_TTL_SECONDS, 30 s) outlives this key, which expires in 3 s
    key = make_key(litellm, duration="3s")
    assert session_ids(gateway_url, bearer(key)).status_code == 200
    assert eventually(lambda: session_ids(gateway_url, bearer(key)).status_code == 401, within=15)


# ---- defect 8: one credential per request ------------------------------------------------------------------


def test_two_authorization_headers_are_refused_in_each_routes_error_format(gateway_url, master_key, user_key):
    two = [("Authorization", f"Bearer {user_key}"), ("Authorization", f"Bearer {master_key}")]
    openai_route = httpx.post(f"{gateway_url}/v1/chat/completions", headers=two, json=CHAT, timeout=30)
    assert openai_route.status_code == 401
    error = openai_route.json()["error"]
    assert error["type"] == "authentication_error" and "repeated authorization header" in error["message"]

    converse = httpx.post(f"{gateway_url}/bedrock/model/fake/converse", headers=two, json=CONVERSE, timeout=30)
    assert converse.status_code == 401
    assert converse.headers["x-amzn-errortype"] == "AccessDeniedException"
    assert "repeated authorization header" in converse.json()["message"]

    for path in ("/v1/models", "/key/list"):  # relayed to LiteLLM: nothing is forwarded
        assert httpx.get(f"{gateway_url}{path}", headers=two, timeout=30).status_code == 401
    assert session_ids(gateway_url, two).status_code == 401


@pytest.mark.parametrize("other", ["x-api-key", "api-key"])
def test_different_credentials_in_two_headers_are_refused(gateway_url, master_key, user_key, other):
    headers = {"Authorization": f"Bearer {user_key}", other: master_key}
    response = httpx.get(f"{gateway_url}/key/list", headers=headers, timeout=30)
    assert response.status_code == 401
    assert response.json()["error"]["message"].startswith("conflicting credentials")
    assert master_key not in response.text and user_key not in response.text


# ---- issue 12: x-api-key (Anthropic SDKs, Claude Code) and api-key (Azure OpenAI clients) -------------------


def anthropic_client(gateway_url: str, key: str, wire: str) -> anthropic.Anthropic:
    """The real SDK. anthropic 2.x sends ``api_key`` as ``Authorization: Bearer``; the 1.x SDKs and
    Claude Code (``ANTHROPIC_API_KEY``) send ``x-api-key``, which the SDK sends as given here."""
    if wire == "authorization":
        return anthropic.Anthropic(api_key=key, base_url=gateway_url, max_retries=0)
    return anthropic.Anthropic(api_key=None, default_headers={"x-api-key": key}, base_url=gateway_url, max_retries=0)


@pytest.mark.parametrize("wire", ["x-api-key", "authorization"])
def test_the_anthropic_sdk_reaches_the_messages_api(gateway_url, user_key, wire, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    hello = [{"role": "user", "content": "hi"}]
    # mock-gpt answers inside LiteLLM (its /v1/messages bridge does not use the fake upstream's API)
    message = anthropic_client(gateway_url, user_key, wire).messages.create(
        model="mock-gpt", max_tokens=64, messages=hello
    )
    assert message.content and message.content[0].type == "text" and message.content[0].text
    with pytest.raises(anthropic.AuthenticationError):
        anthropic_client(gateway_url, "sk-not-a-key", wire).messages.create(
            model="mock-gpt", max_tokens=64, messages=hello
        )


def test_the_azure_openai_client_authenticates_with_api_key(gateway_url, user_key):
    client = openai.AzureOpenAI(api_key=user_key, azure_endpoint=gateway_url, api_version="2024-10-21", max_retries=0)
    reply = client.chat.completions.create(model="fake", messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content


@pytest.mark.parametrize("header", ["x-api-key", "api-key"])
def test_gateway_routes_accept_the_key_headers_and_act_for_that_key(gateway_url, master_key, header):
    _, key = new_user_key(gateway_url, master_key, f"hdr-{header}")
    chat = httpx.post(f"{gateway_url}/v1/chat/completions", headers={header: key}, json=CHAT, timeout=60)
    assert chat.status_code == 200, chat.text
    session = chat.json()["session_id"]
    # the session belongs to the key's user, whichever header carried the key
    listed = session_ids(gateway_url, bearer(key)).json()["session_ids"]
    assert session in listed
    converse = httpx.post(f"{gateway_url}/bedrock/model/fake/converse", headers={header: key}, json=CONVERSE)
    assert converse.status_code == 200, converse.text


# ---- defect 5: deeply nested JSON in a JWT ----------------------------------------------------------------


@pytest.fixture(scope="module")
def okta_url(stack: LocalStack, idp: OidcIssuer) -> str:
    return stack.start_middleware(
        "middleware-identity-okta", free_port(), env_overrides={"OKTA_ISSUER": idp.issuer, **OKTA}
    )


def test_deeply_nested_jwt_json_is_401_not_500(okta_url, idp):
    # an unparseable header does not make a JWT (so it is an unknown key); a signed nested payload is a bad JWT
    expected = {nested_header_token(): "invalid API key", nested_payload_token(idp): "invalid token: malformed token"}
    for token, message in expected.items():
        chat = httpx.post(f"{okta_url}/v1/chat/completions", headers=bearer(token), json=CHAT, timeout=30)
        assert chat.status_code == 401, chat.text
        assert chat.json()["error"]["message"] == message
        converse = httpx.post(f"{okta_url}/bedrock/model/fake/converse", headers=bearer(token), json=CONVERSE)
        assert converse.status_code == 401 and converse.headers["x-amzn-errortype"] == "AccessDeniedException"
    # the issuer's ordinary tokens still work on the same instance
    assert session_ids(okta_url, bearer(idp.mint(idp.claims(sub=f"n-{secrets.token_hex(3)}")))).status_code == 200


# ---- the Lambda authorizer --------------------------------------------------------------------------------


@pytest.fixture
def authorizer(stack, master_key, monkeypatch):
    """The Lambda authorizer's entry module, configured like the deployed function; ``configure(**env)``
    rebuilds it with other settings."""
    import handler

    from gateway.settings import get_settings

    def configure(**env: str) -> object:
        base = {"LITELLM_BASE_URL": stack.litellm_url, "LITELLM_MASTER_KEY": master_key, "GATEWAY_AUTH_MODE": "inline"}
        for name, value in (base | env).items():
            monkeypatch.setenv(name, value)
        if "OKTA_ISSUER" not in env:
            monkeypatch.delenv("OKTA_ISSUER", raising=False)
        get_settings.cache_clear()
        handler._authenticator = None
        return handler

    configure()
    handler.configure = configure
    yield handler
    del handler.configure
    get_settings.cache_clear()
    handler._authenticator = None


def rest_event(*pairs: tuple[str, str]) -> dict:
    """A REST API REQUEST-authorizer event: ``headers`` keeps the last value, ``multiValueHeaders`` all."""
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    return {
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/POST/session-ids",
        "resource": "/session-ids",
        "path": "/session-ids",
        "httpMethod": "POST",
        "headers": {name: values[-1] for name, values in multi.items()},
        "multiValueHeaders": multi,
    }


def unauthorized(handler, event: dict) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        handler.handler(event, None)


@pytest.fixture(scope="module")
def behind_api_gateway(stack: LocalStack) -> str:
    return stack.start_middleware(
        "middleware-identity-apigw", free_port(), env_overrides={"GATEWAY_AUTH_MODE": "apigateway"}
    )


@pytest.mark.parametrize("header", ["x-api-key", "api-key", "Authorization"])
def test_authorizer_accepts_each_key_header_and_the_middleware_binds_its_context(
    authorizer, behind_api_gateway, gateway_url, master_key, header
):
    def credential(key: str) -> str:
        return f"Bearer {key}" if header == "Authorization" else key

    _, key = new_user_key(gateway_url, master_key, "authz")
    answer = authorizer.handler(rest_event((header, credential(key))), None)
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert answer["context"]["principal_type"] == "key"
    assert answer["context"]["key_hash"] == hash_key(key, master_key)  # locally the salt is the master key
    assert key not in json.dumps(answer)
    # the Web Adapter hands the middleware the same request with the authorizer's context
    context = {"x-amzn-request-context": json.dumps({"requestId": "apigw-identity", "authorizer": answer["context"]})}
    ok = session_ids(behind_api_gateway, {header: credential(key)} | context)
    assert ok.status_code == 200, ok.text
    # the same context with another credential, or with a second credential beside it, is refused
    assert session_ids(behind_api_gateway, {header: credential("sk-other")} | context).status_code == 401
    extra = "api-key" if header == "x-api-key" else "x-api-key"
    two = {header: credential(key), extra: "sk-other"} | context
    assert session_ids(behind_api_gateway, two).status_code == 401


def test_authorizer_refuses_two_authorization_headers(authorizer, master_key, user_key):
    event = rest_event(("Authorization", f"Bearer {user_key}"), ("Authorization", f"Bearer {master_key}"))
    assert event["headers"] == {"Authorization": f"Bearer {master_key}"}  # what a headers-only reader sees
    unauthorized(authorizer, event)
    unauthorized(authorizer, rest_event(("Authorization", f"Bearer {user_key}"), ("x-api-key", master_key)))


def test_authorizer_accepts_a_key_limited_to_llm_api_routes(authorizer, litellm):
    key = make_key(litellm, allowed_routes=["llm_api_routes"])
    assert (
        authorizer.handler(rest_event(("Authorization", f"Bearer {key}")), None)["context"]["principal_type"] == "key"
    )


def test_authorizer_refuses_a_revoked_key_once_its_cache_ttl_has_passed(authorizer, litellm):
    handler = authorizer.configure(KEY_CACHE_TTL_SECONDS="1")
    key = make_key(litellm)
    event = rest_event(("x-api-key", key))
    assert handler.handler(event, None)["context"]["principal_type"] == "key"
    assert litellm.post("/key/delete", json={"keys": [key]}).status_code == 200

    def refused() -> bool:
        try:
            handler.handler(event, None)
        except Exception as exc:  # API Gateway's contract: an exception named Unauthorized
            return str(exc) == "Unauthorized"
        return False

    assert eventually(refused, within=15)


def test_authorizer_answers_unauthorized_for_deeply_nested_jwt_json(authorizer, idp):
    handler = authorizer.configure(OKTA_ISSUER=idp.issuer, **OKTA)
    for token in (nested_header_token(), nested_payload_token(idp)):
        unauthorized(handler, rest_event(("Authorization", f"Bearer {token}")))
    assert (
        handler.handler(rest_event(("Authorization", f"Bearer {idp.mint()}")), None)["context"]["principal_type"]
        == "jwt"
    )


def test_authorizer_fails_clearly_when_litellm_is_unreachable(authorizer, caplog):
    handler = authorizer.configure(LITELLM_BASE_URL=f"http://127.0.0.1:{free_port()}")
    caplog.set_level(logging.INFO)
    with pytest.raises(handler.AuthorizerUnavailable, match="unreachable"):
        handler.handler(rest_event(("x-api-key", "sk-some-key")), None)
    [record] = [r for r in caplog.records if r.getMessage() == "authorizer could not decide"]
    assert "unreachable" in record.reason and record.exc_info is None  # a reason, not a stack trace
    assert "sk-some-key" not in caplog.text

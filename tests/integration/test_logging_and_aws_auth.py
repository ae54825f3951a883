"""Operational contract of the middleware: structured logs without secrets, and the AWS auth path
(the Lambda authorizer's entry point, and the middleware trusting API Gateway's authorizer context)."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from devstack.processes import free_port
from gateway.identity.principal import hash_key

CHAT = {"model": "fake", "messages": [{"role": "user", "content": "log me"}]}


def log_lines(stack, request_id: str) -> list[dict]:
    """The middleware's JSON log lines, once the line of ``request_id`` is there (logs are asynchronous)."""
    deadline = time.monotonic() + 10
    while True:
        # split on newlines only (a logged path may hold U+0085, which splitlines() splits at); the last
        # piece is empty or a line still being written
        lines = (stack.log_dir / "middleware.log").read_text().split("\n")[:-1]
        entries = [json.loads(line) for line in lines if line.startswith("{")]
        if any(e.get("request_id") == request_id for e in entries) or time.monotonic() > deadline:
            return entries
        time.sleep(0.1)


def test_every_request_is_logged_as_json_with_its_request_id_and_no_secrets(stack, gateway_url, master_key, user_key):
    response = httpx.post(
        f"{gateway_url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {master_key}", "x-request-id": "req-logging-test-1"},
        json=CHAT,
    )
    assert response.headers["x-request-id"] == "req-logging-test-1"
    httpx.post(f"{gateway_url}/v1/chat/completions", headers={"Authorization": f"Bearer {user_key}"}, json=CHAT)
    httpx.post(f"{gateway_url}/v1/chat/completions", headers={"Authorization": "Bearer sk-bad"}, json=CHAT)
    lines = log_lines(stack, "req-logging-test-1")
    line = next(entry for entry in lines if entry.get("request_id") == "req-logging-test-1")
    assert line["path"] == "/v1/chat/completions" and line["status"] == 200 and line["principal"] == "admin"
    assert any(entry.get("status") == 401 for entry in lines)
    raw = (stack.log_dir / "middleware.log").read_text()
    for secret in (master_key, user_key, "sk-bad"):
        assert secret not in raw


@pytest.fixture(scope="module")
def behind_api_gateway(stack) -> str:
    """A middleware instance configured as in AWS: the principal comes from API Gateway's authorizer."""
    return stack.start_middleware("middleware-apigw", free_port(), env_overrides={"GATEWAY_AUTH_MODE": "apigateway"})


def request_context(principal: dict) -> str:
    return json.dumps({"requestId": "apigw-req-1", "authorizer": principal})


def test_middleware_in_aws_mode_acts_for_the_authorizers_principal(behind_api_gateway, master_key):
    # locally the hash salt is the master key (GATEWAY_HASH_SALT unset), as the authorizer would use it
    context = {"principal_type": "admin", "key_hash": hash_key(master_key, master_key)}
    headers = {"Authorization": f"Bearer {master_key}", "x-amzn-request-context": request_context(context)}
    response = httpx.post(f"{behind_api_gateway}/v1/chat/completions", headers=headers, json=CHAT)
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "apigw-req-1"


def test_middleware_in_aws_mode_refuses_a_context_made_for_another_credential(behind_api_gateway, master_key, user_key):
    forged = {"principal_type": "admin", "key_hash": hash_key(master_key, master_key)}
    headers = {"Authorization": f"Bearer {user_key}", "x-amzn-request-context": request_context(forged)}
    response = httpx.post(f"{behind_api_gateway}/v1/chat/completions", headers=headers, json=CHAT)
    assert response.status_code == 401


def test_middleware_in_aws_mode_refuses_requests_that_skipped_the_authorizer(behind_api_gateway, master_key):
    response = httpx.post(
        f"{behind_api_gateway}/v1/chat/completions", headers={"Authorization": f"Bearer {master_key}"}, json=CHAT
    )
    assert response.status_code == 401


@pytest.fixture
def authorizer(stack, master_key, monkeypatch):
    """The Lambda authorizer's entry module, configured like the deployed function."""
    monkeypatch.setenv("LITELLM_BASE_URL", stack.litellm_url)
    monkeypatch.setenv("LITELLM_MASTER_KEY", master_key)
    monkeypatch.setenv("GATEWAY_AUTH_MODE", "inline")
    monkeypatch.delenv("OKTA_ISSUER", raising=False)
    import handler

    from gateway.settings import get_settings

    get_settings.cache_clear()
    handler._authenticator = None
    yield handler
    get_settings.cache_clear()
    handler._authenticator = None


def event(authorization: str | None) -> dict:
    headers = {"Authorization": authorization} if authorization else {}
    return {
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/POST/v1/chat/completions",
        "headers": headers,
    }


def test_authorizer_allows_the_whole_api_for_a_valid_key_with_the_principal_as_context(
    authorizer, master_key, user_key
):
    admin = authorizer.handler(event(f"Bearer {master_key}"), None)
    assert admin["context"]["principal_type"] == "admin"
    statement = admin["policyDocument"]["Statement"][0]
    assert statement["Effect"] == "Allow"
    assert statement["Resource"] == "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/*/*"
    user = authorizer.handler(event(f"Bearer {user_key}"), None)
    assert user["context"]["principal_type"] == "key" and user["context"]["user_id"]
    assert user_key not in json.dumps(user)  # only the salted hash travels


@pytest.mark.parametrize("authorization", [None, "Bearer sk-not-a-key", "Basic x"])
def test_authorizer_answers_unauthorized_for_bad_credentials(authorizer, authorization):
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorizer.handler(event(authorization), None)

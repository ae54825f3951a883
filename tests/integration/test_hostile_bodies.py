"""Bodies and tokens no real client sends: a 400 in the route's own error format, never a 5xx."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from tests.integration.conftest import new_user_key

CHAT_ROUTES = ["/v1/chat/completions", "/bedrock/model/fake/converse", "/bedrock/model/fake/converse-stream"]
HISTORY_ROUTES = ["/chat-history", "/bedrock/chat-history", "/session-ids"]
DEEP = 100_000


@pytest.fixture(scope="module")
def key(gateway_url, master_key) -> str:
    return new_user_key(gateway_url, master_key, "hostile")[1]


def post(gateway_url: str, key: str, path: str, content: bytes) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    return httpx.post(f"{gateway_url}{path}", headers=headers, content=content, timeout=30)


def assert_validation_error(response: httpx.Response, path: str) -> None:
    assert response.status_code == 400, response.text
    if path.startswith("/bedrock/"):
        assert response.headers["x-amzn-errortype"] == "ValidationException"
        assert set(response.json()) == {"message"}
    else:
        assert response.json()["error"]["type"] == "invalid_request_error"


def chat_body(path: str, raw_text: str) -> bytes:
    """A chat body whose text is ``raw_text`` as written in JSON (escapes kept as sent)."""
    if path.startswith("/bedrock/"):
        body = {"messages": [{"role": "user", "content": [{"text": "@TEXT@"}]}]}
    else:
        body = {"model": "fake", "messages": [{"role": "user", "content": "@TEXT@"}]}
    return json.dumps(body).replace("@TEXT@", raw_text).encode()


@pytest.mark.parametrize("path", CHAT_ROUTES + HISTORY_ROUTES)
def test_deeply_nested_json_is_a_400(gateway_url, key, path):
    body = b'{"session_id": "' + b"a" * 32 + b'", "x": ' + b"[" * DEEP + b"]" * DEEP + b"}"
    assert_validation_error(post(gateway_url, key, path, body), path)


@pytest.mark.parametrize("path", CHAT_ROUTES)
def test_a_lone_surrogate_in_a_chat_body_is_a_400_and_starts_no_session(gateway_url, master_key, path):
    key = new_user_key(gateway_url, master_key, "surrogate")[1]
    response = post(gateway_url, key, path, chat_body(path, "hi \\ud800 there"))
    assert_validation_error(response, path)
    assert "x-session-id" not in response.headers
    listed = post(gateway_url, key, "/session-ids", b"{}").json()["session_ids"]
    assert listed == []  # nothing was stored for this user


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


MALFORMED_TOKENS = {
    "garbage": "not-a-token!",
    "deep": b64(b"[" * DEEP),
    "digits-dynamodb-refuses": b64(b'["1_000", "' + b"a" * 32 + b'"]'),
    "huge-number": b64(b'["' + b"9" * 60 + b'", "' + b"a" * 32 + b'"]'),
}


@pytest.mark.parametrize("token", MALFORMED_TOKENS.values(), ids=MALFORMED_TOKENS.keys())
@pytest.mark.parametrize("path", HISTORY_ROUTES)
def test_a_malformed_next_token_is_a_400(gateway_url, key, path, token):
    session_id = httpx.post(
        f"{gateway_url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": "fake", "messages": [{"role": "user", "content": "hello"}]},
        timeout=30,
    ).json()["session_id"]
    body = httpx.Request("POST", "/", json={"session_id": session_id, "next_token": token}).content
    response = post(gateway_url, key, path, body)
    assert_validation_error(response, path)
    assert "next_token" in response.text

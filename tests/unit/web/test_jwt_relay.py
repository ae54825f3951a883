"""A JWT on LiteLLM's relayed inference routes goes upstream as the user's managed key, never as itself."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from starlette.requests import Request

from gateway.identity.principal import Principal
from gateway.web.proxy import is_jwt_relay_path, relay_headers

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln"
MANAGED = "sk-gw-managed"


class Accounts:
    async def managed_key(self, principal: Principal) -> str:
        assert principal.user_id == "alice"
        return MANAGED


def request(path: str, principal: Principal, headers: list[tuple[str, str]]) -> Request:
    app = SimpleNamespace(state=SimpleNamespace(gw=SimpleNamespace(accounts=Accounts())))
    raw = [(k.encode(), v.encode()) for k, v in headers]
    return Request({"type": "http", "method": "POST", "path": path, "headers": raw, "query_string": b"",
                    "app": app, "state": {"principal": principal}})  # fmt: skip


JWT_USER = Principal(type="jwt", user_id="alice", key_hash="h")
KEY_USER = Principal(type="key", user_id="bob", key_hash="h")


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/messages/count_tokens", "/v1/responses/resp_1", "/responses",
                                  "/v1/embeddings", "/embeddings", "/v1/models", "/models/fake"])  # fmt: skip
@pytest.mark.parametrize("header", ["authorization", "x-api-key"])
def test_a_jwt_is_swapped_for_the_managed_key(path: str, header: str) -> None:
    value = f"Bearer {JWT}" if header == "authorization" else JWT
    sent = asyncio.run(relay_headers(request(path, JWT_USER, [(header, value), ("anthropic-version", "2023-06-01")])))
    assert ("authorization", f"Bearer {MANAGED}") in sent
    assert ("anthropic-version", "2023-06-01") in sent
    assert not [v for _, v in sent if JWT in v]


@pytest.mark.parametrize("path", ["/user/info", "/v1/chat/completion", "/v1/messagesX", "/v1/models/../../user/info",
                                  "/v1/models/./x", "/spend/logs"])  # fmt: skip
def test_other_paths_and_dot_segments_keep_the_request_as_sent(path: str) -> None:
    assert not is_jwt_relay_path(path)
    sent = asyncio.run(relay_headers(request(path, JWT_USER, [("authorization", f"Bearer {JWT}")])))
    assert sent == [("authorization", f"Bearer {JWT}")]


def test_a_key_is_relayed_as_sent() -> None:
    sent = asyncio.run(relay_headers(request("/v1/messages", KEY_USER, [("x-api-key", "sk-bob")])))
    assert sent == [("x-api-key", "sk-bob")]

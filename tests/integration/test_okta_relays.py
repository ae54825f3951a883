"""Okta JWTs on LiteLLM's other inference routes (relayed by the middleware) and on the Bedrock discovery
and CountTokens routes: the JWT is swapped for the user's managed key, so LiteLLM serves the person and
charges them. Before, these routes were relayed with the JWT itself, which LiteLLM refuses (401).

A local OIDC issuer stands in for Okta; LiteLLM (master key, its own port) is the ground truth for spend.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest

from devstack.processes import free_port
from devstack.stack import LocalStack
from tests.integration.bedrock_clients import bearer_client, control_client
from tests.integration.test_okta import OKTA_DEFAULTS, managed_key_row, poll, spend_logs_of
from tests.support.oidc_issuer import OidcIssuer


@pytest.fixture(scope="module")
def url(stack: LocalStack, idp: OidcIssuer) -> str:
    env = {"OKTA_ISSUER": idp.issuer, **OKTA_DEFAULTS, "BEDROCK_MODEL_ALIASES": json.dumps({"*claude-*": "mock-gpt"})}
    return stack.start_middleware("middleware-okta-relays", free_port(), env_overrides=env)


@pytest.fixture(scope="module")
def litellm(stack: LocalStack, master_key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.litellm_url, headers={"Authorization": f"Bearer {master_key}"}) as client:
        yield client


@pytest.fixture
def person(idp: OidcIssuer) -> tuple[str, str]:
    """(sub, JWT) of a new Okta user."""
    sub = f"relay+{secrets.token_hex(4)}@example.com"
    return sub, idp.mint(idp.claims(sub=sub))


def charged_routes(litellm: httpx.Client, sub: str, expected: int) -> list[dict[str, Any]]:
    """LiteLLM's spend log rows of ``sub``, all made with their managed key (waits for the batch writer)."""
    managed = managed_key_row(litellm, sub)["token"]
    rows = poll(lambda: [r for r in spend_logs_of(litellm, sub) if r["api_key"] == managed][:expected] or None)
    assert rows and all(r["user"] == sub for r in rows)
    return rows


def test_a_jwt_lists_models(url, person):
    _, token = person
    response = httpx.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code == 200, response.text
    assert {"fake", "mock-gpt"} <= {m["id"] for m in response.json()["data"]}
    bare = httpx.get(f"{url}/models", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert bare.status_code == 200, bare.text


def test_a_jwt_on_the_anthropic_messages_api_is_charged_to_the_user(url, person, litellm, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    sub, token = person
    client = anthropic.Anthropic(api_key=token, base_url=url, max_retries=0)
    # fake-chat (the fake upstream through LiteLLM's chat completions), not LiteLLM's mock: after a streamed
    # /v1/messages call to the mock, LiteLLM 1.108.7 logs no spend for the mock's /v1/messages calls any more
    message = client.messages.create(model="fake-chat", max_tokens=64, messages=[{"role": "user", "content": "hi"}])
    assert message.content[0].text == "Echo: hi"
    with client.messages.stream(
        model="fake-chat", max_tokens=64, messages=[{"role": "user", "content": "more"}]
    ) as stream:
        assert stream.get_final_text() == "Echo: more"
    charged_routes(litellm, sub, 2)


def test_a_jwt_on_embeddings_is_charged_to_the_user(url, person, litellm):
    sub, token = person
    client = openai.OpenAI(api_key=token, base_url=f"{url}/v1", max_retries=0)
    embedding = client.embeddings.create(model="mock-embed", input="hello")
    assert embedding.data[0].embedding == [0.25, 0.5, 0.75]
    bare = httpx.post(f"{url}/embeddings", headers={"Authorization": f"Bearer {token}"},
                      json={"model": "mock-embed", "input": "again"}, timeout=30)  # fmt: skip
    assert bare.status_code == 200, bare.text
    assert any("embedding" in r["call_type"] for r in charged_routes(litellm, sub, 2))


def test_a_jwt_on_the_responses_api(url, person, litellm):
    sub, token = person
    client = openai.OpenAI(api_key=token, base_url=f"{url}/v1", max_retries=0)
    response = client.responses.create(model="mock-gpt", input="hi")
    assert response.output_text == "Hello from the mock."
    charged_routes(litellm, sub, 1)


def test_a_jwt_on_bedrock_discovery_and_count_tokens(url, person):
    _, token = person
    profiles = control_client(url, token).list_inference_profiles(typeEquals="SYSTEM_DEFINED")
    listed = [p["inferenceProfileId"] for p in profiles["inferenceProfileSummaries"]]
    assert "us.anthropic.claude-sonnet-4-5-20250929-v1:0" in listed
    body = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10,
                       "messages": [{"role": "user", "content": "count me"}]}).encode()  # fmt: skip
    counted = bearer_client(url, token).count_tokens(
        modelId="us.anthropic.claude-sonnet-4-5-20250929-v1:0", input={"invokeModel": {"body": body}}
    )
    assert counted["inputTokens"] > 0


def test_a_jwt_is_not_swapped_on_other_relayed_routes(url, person):
    """Only the inference routes act through the managed key; LiteLLM's admin routes still refuse a JWT."""
    _, token = person
    response = httpx.get(f"{url}/user/info", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code in (401, 403)
    climbing = httpx.get(f"{url}/v1/models/%2E%2E/%2E%2E/user/info", headers={"Authorization": f"Bearer {token}"})
    assert climbing.status_code in (401, 403, 404)

"""Every other LiteLLM route goes through the middleware unchanged (method, query, body, status)."""

from __future__ import annotations

import httpx
import openai


def test_models_list_is_proxied(gateway_url, master_key):
    models = openai.OpenAI(base_url=f"{gateway_url}/v1", api_key=master_key).models.list()
    assert {"fake", "mock-gpt"} <= {m.id for m in models}


def test_new_user_created_with_master_key_gets_a_key_that_works(gateway_url, master_key):
    auth = {"Authorization": f"Bearer {master_key}"}
    created = httpx.post(f"{gateway_url}/user/new", headers=auth, json={"user_id": "bob-proxy-test"})
    assert created.status_code == 200, created.text
    key = created.json()["key"]
    info = httpx.get(f"{gateway_url}/user/info", params={"user_id": "bob-proxy-test"}, headers=auth)
    assert info.status_code == 200
    assert info.json()["user_id"] == "bob-proxy-test"
    reply = openai.OpenAI(base_url=f"{gateway_url}/v1", api_key=key).chat.completions.create(
        model="fake", messages=[{"role": "user", "content": "bob here"}]
    )
    assert reply.choices[0].message.content == "Echo: bob here"


def test_litellm_errors_keep_their_status(gateway_url, master_key):
    response = httpx.get(
        f"{gateway_url}/key/info",
        params={"key": "sk-does-not-exist"},
        headers={"Authorization": f"Bearer {master_key}"},
    )
    assert response.status_code == 404


def test_proxied_routes_require_credentials_too(gateway_url):
    assert httpx.get(f"{gateway_url}/v1/models").status_code == 401
    assert httpx.get(f"{gateway_url}/key/list").status_code == 401

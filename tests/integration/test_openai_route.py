"""The OpenAI interface through the middleware, driven with the real `openai` SDK and httpx."""

from __future__ import annotations

import time

import httpx
import openai
import pytest


def client(gateway_url: str, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway_url}/v1", api_key=key, max_retries=0)


def test_sync_chat_completion_with_master_key(gateway_url, master_key):
    reply = client(gateway_url, master_key).chat.completions.create(
        model="fake", messages=[{"role": "user", "content": "hello there"}]
    )
    assert reply.choices[0].message.content == "Echo: hello there"
    assert reply.usage.total_tokens > 0


def test_sync_chat_completion_with_a_users_virtual_key(gateway_url, user_key):
    reply = client(gateway_url, user_key).chat.completions.create(
        model="fake", messages=[{"role": "user", "content": "from alice"}]
    )
    assert reply.choices[0].message.content == "Echo: from alice"


def test_unversioned_path_serves_the_same_route(gateway_url, master_key):
    openai_client = openai.OpenAI(base_url=gateway_url, api_key=master_key, max_retries=0)
    reply = openai_client.chat.completions.create(model="fake", messages=[{"role": "user", "content": "alias"}])
    assert reply.choices[0].message.content == "Echo: alias"


def test_stream_delivers_chunks_as_they_are_produced(gateway_url, master_key):
    stream = client(gateway_url, master_key).chat.completions.create(
        model="fake", messages=[{"role": "user", "content": "__drip__ one two three four"}], stream=True
    )
    arrivals, text = [], ""
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append(time.monotonic())
            text += chunk.choices[0].delta.content
    assert text == "Echo: __drip__ one two three four"
    # the upstream waits 0.3 s before each word: buffering would deliver them all at once
    assert arrivals[-1] - arrivals[0] > 0.6


def test_stream_reports_usage_when_asked(gateway_url, master_key):
    stream = client(gateway_url, master_key).chat.completions.create(
        model="fake",
        messages=[{"role": "user", "content": "count me"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    usage = [c.usage for c in stream if c.usage]
    assert usage and usage[-1].completion_tokens > 0


def test_upstream_rate_limit_reaches_the_client_as_429(gateway_url, master_key):
    with pytest.raises(openai.RateLimitError):
        client(gateway_url, master_key).chat.completions.create(
            model="fake", messages=[{"role": "user", "content": "__status_429__"}]
        )


def test_unknown_model_is_a_client_error(gateway_url, master_key):
    with pytest.raises(openai.BadRequestError):
        client(gateway_url, master_key).chat.completions.create(
            model="no-such-model", messages=[{"role": "user", "content": "hi"}]
        )


def test_malformed_json_is_a_400_in_openai_format(gateway_url, master_key):
    response = httpx.post(
        f"{gateway_url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {master_key}", "content-type": "application/json"},
        content=b'{"model": "fake", "messages": [',
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert "not valid JSON" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer sk-not-a-key"},
    ],
    ids=["missing", "wrong-scheme", "empty-bearer", "unknown-key"],
)
def test_bad_credentials_get_401_before_any_model_call(gateway_url, headers):
    response = httpx.post(
        f"{gateway_url}/v1/chat/completions",
        headers=headers,
        json={"model": "fake", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"
    assert response.json()["error"]["message"]

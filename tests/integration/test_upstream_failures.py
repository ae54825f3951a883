"""LiteLLM down or too slow: each route answers in its own error format, streams end with an error
event/frame instead of hanging, and no stack trace reaches the client."""

from __future__ import annotations

import httpx
import openai
import pytest
from botocore.exceptions import ClientError, EventStreamError

from devstack.processes import free_port
from tests.integration.bedrock_clients import bearer_client


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": [{"text": text}]}]


@pytest.fixture(scope="module")
def litellm_down(stack) -> str:
    """A middleware whose LiteLLM address has nothing listening."""
    return stack.start_middleware(
        "middleware-litellm-down",
        free_port(),
        env_overrides={"LITELLM_BASE_URL": f"http://127.0.0.1:{free_port()}", "HISTORY_ENABLED": "false"},
    )


@pytest.fixture(scope="module")
def impatient(stack) -> str:
    """A middleware that waits at most 0.5 s between bytes from LiteLLM."""
    return stack.start_middleware(
        "middleware-impatient", free_port(), env_overrides={"UPSTREAM_READ_TIMEOUT_SECONDS": "0.5"}
    )


def test_litellm_down_is_a_502_in_openai_format(litellm_down, master_key):
    response = httpx.post(
        f"{litellm_down}/v1/chat/completions",
        headers={"Authorization": f"Bearer {master_key}"},
        json={"model": "fake", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "upstream_unreachable" and "unreachable" in error["message"]
    assert "Traceback" not in response.text


def test_litellm_down_on_converse_is_service_unavailable(litellm_down, master_key):
    with pytest.raises(ClientError) as raised:
        bearer_client(litellm_down, master_key).converse(modelId="fake", messages=user("hi"))
    assert raised.value.response["Error"]["Code"] == "ServiceUnavailableException"


def test_litellm_down_on_proxied_routes_is_a_502(litellm_down, master_key):
    response = httpx.get(f"{litellm_down}/v1/models", headers={"Authorization": f"Bearer {master_key}"})
    assert response.status_code == 502
    assert response.json()["error"]["type"] == "api_error"


def test_slow_answer_is_a_504_timeout_in_openai_format(impatient, master_key):
    client = openai.OpenAI(base_url=f"{impatient}/v1", api_key=master_key, max_retries=0)
    with pytest.raises(openai.APIStatusError) as raised:
        client.chat.completions.create(model="fake", messages=[{"role": "user", "content": "__sleep_2__"}])
    assert raised.value.status_code == 504
    assert raised.value.body["code"] == "upstream_timeout"


def test_slow_answer_on_converse_is_a_model_timeout(impatient, master_key):
    with pytest.raises(ClientError) as raised:
        bearer_client(impatient, master_key).converse(modelId="fake", messages=user("__sleep_2__"))
    assert raised.value.response["Error"]["Code"] == "ModelTimeoutException"


def test_stream_that_stalls_midway_ends_with_an_exception_frame(impatient, master_key):
    response = bearer_client(impatient, master_key).converse_stream(modelId="fake", messages=user("__drip_2__ one two"))
    seen = []
    with pytest.raises(EventStreamError) as raised:
        for event in response["stream"]:
            seen.append(next(iter(event)))
    assert seen[0] == "messageStart"  # the stream had started before it stalled
    assert raised.value.response["Error"]["Code"] == "modelStreamErrorException"


def test_openai_stream_that_stalls_midway_ends_with_an_error_event(impatient, master_key):
    with httpx.stream(
        "POST",
        f"{impatient}/v1/chat/completions",
        headers={"Authorization": f"Bearer {master_key}"},
        json={"model": "fake", "stream": True, "messages": [{"role": "user", "content": "__drip_2__ one two"}]},
        timeout=30,
    ) as response:
        events = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert response.status_code == 200
    assert '"upstream_timeout"' in events[-1] or "stalled" in events[-1]


def test_upstream_connections_are_pooled_and_reused(stack, fake_upstream, master_key):
    """A warm function keeps its keep-alive connections: 30 calls must not open 30 connections."""
    upstream = fake_upstream.removesuffix("/v1")
    direct = stack.start_middleware(
        "middleware-direct", free_port(), env_overrides={"LITELLM_BASE_URL": upstream, "HISTORY_ENABLED": "false"}
    )
    before = httpx.get(f"{upstream}/_fake/connections").json()["connections"]
    with httpx.Client(base_url=direct, headers={"Authorization": f"Bearer {master_key}"}) as client:
        for i in range(30):
            body = {"model": "fake", "messages": [{"role": "user", "content": f"call {i}"}], "stream": i % 2 == 0}
            assert client.post("/v1/chat/completions", json=body).status_code == 200
    opened = httpx.get(f"{upstream}/_fake/connections").json()["connections"] - before
    assert 1 <= opened <= 2

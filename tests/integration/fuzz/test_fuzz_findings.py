"""Regression tests for what the fuzzer found on routes the gateway serves itself."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("path", ["/user/new", "/key/generate"])
@pytest.mark.parametrize(
    "body",
    [b"&y\x9e\xeb6", b"[]", b'{"max_budget": "not a number"}'],
    ids=["not-json", "json-array", "litellm-validation"],
)
def test_account_routes_answer_litellm_refusals_as_openai_errors(gateway_url, master_key, path, body):
    """LiteLLM answers these in FastAPI's format ({"detail": ...}) or, for a JSON array, with a 500;
    the gateway's routes answer 400 in OpenAI's format."""
    response = httpx.post(
        f"{gateway_url}{path}",
        content=body,
        headers={"Authorization": f"Bearer {master_key}", "Content-Type": "application/json"},
        timeout=30,
    )

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert {"message", "type", "code"} <= error.keys()
    assert error["type"] == "invalid_request_error"


@pytest.mark.parametrize("suffix", ["converse", "converse-stream"])
def test_a_model_id_no_route_matches_is_a_bedrock_not_found(gateway_url, master_key, suffix):
    """A modelId with a newline matched no route: Starlette's plain-text 404, no x-amzn-errortype."""
    response = httpx.post(
        f"{gateway_url}/bedrock/model/a%0Ab/{suffix}",
        json={"messages": [{"role": "user", "content": [{"text": "hi"}]}]},
        headers={"Authorization": f"Bearer {master_key}"},
        timeout=30,
    )

    assert response.status_code == 404
    assert response.headers["x-amzn-errortype"] == "ResourceNotFoundException"
    assert response.json() == {"message": "Not Found"}


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/chat/completions"])
@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("us.fake.model-v1:0", {"role": "user", "content": [{"type": "image_url"}]}),
        ("mock-gpt", {"role": "user", "name": "no content"}),
        ("mock-gpt", {"content": "no role"}),
    ],
    ids=["image-part-without-url", "user-without-content", "no-role"],
)
def test_malformed_messages_are_client_errors(gateway_url, master_key, path, model, message):
    """LiteLLM answered these with a 500 (a KeyError in its provider code); OpenAI's API answers 400."""
    response = httpx.post(
        f"{gateway_url}{path}",
        json={"model": model, "messages": [message]},
        headers={"Authorization": f"Bearer {master_key}"},
        timeout=30,
    )

    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "messages"

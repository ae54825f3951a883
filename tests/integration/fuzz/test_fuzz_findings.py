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

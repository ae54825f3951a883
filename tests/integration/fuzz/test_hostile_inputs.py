"""Inputs a schema-guided generator rarely produces, sent to every POST route the gateway serves.

Schemathesis draws from the OpenAPI document, so it seldom builds a JSON body 100 000 levels deep,
a lone UTF-16 surrogate, or a pagination cursor that decodes but is not one the gateway wrote.
These fixed, hostile inputs cover those classes on every route; the expectations are the fuzzer's:
no 5xx, and the error in the route family's format.
"""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from gateway.web.openapi import openapi_document
from tests.integration.fuzz.test_fuzz_routes import error_format_problems

pytestmark = pytest.mark.integration

POST_PATHS = sorted(
    path.replace("{modelId}", "mock-gpt") for path, item in openapi_document()["paths"].items() if "post" in item
)
DEPTH = 100_000
DEEP = b'{"a":' * DEPTH + b"1" + b"}" * DEPTH
DEEP_LIST = b"[" * DEPTH + b"]" * DEPTH


def _cursor(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _bodies(path: str) -> dict[str, bytes]:
    """Hostile bodies for one route: shared ones, plus ones shaped like the route's own requests."""
    bodies = {"deep-object": DEEP, "deep-list": DEEP_LIST, "lone-surrogate": b'{"session_id": "\\ud800"}'}
    if path.endswith("/chat/completions"):
        bodies["chat-lone-surrogate"] = b'{"model":"mock-gpt","messages":[{"role":"user","content":"\\ud800"}]}'
        bodies["chat-deep-content"] = b'{"model":"mock-gpt","messages":[{"role":"user","content":' + DEEP + b"}]}"
    elif path.endswith(("/converse", "/converse-stream")):
        bodies["converse-lone-surrogate"] = b'{"messages":[{"role":"user","content":[{"text":"\\udfff"}]}]}'
        bodies["converse-deep-input"] = (
            b'{"messages":[{"role":"assistant","content":[{"toolUse":{"toolUseId":"t","name":"n","input":'
            + DEEP
            + b"}}]}]}"
        )
    elif path == "/session-ids":
        session = "0" * 32
        cursors = {
            "not-base64": "%%%",
            "not-json": base64.urlsafe_b64encode(b"\xff\xfe").decode(),
            "wrong-shape": _cursor({"a": 1}),
            "huge-number": _cursor(["9" * 60, session]),
            "padded-number": _cursor([" 7", session]),
            "underscore-number": _cursor(["1_000", session]),
            "non-ascii-digits": _cursor(["\u0663", session]),
            "negative-number": _cursor(["-5", session]),
            "deep": base64.urlsafe_b64encode(DEEP_LIST).decode(),
        }
        bodies |= {f"cursor-{name}": json.dumps({"next_token": c}).encode() for name, c in cursors.items()}
    return bodies


CASES = [(path, name, body) for path in POST_PATHS for name, body in _bodies(path).items()]


@pytest.fixture(scope="module")
def client(gateway_url, master_key):
    headers = {"Authorization": f"Bearer {master_key}", "Content-Type": "application/json"}
    with httpx.Client(base_url=gateway_url, headers=headers, timeout=60) as c:
        yield c


@pytest.mark.parametrize(("path", "name", "body"), CASES, ids=[f"{p}-{n}" for p, n, _ in CASES])
def test_hostile_body_is_refused_in_the_route_format(client, path, name, body):
    response = client.post(path, content=body)

    assert response.status_code < 500, f"{path} {name}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400:
        assert error_format_problems(path, response.headers.get("x-amzn-errortype", ""), response.content) == []

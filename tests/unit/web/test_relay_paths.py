"""Relayed paths reach LiteLLM as the client encoded them; a path that cannot be relayed is a 400."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.requests import Request

from gateway.errors import ErrorKind, GatewayError
from gateway.upstream import LiteLLMClient
from gateway.web.proxy import wire_path


def _request(raw_path: bytes) -> Request:
    return Request({"type": "http", "method": "GET", "path": raw_path.decode("latin-1"), "raw_path": raw_path,
                    "query_string": b"", "headers": []})  # fmt: skip


def test_an_encoded_slash_stays_inside_its_segment():
    raw = b"/bedrock/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Aprompt%2FP1%3A1/invoke"
    assert wire_path(_request(raw)) == raw.decode()


def test_control_and_non_ascii_bytes_are_percent_encoded():
    """The fuzzer sent /key/%0F.../regenerate; the decoded path made httpx raise (a 500)."""
    assert wire_path(_request(b"/key/\x0f\xc3\xaf x/regenerate")) == "/key/%0F%C3%AF%20x/regenerate"


def test_a_path_httpx_refuses_is_a_validation_error_not_a_crash():
    seen: list[httpx.Request] = []
    client = LiteLLMClient("http://litellm.invalid", transport=httpx.MockTransport(seen.append))
    with pytest.raises(GatewayError) as refused:
        asyncio.run(client.send("GET", "/key/\x0f/info"))
    assert refused.value.kind is ErrorKind.VALIDATION
    assert not seen  # nothing was sent

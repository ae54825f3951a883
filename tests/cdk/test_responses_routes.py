"""The Responses API and conversation routes reach the middleware (streaming), behind the authorizer,
found the way API Gateway matches a request against the synthesized resources."""

from __future__ import annotations

import json

import pytest

from .conftest import Synthesized
from .test_api import _assert_streams_from_the_api_function
from .test_prompt_arn_routing import _route

RESP = "resp_" + "0123456789abcdef" * 3
CONV = "conv_" + "0123456789abcdef" * 2
REQUESTS = [
    ("POST", "/v1/responses"),
    ("GET", f"/v1/responses/{RESP}"),
    ("DELETE", f"/v1/responses/{RESP}"),
    ("GET", f"/v1/responses/{RESP}/input_items"),
    ("POST", f"/v1/responses/{RESP}/cancel"),  # LiteLLM's, relayed by the middleware
    ("POST", "/v1/conversations"),
    ("GET", f"/v1/conversations/{CONV}"),
    ("GET", f"/v1/conversations/{CONV}/items"),
    ("POST", f"/v1/conversations/{CONV}/items"),
]


@pytest.mark.parametrize(("verb", "path"), REQUESTS, ids=[f"{v} {p.split('_')[0]}" for v, p in REQUESTS])
def test_responses_routes_stream_from_the_middleware_behind_the_authorizer(
    synth: Synthesized, verb: str, path: str
) -> None:
    resource, method = _route(synth, path.strip("/").split("/"), verb)
    assert resource.startswith(("/v1/responses", "/v1/conversations")), resource
    _assert_streams_from_the_api_function(method["Integration"], (verb, path))
    assert method["AuthorizationType"] == "CUSTOM" and "Ref" in method["AuthorizerId"]


def test_other_v1_routes_still_go_to_litellm(synth: Synthesized) -> None:
    resource, method = _route(synth, ["v1", "completions"], "POST")
    assert resource == "/v1/{proxy+}"
    assert method["Integration"]["Type"] == "HTTP_PROXY"
    assert "FunctionsApi" not in json.dumps(method["Integration"])

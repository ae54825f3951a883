"""The InvokeModel routes in the CDK app: explicit streaming methods on the API function behind the
authorizer, reached by the paths boto3 and the Anthropic SDKs (Claude Code) send for a Bedrock model id."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import botocore.session
import pytest
from botocore.serialize import create_serializer

from gateway_cdk.api import GATEWAY_ROUTES

from .conftest import Synthesized
from .test_api import _assert_streams_from_the_api_function, _methods
from .test_prompt_arn_routing import _route

CLAUDE_ID = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
INVOKE_ROUTES = [
    ("POST", "/bedrock/model/{modelId}/invoke"),
    ("POST", "/bedrock/model/{modelId}/invoke-with-response-stream"),
]


def _boto3_path(operation: str, model_id: str) -> str:
    model = botocore.session.get_session().get_service_model("bedrock-runtime")
    request = create_serializer("rest-json").serialize_to_request(
        {"modelId": model_id, "body": b"{}"}, model.operation_model(operation)
    )
    return "/bedrock" + request["url_path"]


def _sdk_path(suffix: str, model_id: str) -> str:
    """How ``AnthropicBedrock`` (and Claude Code, built on the same SDK) writes the path."""
    return f"/bedrock/model/{quote(model_id, safe=':;')}/{suffix}"


def test_both_routes_are_gateway_routes():
    assert set(INVOKE_ROUTES) <= set(GATEWAY_ROUTES)


@pytest.mark.parametrize("route", INVOKE_ROUTES, ids=lambda r: r[1].rsplit("/", 1)[1])
def test_each_route_streams_from_the_api_function_behind_the_authorizer(synth: Synthesized, route) -> None:
    method = _methods(synth)[route]
    _assert_streams_from_the_api_function(method["Integration"], route)
    assert method["AuthorizationType"] == "CUSTOM" and "Ref" in method["AuthorizerId"]
    assert method["RequestParameters"] == {"method.request.path.modelId": True}


@pytest.mark.parametrize(
    "path",
    [
        _boto3_path("InvokeModel", CLAUDE_ID),
        _boto3_path("InvokeModelWithResponseStream", CLAUDE_ID),
        _sdk_path("invoke", CLAUDE_ID),
        _sdk_path("invoke-with-response-stream", CLAUDE_ID + "[1m]"),
        _sdk_path("invoke", "mock-gpt"),
    ],
)
def test_client_paths_reach_the_invoke_methods(synth: Synthesized, path: str) -> None:
    suffix = path.rsplit("/", 1)[1]
    resource, method = _route(synth, path.strip("/").split("/"), "POST")
    assert resource == f"/bedrock/model/{{modelId}}/{suffix}"
    integration: dict[str, Any] = method["Integration"]
    assert integration["ResponseTransferMode"] == "STREAM" and "FunctionsApi" in json.dumps(integration["Uri"])


def test_other_operations_under_a_model_still_reach_the_middleware(synth: Synthesized) -> None:
    """``/bedrock/model/{modelId}/{proxy+}`` goes to the middleware, not the ALB."""
    resource, method = _route(synth, ["bedrock", "model", CLAUDE_ID, "some-other-operation"], "POST")
    assert resource == "/bedrock/model/{modelId}/{proxy+}"
    assert "FunctionsApi" in json.dumps(method["Integration"]["Uri"])

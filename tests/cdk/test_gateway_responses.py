"""API Gateway's own answers, as the synthesized template defines them, parsed by the real clients.

API Gateway itself is the one thing replaced: a loopback server replays each ``AWS::ApiGateway::
GatewayResponse`` of the template (status, headers, and the ``application/json`` template rendered with
API Gateway's message for ``$context.error.messageString``). The real boto3 ``bedrock-runtime`` client and the
real OpenAI SDK call it, and must see a named error with the message.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import boto3
import openai
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.support.loopback_server import LoopbackServer

from .conftest import Synthesized

#: response type -> (status a client sees, API Gateway's message, x-amzn-errortype, OpenAI SDK exception)
EXPECTED: dict[str, tuple[int, str, str, type[openai.APIStatusError]]] = {
    "UNAUTHORIZED": (401, "Unauthorized", "AccessDeniedException", openai.AuthenticationError),
    "ACCESS_DENIED": (
        403,
        "User is not authorized to access this resource with an explicit deny",
        "AccessDeniedException",
        openai.PermissionDeniedError,
    ),
    "AUTHORIZER_FAILURE": (500, "Internal server error", "InternalServerException", openai.InternalServerError),
    "AUTHORIZER_CONFIGURATION_ERROR": (
        500,
        "Internal server error",
        "InternalServerException",
        openai.InternalServerError,
    ),
    "WAF_FILTERED": (403, "Forbidden", "AccessDeniedException", openai.PermissionDeniedError),
    "THROTTLED": (429, "Too Many Requests", "ThrottlingException", openai.RateLimitError),
    "INTEGRATION_TIMEOUT": (504, "Endpoint request timed out", "ModelTimeoutException", openai.InternalServerError),
    "BAD_REQUEST_BODY": (400, "Invalid request body", "ValidationException", openai.BadRequestError),
    "MISSING_AUTHENTICATION_TOKEN": (
        404,
        "Missing Authentication Token",
        "ResourceNotFoundException",
        openai.NotFoundError,
    ),
    "DEFAULT_4XX": (400, "Bad Request", "ValidationException", openai.BadRequestError),
    "DEFAULT_5XX": (502, "Bad Gateway", "InternalServerException", openai.InternalServerError),
}


#: API Gateway's default template for its own answers.
BARE = '{"message":$context.error.messageString}'


def _responses(synth: Synthesized) -> dict[str, dict[str, Any]]:
    found = {}
    for resource in synth.resources("AWS::ApiGateway::GatewayResponse").values():
        props = resource["Properties"]
        found[props["ResponseType"]] = props
    return found


def test_every_answer_of_the_issue_has_a_json_body_and_an_error_type(synth: Synthesized) -> None:
    responses = _responses(synth)
    assert set(EXPECTED) <= set(responses)
    for response_type, props in responses.items():
        header = props["ResponseParameters"]["gatewayresponse.header.x-amzn-errortype"]
        assert header.startswith("'") and header.endswith("Exception'"), response_type
        template = props["ResponseTemplates"]["application/json"]
        rendered = json.loads(template.replace("$context.error.messageString", '"m"'))
        assert rendered["message"] == rendered["error"]["message"] == "m", response_type
        assert rendered["error"]["type"] and rendered["error"]["code"], response_type


@pytest.fixture(scope="module")
def api_gateway_stand_in(synth: Synthesized) -> Iterator[int]:
    """Replays the template's gateway responses: ``/<RESPONSE_TYPE>/...`` answers as that response would."""
    responses = _responses(synth)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            response_type = self.path.strip("/").split("/")[0]
            status, message, _, _ = EXPECTED[response_type]
            # A type the template leaves out gets API Gateway's bare default answer.
            props = responses.get(response_type, {"ResponseTemplates": {"application/json": BARE}})
            assert int(props.get("StatusCode", status)) == status
            body = props["ResponseTemplates"]["application/json"].replace(
                "$context.error.messageString", json.dumps(message)
            )
            self.send_response(status)
            self.send_header("content-type", "application/json")
            for name, value in props.get("ResponseParameters", {}).items():
                self.send_header(name.removeprefix("gatewayresponse.header."), value.strip("'"))
            self.send_header("content-length", str(len(body.encode())))
            self.end_headers()
            self.wfile.write(body.encode())

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = LoopbackServer("api-gateway-stand-in")
    server.start(Handler)
    yield server.port
    server.stop()


@pytest.mark.parametrize("response_type", sorted(EXPECTED))
def test_boto3_raises_client_error_with_the_bedrock_error_name(api_gateway_stand_in: int, response_type: str) -> None:
    status, message, error_type, _ = EXPECTED[response_type]
    client = boto3.client(
        "bedrock-runtime",
        endpoint_url=f"http://127.0.0.1:{api_gateway_stand_in}/{response_type}",
        region_name="us-east-1",
        aws_access_key_id="unused",
        aws_secret_access_key="unused",
        config=Config(retries={"total_max_attempts": 1}),
    )
    with pytest.raises(ClientError) as raised:
        client.converse(modelId="any-model", messages=[{"role": "user", "content": [{"text": "hi"}]}])
    error = raised.value.response
    assert error["Error"]["Code"] == error_type
    assert error["Error"]["Message"] == message
    assert error["ResponseMetadata"]["HTTPStatusCode"] == status


@pytest.mark.parametrize("response_type", sorted(EXPECTED))
def test_openai_sdk_raises_its_status_error_with_the_message(api_gateway_stand_in: int, response_type: str) -> None:
    status, message, _, exception = EXPECTED[response_type]
    client = openai.OpenAI(
        base_url=f"http://127.0.0.1:{api_gateway_stand_in}/{response_type}/v1", api_key="unused", max_retries=0
    )
    with pytest.raises(exception) as raised:
        client.chat.completions.create(model="any-model", messages=[{"role": "user", "content": "hi"}])
    assert raised.value.status_code == status
    assert isinstance(raised.value.body, dict) and raised.value.body["message"] == message
    assert message in str(raised.value)
    assert raised.value.type and raised.value.code

"""API Gateway's own answers (no token, denied, authorizer failure, WAF block, throttling, timeouts, …) in a
shape both kinds of client parse.

Without these, API Gateway answers ``{"message": "Unauthorized"}`` with no error type: the OpenAI SDK finds no
``error`` object and boto3 finds no ``x-amzn-errortype``, so a Bedrock client sees an unnamed error. Each
gateway response here sets:

* body ``{"message": …, "error": {"message": …, "type": …, "code": …}}`` — ``message`` for botocore's
  rest-json parser, ``error`` for OpenAI clients;
* header ``x-amzn-errortype: <Bedrock error name>`` — the code botocore's rest-json parser reads first.

``$context.error.messageString`` is API Gateway's own message as a quoted JSON string
(https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-gatewayResponse-definition.html,
https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aws_cdk import aws_apigateway as apigw

MESSAGE = "$context.error.messageString"
ERROR_TYPE_HEADER = "x-amzn-errortype"


@dataclass(frozen=True)
class GatewayAnswer:
    """One gateway response: the status, the OpenAI error ``type``/``code`` and the Bedrock error name."""

    response_type: str
    status: int | None  # None: keep the status of the error that fell through to the default response
    openai_type: str
    code: str
    bedrock_error: str

    def template(self) -> str:
        """The ``application/json`` response template (velocity: only ``$context.error.messageString``)."""
        error = {"message": "@M", "type": self.openai_type, "code": self.code}
        body = json.dumps({"message": "@M", "error": error}, separators=(",", ":"))
        return body.replace('"@M"', MESSAGE)


#: Every response type API Gateway documents, so none of its answers is bare. Statuses are API Gateway's
#: defaults except MISSING_AUTHENTICATION_TOKEN, which (without IAM auth) means "no such route": a 404.
ANSWERS: tuple[GatewayAnswer, ...] = (
    GatewayAnswer("UNAUTHORIZED", 401, "authentication_error", "invalid_api_key", "AccessDeniedException"),
    GatewayAnswer("ACCESS_DENIED", 403, "permission_error", "access_denied", "AccessDeniedException"),
    GatewayAnswer("AUTHORIZER_FAILURE", 500, "api_error", "authorizer_failure", "InternalServerException"),
    GatewayAnswer(
        "AUTHORIZER_CONFIGURATION_ERROR", 500, "api_error", "authorizer_configuration_error", "InternalServerException"
    ),
    GatewayAnswer("WAF_FILTERED", 403, "permission_error", "request_blocked", "AccessDeniedException"),
    GatewayAnswer("THROTTLED", 429, "rate_limit_error", "rate_limit_exceeded", "ThrottlingException"),
    GatewayAnswer("QUOTA_EXCEEDED", 429, "rate_limit_error", "quota_exceeded", "ThrottlingException"),
    GatewayAnswer("INTEGRATION_TIMEOUT", 504, "timeout_error", "timeout", "ModelTimeoutException"),
    GatewayAnswer("INTEGRATION_FAILURE", 504, "api_error", "upstream_unavailable", "ServiceUnavailableException"),
    GatewayAnswer("BAD_REQUEST_BODY", 400, "invalid_request_error", "invalid_body", "ValidationException"),
    GatewayAnswer("BAD_REQUEST_PARAMETERS", 400, "invalid_request_error", "invalid_parameters", "ValidationException"),
    GatewayAnswer("REQUEST_TOO_LARGE", 413, "invalid_request_error", "request_too_large", "ValidationException"),
    GatewayAnswer("UNSUPPORTED_MEDIA_TYPE", 415, "invalid_request_error", "unsupported_type", "ValidationException"),
    GatewayAnswer("RESOURCE_NOT_FOUND", 404, "not_found_error", "not_found", "ResourceNotFoundException"),
    GatewayAnswer("MISSING_AUTHENTICATION_TOKEN", 404, "not_found_error", "not_found", "ResourceNotFoundException"),
    GatewayAnswer("EXPIRED_TOKEN", 403, "authentication_error", "expired_token", "AccessDeniedException"),
    GatewayAnswer("INVALID_API_KEY", 403, "authentication_error", "invalid_api_key", "AccessDeniedException"),
    GatewayAnswer("INVALID_SIGNATURE", 403, "authentication_error", "invalid_signature", "AccessDeniedException"),
    GatewayAnswer("API_CONFIGURATION_ERROR", 500, "api_error", "configuration_error", "InternalServerException"),
    GatewayAnswer("DEFAULT_4XX", None, "invalid_request_error", "bad_request", "ValidationException"),
    GatewayAnswer("DEFAULT_5XX", None, "api_error", "internal_error", "InternalServerException"),
)


def add_gateway_responses(api: apigw.RestApi) -> None:
    """Attach :data:`ANSWERS` to ``api`` (API-wide: they apply to every route)."""
    for answer in ANSWERS:
        api.add_gateway_response(
            f"Answer{answer.response_type.title().replace('_', '')}",
            type=apigw.ResponseType.of(answer.response_type),
            status_code=None if answer.status is None else str(answer.status),
            response_headers={ERROR_TYPE_HEADER: f"'{answer.bedrock_error}'"},
            templates={"application/json": answer.template()},
        )

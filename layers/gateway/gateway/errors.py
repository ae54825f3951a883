"""The gateway's error model: one exception type, rendered per route family.

OpenAI routes answer ``{"error": {"message", "type", "code"}}``; Converse routes answer
``{"message": ...}`` with an ``x-amzn-errortype`` header and Bedrock's status code, so that boto3
raises ``ClientError`` with the right ``Error.Code``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True)
class _Shape:
    openai_status: int
    openai_type: str
    openai_code: str
    bedrock_name: str
    bedrock_status: int


class ErrorKind(Enum):
    """What went wrong, independent of how a route family reports it."""

    VALIDATION = _Shape(400, "invalid_request_error", "invalid_request", "ValidationException", 400)
    UNAUTHENTICATED = _Shape(401, "authentication_error", "invalid_api_key", "AccessDeniedException", 401)
    FORBIDDEN = _Shape(403, "permission_error", "forbidden", "AccessDeniedException", 403)
    NOT_FOUND = _Shape(404, "not_found_error", "not_found", "ResourceNotFoundException", 404)
    RATE_LIMITED = _Shape(429, "rate_limit_error", "rate_limit_exceeded", "ThrottlingException", 429)
    MODEL_ERROR = _Shape(502, "api_error", "upstream_error", "ModelErrorException", 424)
    UNAVAILABLE = _Shape(503, "api_error", "service_unavailable", "ServiceUnavailableException", 503)
    UPSTREAM_UNREACHABLE = _Shape(502, "api_error", "upstream_unreachable", "ServiceUnavailableException", 503)
    TIMEOUT = _Shape(504, "timeout_error", "upstream_timeout", "ModelTimeoutException", 408)
    INTERNAL = _Shape(500, "api_error", "internal_error", "InternalServerException", 500)

    @property
    def shape(self) -> _Shape:
        return self.value


class GatewayError(Exception):
    """An error the client should see; ``message`` must be safe to show (no secrets, no traces)."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        param: str | None = None,
        upstream: tuple[int, bytes] | None = None,
        original: tuple[int, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.param = param
        # LiteLLM's own (OpenAI-format) error answer, relayed as is on OpenAI routes
        self.upstream = upstream
        # the status and message the upstream reported for a mid-stream failure (Bedrock's original*)
        self.original = original

    def openai_body(self) -> dict:
        shape = self.kind.shape
        return {
            "error": {
                "message": self.message,
                "type": shape.openai_type,
                "code": shape.openai_code,
                "param": self.param,
            }
        }

    def openai_status(self) -> int:
        return self.kind.shape.openai_status

    def bedrock_status(self) -> int:
        return self.kind.shape.bedrock_status

    def bedrock_name(self) -> str:
        return self.kind.shape.bedrock_name

    def bedrock_body(self) -> dict:
        return {"message": self.message}

    def bedrock_headers(self) -> dict[str, str]:
        return {"x-amzn-errortype": self.bedrock_name()}


def validation(message: str, param: str | None = None) -> GatewayError:
    return GatewayError(ErrorKind.VALIDATION, message, param=param)


def kind_for_upstream_status(status: int) -> ErrorKind:
    """Map a LiteLLM (upstream) HTTP status to the gateway's error kind."""
    if status in (400, 422):
        return ErrorKind.VALIDATION
    if status == 401:
        return ErrorKind.UNAUTHENTICATED
    if status == 403:
        return ErrorKind.FORBIDDEN
    if status == 404:
        return ErrorKind.NOT_FOUND
    if status == 408:
        return ErrorKind.TIMEOUT
    if status == 429:
        return ErrorKind.RATE_LIMITED
    if status in (502, 503):
        return ErrorKind.UNAVAILABLE
    if status == 504:
        return ErrorKind.TIMEOUT
    return ErrorKind.MODEL_ERROR


def upstream_error(status: int, body: bytes) -> GatewayError:
    """Build a GatewayError from a LiteLLM error response, keeping LiteLLM's message."""
    message = f"upstream returned HTTP {status}"
    try:
        parsed = json.loads(body)
        err = parsed.get("error", parsed) if isinstance(parsed, dict) else None
        if isinstance(err, dict) and err.get("message"):
            message = str(err["message"])
        elif isinstance(parsed, dict) and parsed.get("detail"):
            message = str(parsed["detail"])
    except (ValueError, UnicodeDecodeError):
        pass
    return GatewayError(kind_for_upstream_status(status), message, upstream=(status, body))

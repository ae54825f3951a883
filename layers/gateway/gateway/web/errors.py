"""Render errors in the format of the route family that failed.

``/bedrock/...`` routes speak Bedrock (``x-amzn-errortype`` + ``{"message"}``), everything else
speaks OpenAI (``{"error": {...}}``).
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.errors import ErrorKind, GatewayError
from gateway.log import logger

BEDROCK_PREFIX = "/bedrock/"


def is_bedrock_path(path: str) -> bool:
    return path.startswith(BEDROCK_PREFIX)


def error_response(error: GatewayError, path: str) -> Response:
    if is_bedrock_path(path):
        return JSONResponse(error.bedrock_body(), status_code=error.bedrock_status(), headers=error.bedrock_headers())
    if error.upstream is not None and _is_openai_error(error.upstream[1]):
        status, body = error.upstream
        return Response(body, status_code=status, media_type="application/json")
    return JSONResponse(error.openai_body(), status_code=error.openai_status())


def _is_openai_error(body: bytes) -> bool:
    """LiteLLM's error bodies are OpenAI-shaped (``{"error": {...}}``); relay only those."""
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(parsed, dict) and isinstance(parsed.get("error"), dict)


async def handle_gateway_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GatewayError)
    return error_response(exc, request.url.path)


async def handle_unexpected_error(request: Request, exc: Exception) -> Response:
    """Last resort: log the traceback for operators, show the client no internals."""
    request_id = request.scope.get("state", {}).get("request_id")
    logger.exception("unhandled error", extra={"path": request.url.path, "request_id": request_id})
    return error_response(GatewayError(ErrorKind.INTERNAL, "internal error in the gateway"), request.url.path)

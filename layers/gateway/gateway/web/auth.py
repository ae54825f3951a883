"""ASGI middleware that puts a :class:`Principal` on every request before any route runs.

``inline`` mode (local): runs the authorizer rules here, exactly as the Lambda authorizer would.
``apigateway`` mode (AWS): API Gateway already ran the authorizer; the principal is read from the
request context the Lambda Web Adapter forwards in ``x-amzn-request-context``.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.errors import ErrorKind, GatewayError
from gateway.identity.principal import Principal
from gateway.web.errors import error_response

PUBLIC_PATHS = frozenset({"/gateway/health"})


def principal_from_request_context(raw: str | None) -> Principal:
    if not raw:
        raise GatewayError(ErrorKind.UNAUTHENTICATED, "request did not pass the API Gateway authorizer")
    try:
        authorizer = json.loads(raw).get("authorizer") or {}
        return Principal.from_context(authorizer)
    except (ValueError, AttributeError):
        raise GatewayError(ErrorKind.UNAUTHENTICATED, "request did not pass the API Gateway authorizer") from None


class AuthMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        gw = scope["app"].state.gw
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            if gw.settings.auth_mode == "apigateway":
                principal = principal_from_request_context(headers.get("x-amzn-request-context"))
            else:
                principal = await gw.authenticator.authenticate(headers.get("authorization"))
        except GatewayError as exc:
            await error_response(exc, scope["path"])(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)

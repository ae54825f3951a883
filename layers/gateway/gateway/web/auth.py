"""ASGI middleware that puts a :class:`Principal` on every request before any route runs.

``inline`` mode (local): runs the authorizer rules here, exactly as the Lambda authorizer would.
``apigateway`` mode (AWS): API Gateway already ran the authorizer; the principal is read from the
request context the Lambda Web Adapter forwards in ``x-amzn-request-context``.
"""

from __future__ import annotations

import hmac
import json

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.errors import ErrorKind, GatewayError
from gateway.identity.authenticator import bearer_token
from gateway.identity.principal import Principal, hash_key
from gateway.web.errors import error_response

PUBLIC_PATHS = frozenset({"/gateway/health"})


def principal_from_request_context(raw: str | None, authorization: str | None, salt: str) -> Principal:
    """The principal API Gateway's authorizer produced for this request's own credential.

    The authorizer puts the salted hash of the credential it checked in the context; it must match
    the ``Authorization`` header of this request. Without the (secret) salt nobody can forge a
    context for a credential, so correctness never rests on how the header reached us.
    """
    refused = GatewayError(ErrorKind.UNAUTHENTICATED, "request did not pass the API Gateway authorizer")
    if not raw:
        raise refused
    try:
        principal = Principal.from_context(json.loads(raw).get("authorizer") or {})
    except (ValueError, AttributeError):
        raise refused from None
    presented = hash_key(bearer_token(authorization), salt)
    if not principal.key_hash or not hmac.compare_digest(presented, principal.key_hash):
        raise refused
    return principal


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
                principal = principal_from_request_context(
                    headers.get("x-amzn-request-context"), headers.get("authorization"), gw.settings.hash_salt
                )
            else:
                principal = await gw.authenticator.authenticate(headers.get("authorization"))
        except GatewayError as exc:
            await error_response(exc, scope["path"])(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)

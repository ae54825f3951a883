"""ASGI middleware that puts a :class:`Principal` on every request before any route runs.

``inline`` mode (local): runs the authorizer rules here, exactly as the Lambda authorizer would.
``apigateway`` mode (AWS): API Gateway already ran the authorizer; the principal is read from the
request context the Lambda Web Adapter forwards in ``x-amzn-request-context``.

Both modes find the request's credential with ``credentials.credential_from_headers`` (one of
``Authorization: Bearer``, ``x-api-key``, ``api-key``; repeated or conflicting ones are refused), as
the Lambda authorizer does, so the credential checked is the credential the routes use.

The admin UI's pages, assets and login (``ui_access``) are the only requests besides the health check
that pass without a credential; with ``UI_ACCESS=off`` they answer 404 whatever credential they carry.
"""

from __future__ import annotations

import hmac
import json

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.errors import ErrorKind, GatewayError
from gateway.identity.credentials import credential_from_headers
from gateway.identity.principal import Principal, hash_key
from gateway.web.errors import error_response
from gateway.web.ui_access import (
    UiRequest,
    classify,
    relative_locations,
    ui_disabled,
    whole_and_plain,
    without_credentials,
)

PUBLIC_PATHS = frozenset({"/gateway/health"})


def principal_from_request_context(raw: str | None, headers: list[tuple[str, str]], salt: str) -> Principal:
    """The principal API Gateway's authorizer produced for this request's own credential.

    The authorizer puts the salted hash of the credential it checked in the context; it must match
    the credential of this request (``headers``: all of its header pairs). Without the (secret)
    salt nobody can forge a context for a credential, so correctness never rests on how the header
    reached us.
    """
    refused = GatewayError(ErrorKind.UNAUTHENTICATED, "request did not pass the API Gateway authorizer")
    if not raw:
        raise refused
    try:
        principal = Principal.from_context(json.loads(raw).get("authorizer") or {})
    except (ValueError, AttributeError, RecursionError):
        raise refused from None
    presented = hash_key(credential_from_headers(headers), salt)
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
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        ui = classify(scope["method"], raw_path, enabled=gw.settings.ui_access)
        if ui is UiRequest.UI_DISABLED:
            await ui_disabled(scope["path"])(scope, receive, send)
            return
        if ui is UiRequest.UI_PUBLIC:
            prefix = gw.settings.ui_path_prefix
            relayed = without_credentials(scope)
            if prefix:
                relayed = whole_and_plain(relayed)
            head = scope["method"] == "HEAD"
            locations = relative_locations(send, gw.settings.litellm_base_url, prefix, scope["path"], head=head)
            await self.app(relayed, receive, locations)
            return
        headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]]
        try:
            if gw.settings.auth_mode == "apigateway":
                context = next((v for k, v in reversed(headers) if k == "x-amzn-request-context"), None)
                principal = principal_from_request_context(context, headers, gw.settings.hash_salt)
            else:
                principal = await gw.authenticator.authenticate_headers(headers)
        except GatewayError as exc:
            await error_response(exc, scope["path"])(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)

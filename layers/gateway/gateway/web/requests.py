"""Parsing request bodies into plain data, with errors that name the problem."""

from __future__ import annotations

import json

from starlette.requests import Request

from gateway.errors import validation
from gateway.identity.credentials import credential_from_headers
from gateway.identity.principal import Principal


def parse_json_object(raw: bytes, *, empty_is: dict | None = None) -> dict:
    """``raw`` as a JSON object, or a 400 that says why it is not one (an empty body is ``empty_is``,
    when given)."""
    if not raw.strip():
        if empty_is is not None:
            return dict(empty_is)
        raise validation("request body is empty: expected a JSON object")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise validation(f"request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise validation("request body must be a JSON object")
    return body


async def read_json_object(request: Request) -> dict:
    """The request body as a JSON object, or a 400 that says why it is not one."""
    return parse_json_object(await request.body())


def principal_of(request: Request) -> Principal:
    return request.scope["state"]["principal"]


async def upstream_authorization(request: Request, principal: Principal) -> str:
    """The credential LiteLLM sees for this caller, so LiteLLM's budgets and limits apply to them.

    A key (or the master key): the caller's own credential (from ``Authorization``, ``x-api-key``
    or ``api-key``, as the authorizer found it), as a bearer. A JWT: LiteLLM does not know it,
    so the gateway acts for the token's user with the key it manages for that user (created on
    first use, never returned); the spend is the user's.
    """
    if principal.type == "jwt":
        key = await request.app.state.gw.accounts.managed_key(principal)
        return f"Bearer {key}"
    return f"Bearer {credential_from_headers(request.headers.items())}"

"""``POST /user/new`` and ``POST /key/generate``: self-service for JWT users, guard rails for keys.

``/user/new``
  - JWT: the LiteLLM ``internal_user`` for the token's ``sub`` is created from the operator's
    defaults (or found), and a new key for it is returned. The request body is not read: nothing a
    caller sends (``user_id``, role, budgets, teams …) can be applied.
  - anything else (master key, admin or user keys): relayed to LiteLLM unchanged; LiteLLM decides
    (it refuses internal users).

``/key/generate``
  - master key, or a key of a ``proxy_admin`` user: relayed to LiteLLM unchanged.
  - a user's key or a JWT: only for the caller's own ``user_id`` (filled in when omitted) and only
    the fields in ``provisioning.USER_KEY_FIELDS``; another ``user_id`` → 403. Forwarded with the
    caller's own upstream credential (a JWT's managed key), so LiteLLM checks it as well.
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from gateway.errors import upstream_error
from gateway.identity.provisioning import key_generate_body_for
from gateway.web.proxy import proxy_to_litellm, relay_response
from gateway.web.requests import parse_json_object, principal_of, upstream_authorization

_ADMIN_ROLE = "proxy_admin"


async def user_new(request: Request) -> Response:
    principal = principal_of(request)
    if principal.type != "jwt":
        parse_json_object(await request.body(), empty_is={})  # LiteLLM answers 500 to a JSON array
        return await _openai_errors(await proxy_to_litellm(request))
    answer = await request.app.state.gw.accounts.new_key_for(principal)
    return JSONResponse(answer)


async def key_generate(request: Request) -> Response:
    principal = principal_of(request)
    raw = await request.body()
    requested = parse_json_object(raw, empty_is={})  # empty: a default key
    if principal.is_admin:
        return await _openai_errors(await proxy_to_litellm(request))
    authorization = await upstream_authorization(request, principal)
    if principal.type == "key" and await _is_proxy_admin(request, authorization):
        return await _forward(request, authorization, raw)
    body = key_generate_body_for(principal, requested)
    return await _forward(request, authorization, json.dumps(body).encode())


async def _is_proxy_admin(request: Request, authorization: str) -> bool:
    """Whether a key principal's user is a LiteLLM ``proxy_admin`` (asked with the key itself)."""
    upstream = request.app.state.gw.upstream
    response = await upstream.send(
        "GET", "/v2/user/info", headers={"authorization": authorization, "accept": "application/json"}
    )
    if response.status_code != 200:
        return False  # no user behind the key (or not readable): not an administrator
    try:
        return response.json().get("user_role") == _ADMIN_ROLE
    except (ValueError, AttributeError):
        return False


async def _forward(request: Request, authorization: str, content: bytes) -> Response:
    upstream = await request.app.state.gw.upstream.send(
        "POST",
        "/key/generate",
        params=request.url.query,
        headers={"authorization": authorization, "content-type": "application/json", "accept": "application/json"},
        content=content,
        stream=True,
    )
    return await _openai_errors(relay_response(upstream))


async def _openai_errors(relayed: StreamingResponse) -> Response:
    """LiteLLM's answer as it is, except LiteLLM's FastAPI-style errors (``{"detail": ...}`` for a
    body it cannot parse or validate), which become OpenAI errors like every error of these routes."""
    if relayed.status_code < 400:
        return relayed
    body = b"".join([chunk async for chunk in relayed.body_iterator])
    if relayed.background is not None:
        await relayed.background()
    raise upstream_error(relayed.status_code, body)

"""``POST /user/new``: self-service for JWT users (key routes are in ``key_routes``).

- JWT: the LiteLLM ``internal_user`` for the token's ``sub`` is created from the operator's
  defaults (or found), and a new key for it is returned. The request body is not read: nothing a
  caller sends (``user_id``, role, budgets, teams …) can be applied.
- anything else (master key, admin or user keys): relayed to LiteLLM unchanged; LiteLLM decides
  (it refuses internal users).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from gateway.errors import upstream_error
from gateway.web.proxy import proxy_to_litellm
from gateway.web.requests import parse_json_object, principal_of


async def user_new(request: Request) -> Response:
    principal = principal_of(request)
    if principal.type != "jwt":
        parse_json_object(await request.body(), empty_is={})  # LiteLLM answers 500 to a JSON array
        return await _openai_errors(await proxy_to_litellm(request))
    answer = await request.app.state.gw.accounts.new_key_for(principal)
    return JSONResponse(answer)


async def _openai_errors(relayed: StreamingResponse) -> Response:
    """LiteLLM's answer as it is, except LiteLLM's FastAPI-style errors (``{"detail": ...}`` for a
    body it cannot parse or validate), which become OpenAI errors like every error of these routes."""
    if relayed.status_code < 400:
        return relayed
    body = b"".join([chunk async for chunk in relayed.body_iterator])
    if relayed.background is not None:
        await relayed.background()
    raise upstream_error(relayed.status_code, body)

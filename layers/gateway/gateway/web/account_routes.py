"""``POST /user/new``: self-service for JWT users (key routes are in ``key_routes``).

- JWT: the LiteLLM ``internal_user`` for the token's ``sub`` is created from the operator's
  defaults (or found), and a new key for it is returned. The request body is not read: nothing a
  caller sends (``user_id``, role, budgets, teams …) can be applied.
- anything else (master key, admin or user keys): relayed to LiteLLM unchanged; LiteLLM decides
  (it refuses internal users).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.web.proxy import openai_errors, proxy_to_litellm
from gateway.web.requests import parse_json_object, principal_of


async def user_new(request: Request) -> Response:
    principal = principal_of(request)
    if principal.type != "jwt":
        parse_json_object(await request.body(), empty_is={})  # LiteLLM answers 500 to a JSON array
        return await openai_errors(await proxy_to_litellm(request))
    answer = await request.app.state.gw.accounts.new_key_for(principal)
    return JSONResponse(answer)

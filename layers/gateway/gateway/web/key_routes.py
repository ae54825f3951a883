"""Every ``/key/*`` route, and ``/team/key/bulk_update``: key writes by non-admins are checked, the rest relayed.

In AWS, API Gateway sends ``ANY /key`` and ``ANY /key/{proxy+}`` to this function, so every key route
passes here (reads too). What a non-admin may write is ``identity.key_policy``; this module routes:

- a ``POST`` to a key-writing route by an administrator (master key, or a key of a LiteLLM
  ``proxy_admin`` user): relayed unchanged (the body must still be a JSON object; errors come back
  in OpenAI format);
- the same by anyone else: the body is checked (403 naming refused fields, 400 for bad values) and
  forwarded, re-serialized (so LiteLLM parses exactly what was checked), to the route's canonical
  path (empty segments and trailing slashes removed, so ``/key//update/`` cannot slip past);
- everything else (``GET /key/info``, ``/key/list``, ``POST /key/delete``, ``/key/block`` …):
  relayed unchanged; LiteLLM decides.

A JWT acts through its managed key (``upstream_authorization``), so LiteLLM checks the same user.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gateway.errors import ErrorKind, GatewayError
from gateway.identity.key_policy import (
    admin_only,
    carry_reserved_metadata,
    key_bulk_update_body_for,
    key_generate_body_for,
    key_regenerate_body_for,
    key_update_body_for,
    team_key_bulk_update_body_for,
)
from gateway.identity.principal import Principal
from gateway.web.proxy import openai_errors, proxy_to_litellm, upstream_failure
from gateway.web.requests import parse_json_object, principal_of, upstream_authorization

_ADMIN_ROLE = "proxy_admin"

Rule = Callable[[Principal, Mapping[str, Any]], dict[str, Any]]

_RULES: dict[str, Rule] = {
    "/key/generate": key_generate_body_for,
    "/key/update": key_update_body_for,
    "/key/regenerate": key_regenerate_body_for,
    "/key/bulk_update": key_bulk_update_body_for,
    "/team/key/bulk_update": team_key_bulk_update_body_for,
}
#: The key-writing routes a non-admin may call (documented in the OpenAPI document).
KEY_WRITE_PATHS: tuple[str, ...] = (*_RULES, "/key/{key}/regenerate")
_ADMIN_ONLY: dict[str, str] = {
    "/key/service-account/generate": "service-account keys belong to a team",
    "/key/unblock": "a key stays blocked until an administrator unblocks it",
}


def canonical_path(path: str) -> str:
    """``path`` without empty segments or a trailing slash: the route LiteLLM would serve it as."""
    return "/" + "/".join(part for part in path.split("/") if part)


def rule_for(path: str) -> Rule | GatewayError | None:
    """What guards a ``POST`` to ``path`` (canonical): a body rule, an admin-only refusal, or nothing."""
    if path in _RULES:
        return _RULES[path]
    if path in _ADMIN_ONLY:
        return admin_only(path, _ADMIN_ONLY[path])
    if path.startswith("/key/") and path.endswith("/regenerate"):  # /key/{key}/regenerate
        return key_regenerate_body_for
    if path.startswith("/key/") and path.endswith("/reset_spend"):  # /key/{key}/reset_spend
        return admin_only("/key/{key}/reset_spend", "only an administrator can reset what a key has spent")
    return None


async def key_route(request: Request) -> Response:
    path = canonical_path(request.url.path)
    rule = rule_for(path) if request.method == "POST" else None
    if rule is None:
        return await proxy_to_litellm(request)
    principal = principal_of(request)
    raw = await request.body()
    requested = parse_json_object(raw, empty_is={})  # LiteLLM answers 500 to a JSON array; empty: defaults
    if principal.is_admin:
        return await openai_errors(await proxy_to_litellm(request))
    authorization = await upstream_authorization(request, principal)
    if principal.type == "key" and await _is_proxy_admin(request, authorization):
        return await _forward(request, path, authorization, raw)
    if isinstance(rule, GatewayError):
        raise rule
    body = rule(principal, requested)
    if "metadata" in body and _replaces_metadata(path):
        body["metadata"] = await _metadata_keeping_reserved(request, path, authorization, body)
    return await _forward(request, path, authorization, json.dumps(body).encode())


def _replaces_metadata(path: str) -> bool:
    """LiteLLM applies these bodies as a merge patch in which ``metadata`` replaces the stored one."""
    return path == "/key/update" or path.endswith("/regenerate")


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


async def _metadata_keeping_reserved(
    request: Request, path: str, authorization: str, body: dict[str, Any]
) -> dict[str, Any]:
    """The caller's new metadata plus the administrator-only entries the key has now (see
    ``carry_reserved_metadata``), read with the caller's own credential."""
    target = _target_key(request, path, body)
    query = {"keys": [target]} if target else {"key_aliases": [body.get("key_alias")]}
    response = await request.app.state.gw.upstream.send(
        "POST",
        "/v2/key/info",
        headers={"authorization": authorization, "content-type": "application/json", "accept": "application/json"},
        content=json.dumps(query).encode(),
    )
    if response.status_code != 200:
        raise upstream_failure(response.status_code, response.content)
    try:
        rows = response.json().get("info")
    except (ValueError, AttributeError):
        rows = None
    if not isinstance(rows, list) or len(rows) != 1 or not isinstance(rows[0], dict):
        raise GatewayError(ErrorKind.NOT_FOUND, "no single key of yours matches that key or key_alias", param="key")
    existing = rows[0].get("metadata")
    return carry_reserved_metadata(existing if isinstance(existing, dict) else None, body["metadata"])


def _target_key(request: Request, path: str, body: dict[str, Any]) -> str | None:
    """The key LiteLLM will change, found the way LiteLLM finds it: the body's ``key``, else (regenerate)
    the path's ``{key}`` or the ``?key=`` of ``/key/regenerate``; None: ``key_alias`` names it."""
    if body.get("key"):
        return body["key"]
    if path == "/key/regenerate":
        return request.query_params.get("key")
    if path.endswith("/regenerate"):
        return path.removeprefix("/key/").removesuffix("/regenerate")
    return None


async def _forward(request: Request, path: str, authorization: str, content: bytes) -> Response:
    """Send the checked body to LiteLLM; its answer comes back as is, errors in OpenAI format."""
    response = await request.app.state.gw.upstream.send(
        "POST",
        path,
        params=request.url.query,
        headers={"authorization": authorization, "content-type": "application/json", "accept": "application/json"},
        content=content,
    )
    if response.status_code >= 400:
        raise upstream_failure(response.status_code, response.content)
    return Response(response.content, status_code=response.status_code, media_type="application/json")

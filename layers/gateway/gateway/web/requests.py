"""Parsing request bodies into plain data, with errors that name the problem."""

from __future__ import annotations

import json

from starlette.requests import Request

from gateway.errors import validation
from gateway.identity.credentials import credential_from_headers
from gateway.identity.principal import Principal

# Deeper than any real chat body (tool schemas included), far below Python's recursion limit, so
# nothing that handles the body later (translation, json.dumps, copies) can hit a RecursionError.
MAX_JSON_DEPTH = 100


def check_plain_json(value: object, *, what: str = "request body") -> None:
    """400 unless ``value`` nests at most ``MAX_JSON_DEPTH`` levels and every string (keys too) is
    valid Unicode: a lone surrogate (``"\\ud800"``) cannot be encoded as UTF-8, so it could be
    neither relayed to the model nor stored. Iterative, so any depth is safe to inspect."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item, what)
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise validation(f"{what} is nested too deeply: at most {MAX_JSON_DEPTH} levels of objects and arrays")
        if isinstance(item, dict):
            for key, child in item.items():
                _check_text(key, what)
                stack.append((child, depth + 1))
        else:
            stack.extend((child, depth + 1) for child in item)


def _check_text(text: str, what: str) -> None:
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        message = f"{what} holds a string that is not valid Unicode (a lone surrogate such as \\ud800)"
        raise validation(message) from None


def _refuse_constant(name: str) -> float:
    """``NaN``/``Infinity`` are not JSON (Python's parser takes them; nothing downstream can send them)."""
    raise ValueError(f"{name} is not a JSON value")


def parse_json_object(raw: bytes, *, empty_is: dict | None = None) -> dict:
    """``raw`` as a JSON object, or a 400 that says why it is not one (an empty body is ``empty_is``,
    when given)."""
    if not raw.strip():
        if empty_is is not None:
            return dict(empty_is)
        raise validation("request body is empty: expected a JSON object")
    try:
        body = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise validation(f"request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise validation(f"request body is nested too deeply: at most {MAX_JSON_DEPTH} levels") from None
    if not isinstance(body, dict):
        raise validation("request body must be a JSON object")
    check_plain_json(body)
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

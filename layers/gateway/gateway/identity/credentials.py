"""Find the one credential of a request: ``Authorization: Bearer``, ``x-api-key`` or ``api-key``.

OpenAI clients send ``Authorization: Bearer <key>``, Claude Code (``ANTHROPIC_API_KEY``) and the
Anthropic SDKs up to 1.x send ``x-api-key: <key>`` (2.x sends a bearer), Azure OpenAI clients send
``api-key: <key>``. LiteLLM reads all three, in
that order of preference. A request must carry exactly one credential: a header repeated, or two of
these headers with different values, is refused, because the gateway would otherwise check one
credential while LiteLLM (or the proxy relay) acts on another — ownership and billing would split.

The Lambda authorizer, the local middleware and the ``apigateway``-mode middleware (which binds the
authorizer's context to the request's credential) all use :func:`credential_from_headers`, so the
credential that was checked is the credential that is used.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.errors import ErrorKind, GatewayError

# lower-case header names, in LiteLLM's order of preference
CREDENTIAL_HEADERS = ("authorization", "api-key", "x-api-key")

_HOW = "send one of 'Authorization: Bearer <API key or JWT>', 'x-api-key: <API key>' or 'api-key: <API key>'"


def unauthenticated(reason: str) -> GatewayError:
    return GatewayError(ErrorKind.UNAUTHENTICATED, reason)


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header, or a 401 saying what is wrong."""
    if not authorization:
        raise unauthenticated(f"missing credential: {_HOW}")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or any(c.isspace() for c in token):
        raise unauthenticated("malformed Authorization header: expected 'Bearer <API key or JWT>'")
    return token


def _plain_key(name: str, value: str) -> str:
    token = value.strip()
    if not token or any(c.isspace() for c in token):
        raise unauthenticated(f"malformed {name} header: expected the API key alone")
    return token


def credential_from_headers(headers: Iterable[tuple[str, str]]) -> str:
    """The request's single credential, or a 401 (missing, malformed, repeated or conflicting).

    ``headers`` are all the request's (name, value) pairs, repeated names included.
    """
    seen: dict[str, list[str]] = {}
    for name, value in headers:
        lowered = name.lower()
        if lowered in CREDENTIAL_HEADERS:
            seen.setdefault(lowered, []).append(value)
    if not seen:
        raise unauthenticated(f"missing credential: {_HOW}")
    repeated = [name for name, values in seen.items() if len(values) > 1]
    if repeated:
        raise unauthenticated(f"repeated {repeated[0]} header: {_HOW}, exactly once")
    tokens = {
        name: bearer_token(values[0]) if name == "authorization" else _plain_key(name, values[0])
        for name, values in seen.items()
    }
    if len(set(tokens.values())) > 1:
        names = " and ".join(name for name in CREDENTIAL_HEADERS if name in tokens)
        raise unauthenticated(f"conflicting credentials in {names}: {_HOW}, only one")
    return next(iter(tokens.values()))

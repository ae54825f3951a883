"""API Gateway REQUEST authorizer: the request's credential → IAM policy + principal context.

Thin on purpose: the rules live in ``gateway.identity.authenticator`` and run unchanged in front
of every local route. The credential is read from the event's ``multiValueHeaders`` (all values of
every header, so a repeated ``Authorization`` is seen and refused), falling back to ``headers``.

Answers: a policy allowing the whole API (``*/*``) with the principal as context; ``Unauthorized``
(API Gateway's 401) for a missing, malformed, repeated, conflicting or refused credential; and, when
the decision cannot be made (LiteLLM or the identity provider unreachable, or too slow to answer
within the invocation's remaining time less a 1 s margin), a logged reason and an
``AuthorizerUnavailable`` error, which API Gateway turns into its 500 ``AUTHORIZER_FAILURE``. The
stack turns API Gateway's result cache off; the function's own bounded cache
(``KEY_CACHE_TTL_SECONDS``) is the only one.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

from gateway.errors import ErrorKind, GatewayError
from gateway.identity.authenticator import Authenticator, build_authenticator
from gateway.identity.principal import Principal
from gateway.log import logger
from gateway.settings import get_settings
from gateway.upstream import LiteLLMClient

# one loop for the life of the execution environment, so pooled connections and caches survive
_loop = asyncio.new_event_loop()
_authenticator: Authenticator | None = None
_MARGIN_SECONDS = 1.0


class AuthorizerUnavailable(Exception):
    """The authorizer could not decide (a dependency is down); API Gateway answers 500."""


def _get_authenticator() -> Authenticator:
    global _authenticator
    if _authenticator is None:
        settings = get_settings()
        client = LiteLLMClient(settings.litellm_base_url, connect_timeout=settings.connect_timeout, read_timeout=10.0)
        _authenticator = build_authenticator(settings, client, os.environ)
    return _authenticator


def api_wide_resource(method_arn: str) -> str:
    """``arn:...:apiId/stage/VERB/path`` → ``arn:...:apiId/stage/*/*``."""
    api_part, _, rest = method_arn.partition("/")
    stage = rest.split("/", 1)[0]
    return f"{api_part}/{stage}/*/*"


def request_headers(event: dict) -> Iterator[tuple[str, str]]:
    """Every (name, value) header pair of a REST API REQUEST-authorizer event, repeats included."""
    multi = event.get("multiValueHeaders")
    if isinstance(multi, dict):
        for name, values in multi.items():
            for value in values if isinstance(values, list) else [values]:
                if isinstance(value, str):
                    yield name, value
        return
    for name, value in (event.get("headers") or {}).items():
        if isinstance(value, str):
            yield name, value


def _time_left(context: Any) -> float | None:
    """Seconds this invocation may still spend deciding: Lambda's remaining time minus a margin, so
    a hung dependency ends in a logged failure rather than a function timeout."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return None
    return max(remaining() / 1000 - _MARGIN_SECONDS, 0.1)


async def _decide(event: dict, context: Any) -> Principal:
    decision = _get_authenticator().authenticate_headers(request_headers(event))
    try:
        return await asyncio.wait_for(decision, _time_left(context))
    except TimeoutError:
        raise GatewayError(
            ErrorKind.TIMEOUT, "the authorizer did not decide in time (LiteLLM or the issuer is slow)"
        ) from None


def handler(event: dict, context: Any) -> dict:
    try:
        principal = _loop.run_until_complete(_decide(event, context))
    except GatewayError as exc:
        if exc.kind is ErrorKind.UNAUTHENTICATED:
            logger.info("request rejected", extra={"reason": exc.message})
            raise Exception("Unauthorized") from None  # API Gateway's contract for a 401
        logger.warning("authorizer could not decide", extra={"reason": exc.message})
        raise AuthorizerUnavailable(exc.message) from None
    return {
        "principalId": principal.user_id or principal.key_hash or principal.type,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": api_wide_resource(event["methodArn"]),
                }
            ],
        },
        "context": principal.to_context(),
    }

"""API Gateway REQUEST authorizer: ``Authorization`` header → IAM policy + principal context.

Thin on purpose: the rules live in ``gateway.identity.authenticator`` and run unchanged in front
of every local route. The policy allows the whole API (``*/*``) because API Gateway caches the
result per ``Authorization`` value across routes.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from gateway.errors import ErrorKind, GatewayError
from gateway.identity.authenticator import Authenticator, build_authenticator
from gateway.log import logger
from gateway.settings import get_settings
from gateway.upstream import LiteLLMClient

# one loop for the life of the execution environment, so pooled connections and caches survive
_loop = asyncio.new_event_loop()
_authenticator: Authenticator | None = None


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


def _header(event: dict, name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return value
    return None


def handler(event: dict, context: Any) -> dict:
    try:
        principal = _loop.run_until_complete(_get_authenticator().authenticate(_header(event, "authorization")))
    except GatewayError as exc:
        if exc.kind is ErrorKind.UNAUTHENTICATED:
            logger.info("request rejected", extra={"reason": exc.message})
            raise Exception("Unauthorized") from None  # API Gateway's contract for a 401
        logger.warning("authorizer could not decide", extra={"reason": exc.message})
        raise
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

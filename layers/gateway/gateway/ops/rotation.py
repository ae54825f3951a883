"""``rotate_master_key``: a new LiteLLM master key, with no key and no stored credential lost.

1. Generate the new key and store it (Secrets Manager / ``.local/master_key``) — nothing is lost if a
   later step fails: the old value is put back.
2. Only when LiteLLM encrypts stored credentials with the master key (no ``LITELLM_SALT_KEY``:
   ``make local``): ``POST /key/regenerate`` with ``new_master_key`` re-encrypts them (models,
   credentials, MCP servers, guardrails, config) while the old key is still the one LiteLLM runs
   with. The deployed stack sets ``LITELLM_SALT_KEY``, so there is nothing to re-encrypt — and
   re-encrypting with the master key there would make the credentials unreadable.
3. Restart what read the old key at start: in AWS a forced ECS deployment of the LiteLLM service,
   then fresh execution environments of the gateway functions; locally, the operator restarts
   ``make local``.

Virtual keys are stored as SHA-256 hashes independent of the master key, so they keep working.
The new master key is never returned nor logged: read it from where it is stored.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from gateway.log import logger
from gateway.ops.context import OpsContext, OpsError
from gateway.ops.fields import only


def new_master_key() -> str:
    return "sk-" + secrets.token_urlsafe(36)


async def rotate_master_key(ctx: OpsContext, event: Mapping[str, Any]) -> dict[str, Any]:
    only(event, ())
    platform = ctx.platform
    old = platform.secret.read()
    new = new_master_key()
    await ctx.call(old, "GET", "/v1/models")  # the stored key is the one LiteLLM runs with: else stop here
    try:
        platform.secret.write(new)
    except Exception as exc:  # any failure to store: nothing has changed yet
        raise OpsError(f"could not store the new master key ({type(exc).__name__}); nothing changed") from None
    reencrypted = False
    if platform.credentials_follow_master_key:
        try:
            await ctx.call(old, "POST", "/key/regenerate", {"key": old, "new_master_key": new})
        except OpsError:
            platform.secret.write(old)
            logger.warning("master key rotation failed; the old key was put back")
            raise
        reencrypted = True
    logger.info("master key stored; restarting", extra={"platform": platform.name})
    try:
        restart = platform.restarter.restart()
    except Exception as exc:  # the key is stored: say what is left to do
        raise OpsError(
            f"the new master key is stored{' and credentials re-encrypted' if reencrypted else ''}, but the "
            f"restart failed ({type(exc).__name__}: {exc}): force a new deployment of the LiteLLM service and "
            "update the gateway functions' configuration by hand (docs/operations.md); do not rotate again first"
        ) from None
    return {
        "rotated": True,
        "stored_credentials_reencrypted": reencrypted,
        "new_key_location": "Secrets Manager (MasterKeySecretArn)" if platform.name == "aws" else ".local/master_key",
        **restart,
    }

"""``health``: an end-to-end smoke check from where the function runs (inside the VPC in AWS)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio

from gateway.errors import GatewayError
from gateway.ops.context import OpsContext, OpsError, redact
from gateway.ops.fields import only, text


async def _check(name: str, checks: dict[str, Any], call: Callable[[], Awaitable[dict[str, Any]]]) -> Any:
    try:
        detail = await call()
    except (OpsError, GatewayError) as exc:
        checks[name] = {"ok": False, "error": redact(str(exc))}
        return None
    checks[name] = {"ok": True, **(detail or {})}
    return detail


async def health(ctx: OpsContext, event: Mapping[str, Any]) -> dict[str, Any]:
    params = only(event, ("model",))
    model = text(params, "model")
    checks: dict[str, Any] = {}

    async def liveness() -> dict[str, Any]:
        response = await ctx.litellm.send("GET", "/health/liveliness")
        if response.status_code != 200:
            raise OpsError(f"HTTP {response.status_code}")
        return {}

    async def readiness() -> dict[str, Any]:
        # the authenticated details: the public /health/readiness of the pinned LiteLLM has no "cache" field
        headers = {"authorization": f"Bearer {ctx.platform.secret.read()}", "accept": "application/json"}
        response = await ctx.litellm.send("GET", "/health/readiness/details", headers=headers)
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        if response.status_code != 200 or body.get("status") != "healthy":
            raise OpsError(f"HTTP {response.status_code}: {body.get('status') or body.get('detail')}")
        if body.get("db") != "connected":
            raise OpsError(f"database: {body.get('db')}")
        return {"database": body.get("db"), "cache": body.get("cache") or "not configured"}

    async def cache() -> dict[str, Any]:
        answer = await ctx.admin("GET", "/cache/ping")
        return {"status": answer.get("status"), "cache_type": answer.get("cache_type")}

    async def dynamodb() -> dict[str, Any]:
        try:
            await anyio.to_thread.run_sync(ctx.history.ping)
        except GatewayError as exc:
            raise OpsError(exc.message) from None
        return {"table": ctx.history_config.table_name}

    async def completion() -> dict[str, Any]:
        body = {"model": model, "messages": [{"role": "user", "content": "ping"}], "max_tokens": 1}
        answer = await ctx.admin("POST", "/v1/chat/completions", body)
        return {"model": model, "tokens": (answer.get("usage") or {}).get("total_tokens")}

    await _check("litellm_liveness", checks, liveness)
    ready = await _check("litellm_readiness", checks, readiness)
    if ready and ready.get("cache") != "not configured":
        await _check("litellm_cache", checks, cache)
    await _check("dynamodb", checks, dynamodb)
    await _check("completion", checks, completion)
    return {"healthy": all(c["ok"] for c in checks.values()), "checks": checks}

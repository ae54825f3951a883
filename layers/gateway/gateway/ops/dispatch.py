"""An event → its task → a JSON summary. The event names its task: ``{"task": "health", ...}``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from gateway.log import logger
from gateway.ops.accounts import create_user, issue_key, revoke_key, spend
from gateway.ops.context import OpsContext, OpsError, redact
from gateway.ops.health import health
from gateway.ops.history import export_history, purge_history
from gateway.ops.rotation import rotate_master_key

Task = Callable[[OpsContext, Mapping[str, Any]], Awaitable[dict[str, Any]]]

TASKS: dict[str, Task] = {
    "health": health,
    "create_user": create_user,
    "issue_key": issue_key,
    "revoke_key": revoke_key,
    "rotate_master_key": rotate_master_key,
    "export_history": export_history,
    "purge_history": purge_history,
    "spend": spend,
}


async def run(ctx: OpsContext, event: Any) -> dict[str, Any]:
    """``{"task", "ok": true, ...summary}`` or ``{"task", "ok": false, "error"}``; never raises for a
    bad event or a failed step, and logs the task's name and outcome only (never fields or keys)."""
    task_name = event.get("task") if isinstance(event, dict) else None
    task = TASKS.get(task_name) if isinstance(task_name, str) else None
    if task is None:
        return {"task": task_name, "ok": False, "error": f"task must be one of {', '.join(TASKS)}"}
    try:
        summary = await task(ctx, event)
    except OpsError as exc:
        message = redact(str(exc))
        logger.warning("ops task failed", extra={"task": task_name, "error": message})
        return {"task": task_name, "ok": False, "error": message}
    logger.info("ops task done", extra={"task": task_name})
    return {"task": task_name, "ok": True, **summary}

"""The ``ops`` Lambda: console test events run the everyday admin tasks (``gateway.ops``).

Thin on purpose: the tasks live in ``gateway.ops`` and run unchanged locally (``make ops``). The
event names its task, e.g. ``{"task": "health", "model": "my-model"}``; see ``events/`` and
``docs/operations.md``.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from gateway.ops.context import OpsContext
from gateway.ops.dispatch import run
from gateway.ops.platform import aws_platform
from gateway.upstream import LiteLLMClient

# one loop for the life of the execution environment, so pooled connections survive
_loop = asyncio.new_event_loop()
_context: OpsContext | None = None


def _get_context() -> OpsContext:
    global _context
    if _context is None:
        _context = OpsContext(
            platform=aws_platform(os.environ),
            litellm=LiteLLMClient(os.environ["LITELLM_BASE_URL"], read_timeout=120.0),
        )
    return _context


def handler(event: Any, context: Any) -> dict[str, Any]:
    return _loop.run_until_complete(run(_get_context(), event))

"""``make ops EVENT=<file>``: run an ops event against ``make local`` with the same code as the Lambda.

The local stack's endpoints: LiteLLM on ``LITELLM_PORT`` (4000), the master key in
``.local/master_key``, the DynamoDB emulator's URL in ``.local/dynamodb_url`` (written by
``make local``) unless ``AWS_ENDPOINT_URL_DYNAMODB`` is set.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import MutableMapping
from pathlib import Path

from gateway.history.config import HistoryConfig
from gateway.log import logger
from gateway.ops.context import OpsContext
from gateway.ops.dispatch import run
from gateway.ops.platform import local_platform
from gateway.upstream import LiteLLMClient


def local_context(work_dir: Path, litellm_url: str, env: MutableMapping[str, str]) -> OpsContext:
    """Set ``env`` up for the local DynamoDB emulator and build the context tasks run with."""
    if not env.get("AWS_ENDPOINT_URL_DYNAMODB"):
        url_file = work_dir / "dynamodb_url"
        if not url_file.exists():
            raise SystemExit(f"{url_file} not found: is `make local` running? (or set AWS_ENDPOINT_URL_DYNAMODB)")
        env["AWS_ENDPOINT_URL_DYNAMODB"] = url_file.read_text().strip()
    env.setdefault("AWS_ACCESS_KEY_ID", "local")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    env.setdefault("AWS_REGION", "us-east-1")
    return OpsContext(
        platform=local_platform(work_dir, env),
        litellm=LiteLLMClient(litellm_url, read_timeout=120.0),
        history_config=HistoryConfig.from_env(env),
    )


async def _main(event: dict, ctx: OpsContext) -> dict:
    try:
        return await run(ctx, event)
    finally:
        await ctx.litellm.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("event", type=Path, help="an event JSON file, e.g. functions/ops/events/health.json")
    args = parser.parse_args(argv)
    for handler in logger.handlers:  # stdout carries the summary alone
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sys.stderr)
    event = json.loads(args.event.read_text())
    work_dir = Path(os.environ.get("GATEWAY_LOCAL_DIR") or ".local")
    litellm_url = os.environ.get("LITELLM_BASE_URL") or f"http://127.0.0.1:{os.environ.get('LITELLM_PORT', '4000')}"
    ctx = local_context(work_dir, litellm_url, os.environ)  # botocore reads the endpoint from os.environ
    result = asyncio.run(_main(event, ctx))
    print(json.dumps(result, indent=2, default=str))
    return 0 if result.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())

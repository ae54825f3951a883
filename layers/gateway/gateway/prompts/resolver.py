"""Fetch prompts with ``bedrock-agent:GetPrompt`` (the I/O edge), cached, and render them.

Synchronous and thread-safe: the routes call ``resolve`` through ``anyio.to_thread.run_sync``.
The endpoint is boto3's own business: ``AWS_ENDPOINT_URL_BEDROCK_AGENT`` / ``AWS_ENDPOINT_URL``
(or the regional default); nothing here names a host.

One bedrock-agent client per region, at most ``MAX_CLIENTS`` (least recently used dropped); the
ARN parser admits only regions botocore knows.

Cached: the raw GetPrompt responses per (region, id, version), not the rendered prompts (variables
differ per call). A version is immutable, so it is kept long; a draft can be edited at any time, so
it is kept briefly. Failures are not cached.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from cachetools import LRUCache, TTLCache

from gateway.errors import ErrorKind, GatewayError
from gateway.log import logger
from gateway.prompts.arn import PromptArn, parse_prompt_arn
from gateway.prompts.render import ResolvedPrompt, render_prompt

_THROTTLED = frozenset({"ThrottlingException", "TooManyRequestsException", "ServiceQuotaExceededException"})
_DEFAULT_CONFIG = Config(
    connect_timeout=3,
    read_timeout=10,
    retries={"mode": "standard", "total_max_attempts": 3},
    user_agent_extra="genai-gateway",
)

ClientFactory = Callable[[str], Any]  # region -> bedrock-agent client
# Regions are checked against botocore's list (``arn``); the bound is a backstop (a client is ~0.25 MB).
MAX_CLIENTS = 16


class PromptResolver:
    def __init__(
        self,
        *,
        version_ttl: float = 3600.0,
        draft_ttl: float = 30.0,
        maxsize: int = 512,
        timer: Callable[[], float] = time.monotonic,
        client_factory: ClientFactory | None = None,
        config: Config | None = None,
    ) -> None:
        """``config``: botocore timeouts/retries for the default clients; ``client_factory`` replaces them."""
        self._versions: TTLCache = TTLCache(maxsize, version_ttl, timer=timer)
        self._drafts: TTLCache = TTLCache(maxsize, draft_ttl, timer=timer)
        self._clients: LRUCache = LRUCache(MAX_CLIENTS)
        self._client_factory = client_factory or self._boto3_client
        self._config = config or _DEFAULT_CONFIG
        self._session: Any = None  # a boto3 Session, made on first use (boto3 is slow to import)
        self._lock = threading.Lock()  # cachetools caches and boto3 sessions are not thread-safe

    def resolve(self, arn: str, variables: dict | None) -> ResolvedPrompt:
        """Parse, fetch (cached) and render; every failure is a ``GatewayError`` safe to show."""
        ref = parse_prompt_arn(arn)
        return render_prompt(self.get_prompt(ref), variables, arn=arn)

    def get_prompt(self, ref: PromptArn) -> dict:
        cache = self._drafts if ref.is_draft else self._versions
        key = (ref.region, ref.prompt_id, ref.version)
        with self._lock:
            cached = cache.get(key)
        if cached is not None:
            return cached
        response = self._fetch(ref)
        with self._lock:
            cache[key] = response
        return response

    def clear(self) -> None:
        with self._lock:
            self._versions.clear()
            self._drafts.clear()

    def _fetch(self, ref: PromptArn) -> dict:
        params = {"promptIdentifier": ref.prompt_id}
        if ref.version is not None:
            params["promptVersion"] = ref.version
        try:
            response = self._client(ref.region).get_prompt(**params)
        except ClientError as e:
            raise _client_error(e, ref) from None
        except BotoCoreError as e:
            logger.warning("GetPrompt failed", extra={"prompt_id": ref.prompt_id, "error": type(e).__name__})
            raise GatewayError(ErrorKind.UNAVAILABLE, f"prompt {ref.arn} could not be fetched; retry later") from None
        response.pop("ResponseMetadata", None)
        return response

    def _client(self, region: str) -> Any:
        with self._lock:
            client = self._clients.get(region)
            if client is None:
                client = self._clients[region] = self._client_factory(region)
            return client

    def _boto3_client(self, region: str) -> Any:
        # called under self._lock; one session per resolver, one client per region (bounded)
        if self._session is None:
            import boto3  # only when a prompt is first resolved: keeps the cold start lean

            self._session = boto3.session.Session()
        return self._session.client("bedrock-agent", region_name=region, config=self._config)


def _client_error(error: ClientError, ref: PromptArn) -> GatewayError:
    code = error.response.get("Error", {}).get("Code", "")
    if code == "ResourceNotFoundException":
        return GatewayError(ErrorKind.NOT_FOUND, f"prompt {ref.arn} not found")
    if code == "AccessDeniedException":
        return GatewayError(ErrorKind.FORBIDDEN, f"access to prompt {ref.arn} denied")
    if code == "ValidationException":
        detail = error.response.get("Error", {}).get("Message") or "invalid request"
        return GatewayError(ErrorKind.VALIDATION, f"prompt {ref.arn}: {detail}")
    if code in _THROTTLED:
        return GatewayError(ErrorKind.RATE_LIMITED, f"prompt {ref.arn}: Bedrock Prompt management is throttling")
    logger.warning("GetPrompt failed", extra={"prompt_id": ref.prompt_id, "error": code or "unknown"})
    return GatewayError(ErrorKind.UNAVAILABLE, f"prompt {ref.arn} could not be fetched; retry later")

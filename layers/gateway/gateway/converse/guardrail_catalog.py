"""LiteLLM's guardrails as the caller may see them (``GET /v2/guardrails/list``), cached briefly.

The list is asked for with the caller's own credential, so a caller resolves exactly the guardrails
LiteLLM shows it: those of the config and the database, minus other teams' guardrails. Answers are
kept ``LIST_TTL_SECONDS`` per credential (by its SHA-256, never the raw key), so a guardrail added
in LiteLLM is usable through ``guardrailConfig`` within that time.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping

from cachetools import TTLCache

from gateway.converse.guardrails import (
    GuardrailRequest,
    LiteLLMGuardrail,
    ResolvedGuardrails,
    guardrails_from_list,
    resolve_guardrails,
)
from gateway.upstream import LiteLLMClient

GUARDRAIL_LIST_PATH = "/v2/guardrails/list"
LIST_TTL_SECONDS = 30.0
_CACHED_CALLERS = 1024


class GuardrailCatalog:
    def __init__(
        self,
        upstream: LiteLLMClient,
        mapping: Mapping[str, tuple[str, ...]],
        *,
        ttl: float = LIST_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._upstream = upstream
        self._mapping = mapping
        self._lists: TTLCache[str, dict[str, LiteLLMGuardrail]] = TTLCache(_CACHED_CALLERS, ttl, timer=clock)

    async def resolve(self, request: GuardrailRequest, authorization: str) -> ResolvedGuardrails:
        """The LiteLLM guardrails enforcing ``request``; ValidationException if there are none."""
        return resolve_guardrails(request, self._mapping, await self._available(authorization))

    async def _available(self, authorization: str) -> dict[str, LiteLLMGuardrail]:
        key = hashlib.sha256(authorization.encode()).hexdigest()
        cached = self._lists.get(key)
        if cached is None:
            data = await self._upstream.json_call("GET", GUARDRAIL_LIST_PATH, authorization=authorization)
            cached = self._lists[key] = guardrails_from_list(data)
        return cached

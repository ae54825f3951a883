"""What every task works with: the master key's platform, the LiteLLM client and the history table."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from gateway.errors import GatewayError
from gateway.history.config import HistoryConfig
from gateway.history.store import HistoryStore
from gateway.ops.platform import Platform
from gateway.upstream import LiteLLMClient

_KEY_LIKE = re.compile(r"sk-[A-Za-z0-9_\-]{4,}")


class OpsError(Exception):
    """A task failed; the message is safe to show and to log (no secrets)."""


def redact(text: str) -> str:
    """Anything that looks like a LiteLLM key, replaced: upstream messages may echo a key."""
    return _KEY_LIKE.sub("sk-…", text)


@dataclass
class OpsContext:
    platform: Platform
    litellm: LiteLLMClient
    history_config: HistoryConfig = field(default_factory=HistoryConfig.from_env)
    _store: HistoryStore | None = None

    @property
    def history(self) -> HistoryStore:
        if self._store is None:
            self._store = HistoryStore(self.history_config)
        return self._store

    async def admin(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, query: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """One LiteLLM admin call with the current master key (read fresh: it may just have rotated)."""
        return await self.call(self.platform.secret.read(), method, path, body, query=query)

    async def call(
        self,
        key: str,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        query: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        if query:
            path = f"{path}?{urlencode(query)}"
        content = json.dumps(body).encode() if body is not None else None
        try:
            return await self.litellm.json_call(method, path, authorization=f"Bearer {key}", body=content)
        except GatewayError as exc:
            raise OpsError(f"LiteLLM {method} {path.split('?')[0]}: {redact(exc.message)}") from None

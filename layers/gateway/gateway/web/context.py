"""Everything a route needs, built once per process and kept on ``app.state.gw``."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.chat.service import ChatService
from gateway.history.config import HistoryConfig
from gateway.history.store import HistoryStore
from gateway.identity.authenticator import Authenticator
from gateway.settings import Settings
from gateway.upstream import LiteLLMClient


@dataclass
class GatewayContext:
    settings: Settings
    upstream: LiteLLMClient
    authenticator: Authenticator
    chat: ChatService

    @classmethod
    def from_settings(cls, settings: Settings) -> GatewayContext:
        upstream = LiteLLMClient(
            settings.litellm_base_url,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
        )
        authenticator = Authenticator(
            upstream,
            master_key=settings.master_key,
            hash_salt=settings.hash_salt,
            cache_ttl=settings.key_cache_ttl,
            cache_size=settings.key_cache_size,
        )
        history = HistoryStore(HistoryConfig.from_env())
        return cls(
            settings=settings,
            upstream=upstream,
            authenticator=authenticator,
            chat=ChatService(upstream, history),
        )

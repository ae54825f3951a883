"""Everything a route needs, built once per process and kept on ``app.state.gw``."""

from __future__ import annotations

import os
from dataclasses import dataclass

from gateway.chat.service import ChatService
from gateway.converse.guardrail_catalog import GuardrailCatalog
from gateway.history.config import HistoryConfig
from gateway.history.store import HistoryStore
from gateway.identity.accounts import Accounts
from gateway.identity.authenticator import Authenticator, build_authenticator
from gateway.identity.provisioning import UserDefaults
from gateway.responses.service import ResponsesService
from gateway.settings import Settings
from gateway.upstream import LiteLLMClient


@dataclass
class GatewayContext:
    settings: Settings
    upstream: LiteLLMClient
    authenticator: Authenticator
    chat: ChatService
    accounts: Accounts
    guardrails: GuardrailCatalog
    responses: ResponsesService

    @classmethod
    def from_settings(cls, settings: Settings) -> GatewayContext:
        upstream = LiteLLMClient(
            settings.litellm_base_url,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
        )
        authenticator = build_authenticator(settings, upstream, os.environ)
        accounts = Accounts(
            upstream,
            master_key=settings.master_key,
            hash_salt=settings.hash_salt,
            defaults=UserDefaults.from_env(os.environ),
        )
        history = HistoryStore(HistoryConfig.from_env()) if settings.history_enabled else None
        return cls(
            settings=settings,
            upstream=upstream,
            authenticator=authenticator,
            chat=ChatService(upstream, history),
            accounts=accounts,
            guardrails=GuardrailCatalog(upstream, settings.guardrail_map),
            responses=ResponsesService(upstream, history),
        )

"""Everything a route needs, built once per process and kept on ``app.state.gw``."""

from __future__ import annotations

import os
from dataclasses import dataclass

from gateway.chat.service import ChatService
from gateway.history.config import HistoryConfig
from gateway.history.store import HistoryStore
from gateway.identity.accounts import Accounts
from gateway.identity.authenticator import Authenticator
from gateway.identity.jwt_verifier import JwtConfig, JwtVerifier
from gateway.identity.provisioning import UserDefaults
from gateway.settings import Settings
from gateway.upstream import LiteLLMClient


@dataclass
class GatewayContext:
    settings: Settings
    upstream: LiteLLMClient
    authenticator: Authenticator
    chat: ChatService
    accounts: Accounts
    jwt_verifier: JwtVerifier | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> GatewayContext:
        upstream = LiteLLMClient(
            settings.litellm_base_url,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
        )
        # OKTA_ISSUER unset: JWT auth off (bearers are LiteLLM keys); bad OKTA_* values fail start-up
        jwt_config = JwtConfig.from_env(os.environ)
        jwt_verifier = JwtVerifier(jwt_config) if jwt_config else None
        authenticator = Authenticator(
            upstream,
            master_key=settings.master_key,
            hash_salt=settings.hash_salt,
            cache_ttl=settings.key_cache_ttl,
            cache_size=settings.key_cache_size,
            jwt_verifier=jwt_verifier,
        )
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
            jwt_verifier=jwt_verifier,
        )

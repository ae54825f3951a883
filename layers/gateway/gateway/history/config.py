"""Settings of the chat history store, read from the environment.

The DynamoDB endpoint is deliberately *not* a setting here: botocore reads
``AWS_ENDPOINT_URL_DYNAMODB`` / ``AWS_ENDPOINT_URL`` itself (PynamoDB passes ``endpoint_url=None``),
so the local emulator and AWS use the same code path.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from gateway.settings import SettingsError, positive_int, positive_number

DEFAULT_TABLE_NAME = "genai-gateway-history"

# DynamoDB hard limits (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html).
ITEM_MAX_BYTES = 400 * 1024
TRANSACTION_MAX_ITEMS = 100
TRANSACTION_MAX_BYTES = 4_000_000  # "4 MB"; the decimal reading is the conservative one


@dataclass(frozen=True)
class HistoryConfig:
    table_name: str = DEFAULT_TABLE_NAME
    region: str = "us-east-1"
    max_messages: int = 100  # stored messages sent back to the model per turn (newest kept)
    # ... and at most this many bytes of them (message JSON): 100 messages may each be 3 MB
    max_replay_bytes: int = 8_000_000
    # one page of /chat-history and /bedrock/chat-history (message JSON; a page holds at least one
    # message): well below Lambda's 6 MB response payload
    page_max_bytes: int = 4_000_000
    ttl_days: float = 30.0
    item_budget_bytes: int = 350_000  # message JSON per item; bigger messages span several items
    max_message_bytes: int = 3_000_000  # one message above this is rejected, never truncated
    reply_reserve_bytes: int = 512_000  # room check_size() leaves in a turn for the model's reply
    reply_reserve_items: int = 3
    connect_timeout_seconds: float = 2.0
    read_timeout_seconds: float = 5.0
    max_attempts: int = 2  # botocore attempts per request (first + retries): fail fast when down
    append_attempts: int = 12  # TransactWriteItems attempts when concurrent turns race for seqs

    def __post_init__(self) -> None:
        if not 1024 <= self.item_budget_bytes <= ITEM_MAX_BYTES - 8 * 1024:
            raise SettingsError(f"HISTORY_ITEM_BUDGET_BYTES must be between 1024 and {ITEM_MAX_BYTES - 8 * 1024}")
        if self.max_message_bytes + self.reply_reserve_bytes > TRANSACTION_MAX_BYTES * 0.95:
            raise SettingsError(
                "HISTORY_MAX_MESSAGE_BYTES plus the reply reserve must fit one DynamoDB transaction (4 MB)"
            )
        if self.max_replay_bytes < 1 or self.page_max_bytes < 1:
            raise SettingsError("HISTORY_MAX_REPLAY_BYTES and HISTORY_PAGE_MAX_BYTES must be positive")
        if self.max_messages < 1 or self.ttl_days <= 0 or self.max_attempts < 1 or self.append_attempts < 1:
            raise SettingsError("history limits must be positive")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HistoryConfig:
        env = os.environ if env is None else env
        return cls(
            table_name=env.get("HISTORY_TABLE_NAME") or DEFAULT_TABLE_NAME,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            max_messages=positive_int(env, "HISTORY_MAX_MESSAGES", cls.max_messages),
            max_replay_bytes=positive_int(env, "HISTORY_MAX_REPLAY_BYTES", cls.max_replay_bytes),
            page_max_bytes=positive_int(env, "HISTORY_PAGE_MAX_BYTES", cls.page_max_bytes),
            ttl_days=positive_number(env, "HISTORY_TTL_DAYS", cls.ttl_days),
            item_budget_bytes=positive_int(env, "HISTORY_ITEM_BUDGET_BYTES", cls.item_budget_bytes),
            max_message_bytes=positive_int(env, "HISTORY_MAX_MESSAGE_BYTES", cls.max_message_bytes),
            connect_timeout_seconds=positive_number(
                env, "HISTORY_CONNECT_TIMEOUT_SECONDS", cls.connect_timeout_seconds
            ),
            read_timeout_seconds=positive_number(env, "HISTORY_READ_TIMEOUT_SECONDS", cls.read_timeout_seconds),
            max_attempts=positive_int(env, "HISTORY_MAX_ATTEMPTS", cls.max_attempts),
        )

"""The chat history table: items, their PynamoDB model, and the message ⇄ item codec.

One table, one partition per session, sort key ``seq``:

- ``seq = 1..n``: one item per message — ``role``, ``message`` (the OpenAI-format message as compact
  JSON, the canonical form), ``created_at`` (epoch ms), ``model``, ``expires_at`` (epoch s, TTL). A
  message whose JSON exceeds the per-item budget spans consecutive seqs, each with ``part``
  (0-based) and ``parts``.
- ``seq = HEADER_SEQ`` (above any message seq): the session header — ``owner_id``, ``created_at``,
  ``expires_at`` and ``lead_items`` (how many items at seq 1.. hold the session's leading
  system/developer messages). Sorting last, the header comes *first* in a descending Query, so one
  Query reads the owner and the newest messages and stops after ``HISTORY_MAX_MESSAGES``: the read
  cost of a turn is bounded, however long the session grows.
- Only headers carry ``owner_id``, so the ``owner-index`` GSI (owner_id, created_at) is sparse.

The CDK stack defines the same table; ``scripts/devstack/dynamodb.py`` creates it for the emulator.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.constants import PAY_PER_REQUEST_BILLING_MODE
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from gateway.errors import validation
from gateway.history.config import ITEM_MAX_BYTES, HistoryConfig
from gateway.jsonbytes import json_bytes

HEADER_SEQ = 10**18  # sorts after every message seq
OWNER_INDEX = "owner-index"
INSTRUCTION_ROLES = frozenset({"system", "developer"})
_NUMBER_BYTES = 21  # DynamoDB stores a number in at most 21 bytes (38 digits)


class HistoryItem(Model):
    """Attributes shared by header and message items; bind it to a table with :func:`bind_model`."""

    session_id = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)
    owner_id = UnicodeAttribute(null=True)  # header only (keeps the GSI sparse)
    created_at = NumberAttribute()
    expires_at = TTLAttribute()
    role = UnicodeAttribute(null=True)
    message = UnicodeAttribute(null=True)
    model_id = UnicodeAttribute(null=True, attr_name="model")
    part = NumberAttribute(null=True)
    parts = NumberAttribute(null=True)
    lead_items = NumberAttribute(null=True)  # header only

    owner_index: ClassVar[GlobalSecondaryIndex[Any]]


def bind_model(config: HistoryConfig) -> type[HistoryItem]:
    """A model class bound to ``config``'s table, region and (fail-fast) timeouts.

    One class per store rather than a global ``Meta``: PynamoDB caches the connection on the class,
    so separate stores (tests, tools) must not share one.
    """

    class OwnerIndex(GlobalSecondaryIndex[Any]):
        class Meta:
            index_name = OWNER_INDEX
            projection = AllProjection()

        owner_id = UnicodeAttribute(hash_key=True)
        created_at = NumberAttribute(range_key=True)

    class BoundHistoryItem(HistoryItem):
        class Meta:
            table_name = config.table_name
            region = config.region
            billing_mode = PAY_PER_REQUEST_BILLING_MODE
            connect_timeout_seconds = config.connect_timeout_seconds
            read_timeout_seconds = config.read_timeout_seconds
            max_retry_attempts = config.max_attempts - 1

        owner_index = OwnerIndex()

    return BoundHistoryItem


# -- codec -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EncodedMessage:
    """A message ready to store: its role and the JSON split into item-sized chunks."""

    role: str
    chunks: list[str]
    size: int  # bytes of the whole JSON


def canonical_json(message: dict) -> str:
    """Compact JSON; UTF-8 kept as is (smaller than ``\\uXXXX``) unless it holds lone surrogates."""
    return json_bytes(message, allow_nan=False).decode("utf-8")


def json_size(message: dict) -> int:
    """Bytes of ``message`` as stored (its canonical JSON in UTF-8)."""
    return len(json_bytes(message, allow_nan=False))


def split_utf8(text: str, budget: int) -> list[str]:
    """Split ``text`` into chunks of at most ``budget`` UTF-8 bytes, never inside a character."""
    data = text.encode("utf-8")
    if len(data) <= budget:
        return [text]
    chunks: list[str] = []
    start = 0
    while start < len(data):
        end = min(start + budget, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # continuation byte: back off
            end -= 1
        chunks.append(data[start:end].decode("utf-8"))
        start = end
    return chunks


def encode_message(message: Any, index: int, config: HistoryConfig, model: str | None) -> EncodedMessage:
    """Encode one message or raise a validation error that names the limit."""
    if not isinstance(message, dict) or not isinstance(message.get("role"), str) or not message["role"]:
        raise validation(f"messages[{index}] must be an object with a string 'role'", param="messages")
    role = message["role"]
    if len(role) > 64:
        raise validation(f"messages[{index}].role is too long", param="messages")
    try:
        text = canonical_json(message)
    except (TypeError, ValueError):
        raise validation(f"messages[{index}] is not valid JSON", param="messages") from None
    size = len(text.encode("utf-8"))
    if size > config.max_message_bytes:
        raise validation(
            f"messages[{index}] is {size:,} bytes; chat history stores messages of at most "
            f"{config.max_message_bytes:,} bytes (HISTORY_MAX_MESSAGE_BYTES), images and documents "
            "included. Send a smaller message or a URL instead of inline data.",
            param="messages",
        )
    overhead = message_item_size("", role, model, split=True)
    budget = min(config.item_budget_bytes, ITEM_MAX_BYTES - overhead - 1024)
    if budget < 1024:
        raise validation("model name is too long to store in chat history", param="model")
    return EncodedMessage(role=role, chunks=split_utf8(text, budget), size=size)


def message_item_size(chunk: str, role: str, model: str | None, *, split: bool) -> int:
    """DynamoDB's size of a message item (names + values; numbers at their 21-byte maximum)."""
    size = len("session_id") + 32 + len("seq") + _NUMBER_BYTES
    size += len("role") + len(role.encode("utf-8"))
    size += len("message") + len(chunk.encode("utf-8"))
    size += len("created_at") + len("expires_at") + 2 * _NUMBER_BYTES
    if model is not None:
        size += len("model") + len(model.encode("utf-8"))
    if split:
        size += len("part") + len("parts") + 2 * _NUMBER_BYTES
    return size


HEADER_UPDATE_SIZE = 512  # the header item touched by every append (ids, owner id, four numbers)


@dataclass(frozen=True)
class StoredMessage:
    seq: int  # seq of its first item
    message: dict


class CorruptHistory(ValueError):
    """Items that this codec did not write (a broken part group, undecodable JSON)."""


def leading_instruction_items(encoded: Iterable[EncodedMessage]) -> int:
    """Items taken by the leading system/developer messages of a session's first turn."""
    count = 0
    for e in encoded:
        if e.role not in INSTRUCTION_ROLES:
            break
        count += len(e.chunks)
    return count


def is_message_start(item: HistoryItem) -> bool:
    """Whether ``item`` is a whole message or the first part of one."""
    return item.parts is None or item.parts <= 1 or item.part == 0


def decode_items(items: Iterable[HistoryItem]) -> list[StoredMessage]:
    """Reassemble message items (ascending seq, header excluded) into messages."""
    out: list[StoredMessage] = []
    group: list[HistoryItem] = []
    for item in items:
        if item.parts is None or item.parts == 1:
            if group:
                raise CorruptHistory(f"incomplete multi-part message at seq {group[0].seq}")
            out.append(StoredMessage(int(item.seq), _loads(item.message, item.seq)))
            continue
        expected_part = len(group)
        if item.part != expected_part or (group and item.seq != group[-1].seq + 1):
            raise CorruptHistory(f"unexpected part {item.part} at seq {item.seq}")
        group.append(item)
        if len(group) == item.parts:
            text = "".join(p.message or "" for p in group)
            out.append(StoredMessage(int(group[0].seq), _loads(text, group[0].seq)))
            group = []
    if group:
        raise CorruptHistory(f"incomplete multi-part message at seq {group[0].seq}")
    return out


def _loads(text: str | None, seq: float) -> dict:
    try:
        value = json.loads(text or "")
    except ValueError:
        raise CorruptHistory(f"undecodable message at seq {seq}") from None
    if not isinstance(value, dict):
        raise CorruptHistory(f"message at seq {seq} is not an object")
    return value


def epoch_datetime(seconds: float) -> datetime:
    return datetime.fromtimestamp(int(seconds), tz=UTC)

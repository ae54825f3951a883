"""Configuration from the environment, check_size before the model call, and page cursors."""

from __future__ import annotations

import base64

import pytest

from gateway.errors import ErrorKind, GatewayError
from gateway.history import HistoryConfig, HistoryStore
from gateway.history.models import HEADER_SEQ
from gateway.history.store import decode_cursor, decode_page_token, encode_cursor, encode_page_token
from gateway.settings import SettingsError


def test_defaults() -> None:
    config = HistoryConfig.from_env({})
    assert (config.table_name, config.region, config.max_messages, config.ttl_days) == (
        "genai-gateway-history",
        "us-east-1",
        100,
        30.0,
    )
    assert (config.connect_timeout_seconds, config.max_attempts) == (2.0, 2)


def test_from_env() -> None:
    config = HistoryConfig.from_env(
        {
            "HISTORY_TABLE_NAME": "t",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "HISTORY_MAX_MESSAGES": "20",
            "HISTORY_TTL_DAYS": "7",
            "HISTORY_MAX_MESSAGE_BYTES": "1000000",
        }
    )
    assert (config.table_name, config.region, config.max_messages, config.ttl_days) == ("t", "eu-west-1", 20, 7)
    assert config.max_message_bytes == 1_000_000
    assert HistoryConfig.from_env({"AWS_REGION": "ap-south-1", "AWS_DEFAULT_REGION": "x"}).region == "ap-south-1"


@pytest.mark.parametrize(
    "env",
    [
        {"HISTORY_MAX_MESSAGES": "many"},
        {"HISTORY_MAX_MESSAGES": "1.5"},
        {"HISTORY_TTL_DAYS": "0"},
        {"HISTORY_ITEM_BUDGET_BYTES": "410000"},
        {"HISTORY_MAX_MESSAGE_BYTES": "4000000"},
    ],
)
def test_bad_values_are_named(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match=next(iter(env))):
        HistoryConfig.from_env(env)


def test_check_size_needs_no_store_and_leaves_room_for_the_reply() -> None:
    store = HistoryStore(HistoryConfig())  # no request is made
    store.check_size([{"role": "user", "content": "x" * 2_900_000}])
    store.check_size([{"role": "user", "content": "hi"}] * 90)

    with pytest.raises(GatewayError) as too_many:
        store.check_size([{"role": "user", "content": "hi"}] * 97)
    with pytest.raises(GatewayError) as too_big:
        store.check_size([{"role": "user", "content": "x" * 1_900_000}] * 2)

    for err in (too_many.value, too_big.value):
        assert err.kind is ErrorKind.VALIDATION
        assert "100 items" in err.message and "4,000,000 bytes" in err.message


def test_cursor_round_trip_uses_the_callers_owner() -> None:
    key = {
        "owner_id": {"S": "user:alice"},
        "created_at": {"N": "1800000000123"},
        "session_id": {"S": "ab" * 16},
        "seq": {"N": str(HEADER_SEQ)},
    }

    cursor = encode_cursor(key)

    assert decode_cursor(cursor, "user:alice") == key
    assert decode_cursor(cursor, "user:bob")["owner_id"] == {"S": "user:bob"}


@pytest.mark.parametrize("cursor", ["", "!!!", "e30", "WyJ4IiwieSJd", "WzEsMl0"])
def test_bad_cursors_are_validation_errors(cursor: str) -> None:
    with pytest.raises(GatewayError) as err:
        decode_cursor(cursor, "user:alice")
    assert err.value.kind is ErrorKind.VALIDATION


def test_read_limits_default_and_come_from_the_environment() -> None:
    defaults = HistoryConfig.from_env({})
    assert (defaults.max_replay_bytes, defaults.page_max_bytes) == (8_000_000, 4_000_000)
    config = HistoryConfig.from_env({"HISTORY_MAX_REPLAY_BYTES": "500000", "HISTORY_PAGE_MAX_BYTES": "200000"})
    assert (config.max_replay_bytes, config.page_max_bytes) == (500_000, 200_000)
    with pytest.raises(SettingsError, match="HISTORY_PAGE_MAX_BYTES"):
        HistoryConfig.from_env({"HISTORY_PAGE_MAX_BYTES": "0"})


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000,  # was a RecursionError: 500
        b'["1_000", "' + b"a" * 32 + b'"]',  # int() takes these, DynamoDB does not: was a 503
        b'[" 12", "' + b"a" * 32 + b'"]',
        '["٣", "{}"]'.format("a" * 32).encode(),
        b'["' + b"9" * 60 + b'", "' + b"a" * 32 + b'"]',
        b'["1", "' + b"a" * 32 + b'\\n"]',
    ],
    ids=["deep", "underscore", "space", "arabic-digit", "60-digits", "newline"],
)
def test_session_cursors_dynamodb_would_refuse_are_validation_errors(raw: bytes) -> None:
    with pytest.raises(GatewayError) as err:
        decode_cursor(b64(raw), "user:alice")
    assert err.value.kind is ErrorKind.VALIDATION and err.value.param == "next_token"


def test_page_tokens_round_trip() -> None:
    assert decode_page_token(encode_page_token(1)) == 1
    assert decode_page_token(encode_page_token(123_456)) == 123_456


@pytest.mark.parametrize(
    "token",
    ["!!!", "ü", "x" * 300, b64(b"seq:0"), b64(b"seq:01"), b64(b"seq:" + b"9" * 19), b64(b"seq:1\n"), b64(b"[" * 50)],
)
def test_bad_page_tokens_are_validation_errors(token: str) -> None:
    with pytest.raises(GatewayError) as err:
        decode_page_token(token)
    assert err.value.kind is ErrorKind.VALIDATION and err.value.param == "next_token"

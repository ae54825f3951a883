"""The history store against the DynamoDB emulator: sessions, round trips, ownership, listing, TTL."""

from __future__ import annotations

import time

import pytest

from gateway.errors import ErrorKind, GatewayError
from gateway.history import HistoryConfig, HistoryStore
from gateway.history.models import HEADER_SEQ

PIXEL = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)

TURN_1 = [
    {"role": "system", "content": "You are terse."},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is in this picture? Ünïcödé ✓ 日本語"},
            {"type": "image_url", "image_url": {"url": PIXEL, "detail": "low"}},
        ],
    },
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "describe", "arguments": '{"detail": "high", "n": 1.5}'},
            }
        ],
    },
]
TURN_2 = [
    {"role": "tool", "tool_call_id": "call_1", "content": "a single transparent pixel"},
    {"role": "assistant", "content": "A 1x1 pixel, naïve café."},
]


def test_new_session_loads_empty(store: HistoryStore, alice) -> None:
    session_id = store.new_session(alice.owner_id)

    turn = store.load_for_turn(session_id, alice)

    assert len(session_id) == 32 and int(session_id, 16) >= 0
    assert turn.messages == [] and turn.last_seq == 0 and turn.owner_id == alice.owner_id


def test_turns_round_trip_identically(store: HistoryStore, alice) -> None:
    start = store.start_session(alice.owner_id)
    store.append(start, TURN_1, "gpt-4o")
    turn = store.load_for_turn(start.session_id, alice)
    assert turn.messages == TURN_1

    store.append(turn, TURN_2, "gpt-4o")

    assert store.load(start.session_id, alice) == TURN_1 + TURN_2


def test_append_by_session_id_continues_after_the_tail(store: HistoryStore, alice) -> None:
    session_id = store.new_session(alice.owner_id)
    store.append(session_id, TURN_1, None)
    store.append(session_id, TURN_2, None)

    assert store.load(session_id, alice) == TURN_1 + TURN_2


def test_items_carry_role_model_and_ttl(store: HistoryStore, config: HistoryConfig, alice, raw) -> None:
    turn = store.start_session(alice.owner_id)
    store.append(turn, TURN_2, "claude-sonnet")
    now = time.time()

    *messages, header = raw.items(turn.session_id)  # the header sorts after every message

    assert header["owner_id"] == {"S": alice.owner_id} and header["seq"] == {"N": str(HEADER_SEQ)}
    assert [m["seq"]["N"] for m in messages] == ["1", "2"] and not any("owner_id" in m for m in messages)
    assert [m["role"]["S"] for m in messages] == ["tool", "assistant"]
    assert all(m["model"] == {"S": "claude-sonnet"} for m in messages)
    for item in [header, *messages]:
        expires_at = int(item["expires_at"]["N"])
        assert abs(expires_at - (now + config.ttl_days * 86400)) < 60
        assert abs(int(item["created_at"]["N"]) / 1000 - now) < 60


def test_other_owner_gets_the_same_not_found_as_a_missing_session(store: HistoryStore, alice, bob) -> None:
    session_id = store.new_session(alice.owner_id)
    store.append(session_id, TURN_2, None)

    with pytest.raises(GatewayError) as not_yours:
        store.load_for_turn(session_id, bob)
    with pytest.raises(GatewayError) as missing:
        store.load_for_turn("0" * 32, bob)
    with pytest.raises(GatewayError) as malformed:
        store.load_for_turn("../../etc", bob)

    for err in (not_yours.value, missing.value, malformed.value):
        assert err.kind is ErrorKind.NOT_FOUND
        assert err.openai_body() == missing.value.openai_body()


def test_keys_of_one_user_share_sessions(store: HistoryStore, alice) -> None:
    from gateway.identity.principal import Principal

    other_key_same_user = Principal(type="key", user_id="alice", key_hash="b" * 64)
    session_id = store.new_session(alice.owner_id)
    store.append(session_id, TURN_2, None)

    assert store.load(session_id, other_key_same_user) == TURN_2


def test_admin_reads_any_session(store: HistoryStore, alice, admin) -> None:
    session_id = store.new_session(alice.owner_id)
    store.append(session_id, TURN_2, None)

    assert store.load(session_id, admin) == TURN_2


def test_list_sessions_newest_first_across_pages(config: HistoryConfig, alice, bob) -> None:
    ticks = iter(range(10**9))
    store = HistoryStore(config, clock=lambda: 1_800_000_000 + next(ticks) / 1000)  # 1 ms apart
    created = [store.new_session(alice.owner_id) for _ in range(120)]
    store.new_session(bob.owner_id)

    pages: list[list[str]] = []
    cursor = None
    while True:
        ids, cursor = store.list_sessions(alice.owner_id, limit=50, cursor=cursor)
        pages.append(ids)
        if cursor is None:
            break

    assert [len(p) for p in pages[:3]] == [50, 50, 20] and all(not p for p in pages[3:])
    assert [sid for page in pages for sid in page] == created[::-1]


def test_list_sessions_rejects_a_forged_cursor(store: HistoryStore, alice) -> None:
    with pytest.raises(GatewayError) as err:
        store.list_sessions(alice.owner_id, cursor="not-a-cursor")
    assert err.value.kind is ErrorKind.VALIDATION


def test_expired_session_is_not_found_and_not_listed(config: HistoryConfig, alice) -> None:
    now = [time.time()]
    store = HistoryStore(config, clock=lambda: now[0])
    session_id = store.new_session(alice.owner_id)
    store.append(session_id, TURN_2, None)

    now[0] += config.ttl_days * 86400 + 1  # DynamoDB deletes lazily: expired items must not show

    with pytest.raises(GatewayError) as err:
        store.load(session_id, alice)
    assert err.value.kind is ErrorKind.NOT_FOUND
    assert store.list_sessions(alice.owner_id)[0] == []


def test_activity_extends_the_session_and_old_messages_age_out(config: HistoryConfig, alice) -> None:
    now = [time.time()]
    store = HistoryStore(config, clock=lambda: now[0])
    session_id = store.new_session(alice.owner_id)
    old = [{"role": "user", "content": "old"}, {"role": "assistant", "content": "old reply"}]
    new = [{"role": "user", "content": "new"}, {"role": "assistant", "content": "new reply"}]
    store.append(session_id, old, None)
    now[0] += config.ttl_days * 86400 * 0.75
    store.append(session_id, new, None)  # refreshes the header's TTL
    now[0] += config.ttl_days * 86400 * 0.5  # past the first turn's TTL, not the second's

    assert store.load(session_id, alice) == new


def test_ensure_table_creates_the_same_table_as_the_cdk_definition(aws_env: str, table_name: str) -> None:
    import boto3

    client = boto3.client("dynamodb")
    created = HistoryStore(HistoryConfig(table_name=f"{table_name}-pynamo"))
    created.ensure_table()
    created.ensure_table()  # idempotent
    created.ping()

    def shape(name: str) -> tuple:
        table = client.describe_table(TableName=name)["Table"]
        gsi = table["GlobalSecondaryIndexes"][0]
        ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        return (
            table["KeySchema"],
            sorted(table["AttributeDefinitions"], key=lambda a: a["AttributeName"]),
            table["BillingModeSummary"]["BillingMode"],
            gsi["IndexName"],
            gsi["KeySchema"],
            gsi["Projection"],
            ttl,
        )

    assert shape(f"{table_name}-pynamo") == shape(table_name)


def test_append_to_a_missing_session_is_not_found_and_writes_nothing(store: HistoryStore, alice, raw) -> None:
    from gateway.history import SessionTurn

    ghost = "f" * 32
    for turn in (SessionTurn(ghost, alice.owner_id, [], 0), ghost):
        with pytest.raises(GatewayError) as err:
            store.append(turn, TURN_2, None)
        assert err.value.kind is ErrorKind.NOT_FOUND
    assert raw.items(ghost) == []

"""Big messages are split across items and reassembled; too big ones are rejected before any write."""

from __future__ import annotations

import base64
import os

import pytest

from gateway.errors import ErrorKind, GatewayError
from gateway.history import HistoryConfig, HistoryStore


def image_message(size: int) -> dict:
    data = base64.b64encode(os.urandom(size * 3 // 4)).decode()
    return {
        "role": "user",
        "content": [
            {"type": "text", "text": "describe"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}},
        ],
    }


def test_a_one_megabyte_image_round_trips_intact(store: HistoryStore, alice, raw) -> None:
    message = image_message(1_000_000)
    reply = {"role": "assistant", "content": "noise"}
    turn = store.start_session(alice.owner_id)
    store.check_size([message])

    store.append(turn, [message, reply], "m")

    assert store.load(turn.session_id, alice) == [message, reply]
    items = raw.items(turn.session_id)
    parts = [i for i in items if "parts" in i]
    assert len(parts) >= 3 and all(len(i["message"]["S"]) <= 350_000 for i in parts)
    assert [int(i["part"]["N"]) for i in parts] == list(range(len(parts)))


def test_multibyte_text_split_across_items_round_trips(config: HistoryConfig, alice) -> None:
    store = HistoryStore(HistoryConfig(table_name=config.table_name, item_budget_bytes=1024))
    message = {"role": "user", "content": "日本語テキスト🙂" * 500}
    session_id = store.new_session(alice.owner_id)

    store.append(session_id, [message], None)

    assert store.load(session_id, alice) == [message]


def test_a_five_megabyte_image_is_rejected_before_anything_is_written(store: HistoryStore, alice, raw) -> None:
    message = image_message(5_000_000)
    turn = store.start_session(alice.owner_id)

    with pytest.raises(GatewayError) as before_call:
        store.check_size([message])
    with pytest.raises(GatewayError) as on_append:
        store.append(turn, [message, {"role": "assistant", "content": "x"}], "m")

    for err in (before_call.value, on_append.value):
        assert err.kind is ErrorKind.VALIDATION
        assert "3,000,000 bytes" in err.message
    assert len(raw.items(turn.session_id)) == 1  # only the header


def test_a_turn_beyond_one_transaction_is_rejected(store: HistoryStore, alice, raw) -> None:
    messages = [{"role": "user", "content": f"m{i}"} for i in range(120)]
    turn = store.start_session(alice.owner_id)

    with pytest.raises(GatewayError) as err:
        store.append(turn, messages, None)

    assert err.value.kind is ErrorKind.VALIDATION and "100 items" in err.value.message
    assert len(raw.items(turn.session_id)) == 1


def test_max_messages_keeps_the_newest_from_a_clean_boundary(config: HistoryConfig, alice) -> None:
    store = HistoryStore(HistoryConfig(table_name=config.table_name, max_messages=5))
    session_id = store.new_session(alice.owner_id)
    system = {"role": "system", "content": "be brief"}
    tool_turn = [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "w", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
        {"role": "assistant", "content": "Sunny."},
    ]
    last = [{"role": "user", "content": "thanks"}, {"role": "assistant", "content": "welcome"}]
    store.append(session_id, [system, *tool_turn], None)
    store.append(session_id, last, None)

    # newest 4 after the pinned system message would start at the orphaned tool result
    assert store.load(session_id, alice) == [system, *last]
    assert store.load(session_id, alice, trim=False) == [system, *tool_turn, *last]

"""Message ⇄ item encoding: canonical JSON, UTF-8-safe splitting, reassembly, size limits."""

from __future__ import annotations

import json

import pytest

from gateway.errors import ErrorKind, GatewayError
from gateway.history import HistoryConfig
from gateway.history.config import ITEM_MAX_BYTES
from gateway.history.models import (
    CorruptHistory,
    HistoryItem,
    canonical_json,
    decode_items,
    encode_message,
    message_item_size,
    split_utf8,
)

CONFIG = HistoryConfig()


@pytest.mark.parametrize("text", ["", "abc", "é" * 10, "日本🙂" * 7, "a🙂b" * 100])
@pytest.mark.parametrize("budget", [4, 5, 7, 64])
def test_split_utf8_never_cuts_a_character_and_rejoins(text: str, budget: int) -> None:
    chunks = split_utf8(text, budget)

    assert "".join(chunks) == text
    assert all(len(c.encode("utf-8")) <= budget for c in chunks)
    assert all(chunks) or text == ""


def test_canonical_json_is_compact_utf8_and_survives_lone_surrogates() -> None:
    assert canonical_json({"role": "user", "content": "café"}) == '{"role":"user","content":"café"}'
    odd = {"role": "user", "content": "\ud800"}
    assert json.loads(canonical_json(odd)) == odd
    canonical_json(odd).encode("utf-8")


@pytest.mark.parametrize(
    "message",
    [None, "hi", {"content": "no role"}, {"role": ""}, {"role": 3}, {"role": "user", "content": float("nan")}],
)
def test_malformed_messages_are_validation_errors(message) -> None:
    with pytest.raises(GatewayError) as err:
        encode_message(message, 2, CONFIG, None)
    assert err.value.kind is ErrorKind.VALIDATION and "messages[2]" in err.value.message


def test_a_message_above_the_hard_cap_names_the_limit() -> None:
    with pytest.raises(GatewayError) as err:
        encode_message({"role": "user", "content": "x" * 3_000_001}, 0, CONFIG, "m")
    assert err.value.kind is ErrorKind.VALIDATION
    assert "3,000,000 bytes" in err.value.message and "HISTORY_MAX_MESSAGE_BYTES" in err.value.message


def test_every_item_of_a_split_message_fits_dynamodb() -> None:
    model = "bedrock/arn:aws:bedrock:us-east-1:123456789012:inference-profile/" + "x" * 500
    encoded = encode_message({"role": "user", "content": "y" * 2_000_000}, 0, CONFIG, model)

    assert len(encoded.chunks) == 6
    assert all(message_item_size(c, "user", model, split=True) < ITEM_MAX_BYTES for c in encoded.chunks)


def _item(seq: int, text: str, part: int | None = None, parts: int | None = None) -> HistoryItem:
    return HistoryItem("s" * 32, seq, role="user", message=text, created_at=0, expires_at=None, part=part, parts=parts)


def test_decode_reassembles_parts_between_whole_messages() -> None:
    whole = json.dumps({"role": "user", "content": "one"})
    big = json.dumps({"role": "assistant", "content": "two" * 10})
    items = [_item(1, whole), _item(2, big[:7], 0, 3), _item(3, big[7:20], 1, 3), _item(4, big[20:], 2, 3)]
    items.append(_item(5, whole))

    decoded = decode_items(items)

    assert [d.seq for d in decoded] == [1, 2, 5]
    assert [d.message["content"] for d in decoded] == ["one", "two" * 10, "one"]


@pytest.mark.parametrize(
    "items",
    [
        [_item(1, "{", 0, 2)],  # incomplete
        [_item(1, "{", 1, 2), _item(2, "}", 0, 2)],  # out of order
        [_item(1, "{", 0, 2), _item(3, "}", 1, 2)],  # gap in seq
        [_item(1, "[1]")],  # not an object
        [_item(1, "{oops")],
    ],
)
def test_decode_refuses_what_it_did_not_write(items) -> None:
    with pytest.raises(CorruptHistory):
        decode_items(items)

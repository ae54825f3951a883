"""The Responses item ⇄ chat message mapping (the table in gateway/responses/items.py)."""

from __future__ import annotations

import json

import pytest

from gateway.errors import GatewayError
from gateway.responses.ids import mint_response_id, parse_conversation_id, parse_response_id
from gateway.responses.items import input_items, items_to_messages, message_to_items, messages_to_input

SIGNED = [{"type": "thinking", "thinking": "hmm", "signature": "sig=="}, {"type": "redacted_thinking", "data": "xx"}]

CASES = [
    ("a string input is one user message", "hello", [{"role": "user", "content": "hello"}]),
    (
        "input parts",
        [
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "see"},
                    {"type": "input_image", "image_url": "https://x/y.png", "detail": "low"},
                    {"type": "input_file", "file_data": "data:application/pdf;base64,AA", "filename": "a.pdf"},
                ],
            }
        ],
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "see"},
                    {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}},
                    {"type": "file", "file": {"file_data": "data:application/pdf;base64,AA", "filename": "a.pdf"}},
                ],
            }
        ],
    ),
    (
        "system and developer messages keep their role",
        [{"type": "message", "role": "developer", "content": "rules"}, {"role": "system", "content": "more"}],
        [{"role": "developer", "content": "rules"}, {"role": "system", "content": "more"}],
    ),
    (
        "reasoning, text and calls that follow each other are one assistant message",
        [
            {
                "type": "reasoning",
                "id": "rs_1",
                "summary": [{"type": "summary_text", "text": "think"}],
                "encrypted_content": json.dumps(SIGNED),
            },
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Let me check."}]},
            {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"},
            {"type": "function_call", "call_id": "call_2", "name": "g", "arguments": '{"a":1}'},
            {"type": "function_call_output", "call_id": "call_1", "output": "one"},
            {"type": "function_call_output", "call_id": "call_2", "output": [{"type": "input_text", "text": "two"}]},
        ],
        [
            {
                "role": "assistant",
                "content": "Let me check.",
                "reasoning_content": "think",
                "thinking_blocks": SIGNED,
                "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                    {"id": "call_2", "type": "function", "function": {"name": "g", "arguments": '{"a":1}'}},
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "one"},
            {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "two"}]},
        ],
    ),
    (
        "a second assistant message after calls starts a new message",
        [
            {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
            {"role": "assistant", "content": "done"},
        ],
        [
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
            },
            {"role": "assistant", "content": "done"},
        ],
    ),
]


@pytest.mark.parametrize(("items", "messages"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_items_map_to_chat_messages(items, messages):
    assert items_to_messages(input_items(items)) == messages


@pytest.mark.parametrize(("items", "messages"), [c[1:] for c in CASES[1:]], ids=[c[0] for c in CASES[1:]])
def test_chat_messages_map_back_to_the_same_items(items, messages):
    """Round trip: messages → items → messages is the identity (the chain replayed to the model)."""
    assert items_to_messages(messages_to_input(messages, "s" * 32)) == messages


def test_an_empty_reasoning_item_keeps_nothing_and_an_empty_summary_is_not_a_text():
    assert items_to_messages([{"type": "reasoning", "id": "rs_1", "summary": []}]) == []
    items = [{"type": "reasoning", "summary": []}, {"role": "assistant", "content": "hi"}]
    assert items_to_messages(items) == [{"role": "assistant", "content": "hi"}]


def test_reverse_mapping_orders_reasoning_text_then_calls_and_gives_stable_ids():
    message = CASES[3][2][0]
    items = message_to_items(message, lambda prefix, k: f"{prefix}_{k}")
    assert [(i["id"], i["type"]) for i in items] == [
        ("rs_0", "reasoning"),
        ("msg_1", "message"),
        ("fc_2", "function_call"),
        ("fc_3", "function_call"),
    ]
    assert json.loads(items[0]["encrypted_content"]) == SIGNED
    assert items[1]["content"] == [{"type": "output_text", "text": "Let me check.", "annotations": []}]


def test_replayed_reasoning_items_get_litellm_style_ids():
    (item, *_) = messages_to_input([{"role": "assistant", "content": "x", "reasoning_content": "r"}], "a" * 32)
    assert item["type"] == "reasoning" and item["id"].startswith("rs_") and len(item["id"]) == 39


@pytest.mark.parametrize(
    "items",
    [
        [{"type": "item_reference", "id": "msg_1"}],
        [{"type": "web_search_call", "id": "ws_1", "status": "completed"}],
        [{"role": "tool", "content": "x"}],
        [{"role": "user", "content": [{"type": "input_image", "file_id": "file-1"}]}],
        [{"type": "function_call", "call_id": "c", "name": "f"}],
        [{"type": "function_call_output", "output": "x"}],
        [{"role": "user", "content": []}],
    ],
)
def test_items_with_no_chat_form_are_a_400_naming_the_item(items):
    with pytest.raises(GatewayError) as caught:
        items_to_messages(items)
    assert caught.value.kind.shape.openai_status == 400
    assert "input[0]" in caught.value.message


def test_a_malformed_input_is_a_400():
    for value in (5, None, [1], {"role": "user"}):
        with pytest.raises(GatewayError):
            input_items(value)


def test_response_ids_point_at_their_session_and_are_unguessable():
    session_id = "0123456789abcdef" * 2
    first, seq = mint_response_id(session_id)
    second, _ = mint_response_id(session_id)
    assert first != second and parse_response_id(first) == (session_id, seq) and seq < -(2**60)
    for bad in ("resp_x", first + "0", first.upper(), "resp_" + session_id + "0" * 16, None, 5):
        assert parse_response_id(bad) is None
    assert parse_conversation_id("conv_" + session_id) == session_id == parse_conversation_id(session_id)
    assert parse_conversation_id("conv_nope") is None

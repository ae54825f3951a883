"""OpenAI message structure: what the OpenAI API refuses is a 400 naming the field; the rest passes."""

from __future__ import annotations

import pytest

from gateway.chat.message_shape import check_messages
from gateway.errors import ErrorKind, GatewayError


@pytest.mark.parametrize(
    ("message", "named"),
    [
        ("hi", "messages[0] must be a message object"),
        ({"content": "hi"}, "messages[0].role"),
        ({"role": "robot", "content": "hi"}, "messages[0].role"),
        ({"role": "user"}, "messages[0].content"),
        ({"role": "user", "content": 3}, "messages[0].content"),
        ({"role": "user", "content": ["hi"]}, "messages[0].content[0]"),
        ({"role": "user", "content": [{"type": "text"}]}, "messages[0].content[0].text"),
        ({"role": "user", "content": [{"type": "image_url"}]}, "messages[0].content[0].image_url.url"),
        ({"role": "user", "content": [{"type": "image_url", "image_url": {}}]}, "messages[0].content[0].image_url"),
        ({"role": "tool", "content": "42"}, "messages[0].tool_call_id"),
        ({"role": "assistant", "tool_calls": {}}, "messages[0].tool_calls"),
        ({"role": "assistant", "tool_calls": [{"id": "c"}]}, "messages[0].tool_calls[0].function.name"),
        ({"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": {}}}]}, "arguments"),
    ],
)
def test_refused_with_the_field_named(message, named):
    with pytest.raises(GatewayError) as err:
        check_messages([message])
    assert err.value.kind is ErrorKind.VALIDATION and named in err.value.message


def test_what_openai_accepts_passes():
    check_messages(
        [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image_url", "image_url": "u"}]},
            {"role": "user", "content": [{"type": "input_audio", "input_audio": {}}, {"type": "file", "file": {}}]},
            {"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f"}}]},
            {"role": "tool", "tool_call_id": "c", "content": "42"},
            {"role": "assistant", "content": None, "thinking_blocks": []},
        ]
    )


def test_absent_messages_are_left_to_the_chat_service():
    check_messages(None)  # a prompt ARN brings its own messages

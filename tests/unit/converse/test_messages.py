"""OpenAI-format history -> Converse format (what a boto3 user sees when reading chat history)."""

from __future__ import annotations

import base64

import pytest

from gateway.converse.messages import openai_messages_to_converse
from gateway.converse.translate import converse_request_to_openai
from gateway.errors import ErrorKind, GatewayError

PNG_B64 = base64.b64encode(b"\x89PNG fake").decode()
PDF_B64 = base64.b64encode(b"%PDF fake").decode()


def test_user_assistant_tool_history():
    system, messages = openai_messages_to_converse(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Weather in Paris and Oslo?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "t1",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city":"Paris"}'},
                    },
                    {
                        "id": "t2",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city":"Oslo"}'},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "t1", "content": "21C"},
            {"role": "tool", "tool_call_id": "t2", "content": [{"type": "text", "text": "3C"}]},
            {"role": "user", "content": "Thanks, and tomorrow?"},
            {"role": "assistant", "content": "Similar."},
        ]
    )
    assert system == [{"text": "Be brief."}]
    assert messages == [
        {"role": "user", "content": [{"text": "Weather in Paris and Oslo?"}]},
        {
            "role": "assistant",
            "content": [
                {"toolUse": {"toolUseId": "t1", "name": "weather", "input": {"city": "Paris"}}},
                {"toolUse": {"toolUseId": "t2", "name": "weather", "input": {"city": "Oslo"}}},
            ],
        },
        {  # consecutive tool results and the user text after them form one user turn
            "role": "user",
            "content": [
                {"toolResult": {"toolUseId": "t1", "content": [{"text": "21C"}]}},
                {"toolResult": {"toolUseId": "t2", "content": [{"text": "3C"}]}},
                {"text": "Thanks, and tomorrow?"},
            ],
        },
        {"role": "assistant", "content": [{"text": "Similar."}]},
    ]


def test_images_documents_cache_points_and_reasoning():
    system, messages = openai_messages_to_converse(
        [
            {
                "role": "developer",
                "content": [{"type": "text", "text": "Rules", "cache_control": {"type": "ephemeral"}}],
            },
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Compare"},
                    {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{PNG_B64}"}},
                    {
                        "type": "file",
                        "file": {
                            "file_data": f"data:application/pdf;base64,{PDF_B64}",
                            "filename": "spec.pdf",
                        },
                    },
                    {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
                    {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}},
                ],
            },
            {
                "role": "assistant",
                "content": "Done.",
                "reasoning_content": "Looked at both.",
                "thinking_blocks": [{"type": "thinking", "thinking": "Looked at both.", "signature": "s1"}],
            },
        ]
    )
    assert system == [{"text": "Rules"}]
    assert messages[0]["content"] == [
        {"text": "Compare"},
        {"image": {"format": "jpeg", "source": {"bytes": PNG_B64}}},
        {"document": {"format": "pdf", "name": "spec", "source": {"bytes": PDF_B64}}},
        {"text": "[image: https://example.com/cat.png]"},
        {"text": "[input_audio content omitted]"},
    ]
    assert messages[1]["content"] == [
        {"reasoningContent": {"reasoningText": {"text": "Looked at both.", "signature": "s1"}}},
        {"text": "Done."},
    ]


def test_cache_control_on_a_user_part_becomes_a_cache_point():
    _, messages = openai_messages_to_converse(
        [
            {
                "role": "user",
                "content": [{"type": "text", "text": "big", "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
            }
        ]
    )
    assert messages[0]["content"] == [{"text": "big"}, {"cachePoint": {"type": "default", "ttl": "1h"}}]


def test_converse_to_openai_and_back_is_lossless(bedrock):
    wire = bedrock.wire_body(
        modelId="m",
        system=[{"text": "Be brief."}],
        messages=[
            {
                "role": "user",
                "content": [
                    {"text": "Look"},
                    {"image": {"format": "png", "source": {"bytes": b"\x89PNG fake"}}},
                    {
                        "document": {
                            "format": "pdf",
                            "name": "Quarterly report",
                            "source": {"bytes": b"%PDF fake"},
                        }
                    },
                    {"cachePoint": {"type": "default"}},
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"reasoningContent": {"reasoningText": {"text": "hmm", "signature": "sig"}}},
                    {"reasoningContent": {"redactedContent": b"opaque"}},
                    {"text": "Calling."},
                    {"toolUse": {"toolUseId": "t1", "name": "lookup", "input": {"q": "x", "n": [1, 2]}}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"toolResult": {"toolUseId": "t1", "content": [{"text": "found"}]}},
                    {"text": "Go on"},
                ],
            },
        ],
    )
    openai_body = converse_request_to_openai("m", wire).openai_body
    system, messages = openai_messages_to_converse(openai_body["messages"])
    assert system == wire["system"]
    assert messages == wire["messages"]


@pytest.mark.parametrize(
    ("messages", "error"),
    [
        ("nope", "messages must be a list"),
        (["nope"], "messages[0] must be an object"),
        ([{"role": "robot", "content": "x"}], "messages[0].role must be one of"),
        ([{"role": "tool", "content": "x"}], "messages[0].tool_call_id must be a string"),
        ([{"role": "user", "content": 7}], "messages[0].content must be a string or a list"),
    ],
)
def test_malformed_history_is_a_validation_error(messages, error):
    with pytest.raises(GatewayError) as info:
        openai_messages_to_converse(messages)
    assert info.value.kind is ErrorKind.VALIDATION
    assert error in info.value.message

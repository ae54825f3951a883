"""OpenAI (LiteLLM) chat completion -> Converse response, as a boto3 caller receives it."""

from __future__ import annotations

import json

import pytest

from gateway.converse.translate import converse_usage, openai_response_to_converse, stop_reason_from_finish
from gateway.errors import ErrorKind, GatewayError


def _completion(message: dict, finish_reason: str | None = "stop", usage: dict | None = None) -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish_reason}],
        "usage": usage or {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def test_text_response(bedrock):
    converse = openai_response_to_converse(_completion({"content": "Bonjour !"}), latency_ms=321)
    assert converse == {
        "output": {"message": {"role": "assistant", "content": [{"text": "Bonjour !"}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15},
        "metrics": {"latencyMs": 321},
    }
    bedrock.respond(json.dumps(converse).encode())
    parsed = bedrock.client.converse(modelId="m", messages=[{"role": "user", "content": [{"text": "hi"}]}])
    assert parsed["output"] == converse["output"]
    assert parsed["stopReason"] == "end_turn"
    assert parsed["metrics"] == {"latencyMs": 321}


def test_reasoning_text_and_tool_calls_in_bedrock_order(bedrock):
    message = {
        "content": "Let me check.",
        "reasoning_content": "User wants weather.",
        "thinking_blocks": [
            {"type": "thinking", "thinking": "User wants weather.", "signature": "c2ln"},
            {"type": "redacted_thinking", "data": "opaque"},
        ],
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            },
            {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": ""}},
            {"id": "call_3", "type": "function", "function": {"name": "echo", "arguments": "{not json"}},
        ],
    }
    converse = openai_response_to_converse(_completion(message, "tool_calls"), latency_ms=5)
    assert converse["output"]["message"]["content"] == [
        {"reasoningContent": {"reasoningText": {"text": "User wants weather.", "signature": "c2ln"}}},
        {"reasoningContent": {"redactedContent": "b3BhcXVl"}},
        {"text": "Let me check."},
        {"toolUse": {"toolUseId": "call_1", "name": "get_weather", "input": {"city": "Paris"}}},
        {"toolUse": {"toolUseId": "call_2", "name": "get_time", "input": {}}},
        {"toolUse": {"toolUseId": "call_3", "name": "echo", "input": "{not json"}},  # kept, not lost
    ]
    assert converse["stopReason"] == "tool_use"
    bedrock.respond(json.dumps(converse).encode())
    parsed = bedrock.client.converse(modelId="m", messages=[{"role": "user", "content": [{"text": "hi"}]}])
    assert parsed["output"]["message"]["content"][1] == {"reasoningContent": {"redactedContent": b"opaque"}}
    assert parsed["output"]["message"]["content"][3]["toolUse"]["input"] == {"city": "Paris"}


def test_reasoning_content_without_thinking_blocks_and_empty_text_is_omitted():
    converse = openai_response_to_converse(_completion({"content": "", "reasoning_content": "hmm"}), 1)
    assert converse["output"]["message"]["content"] == [{"reasoningContent": {"reasoningText": {"text": "hmm"}}}]


def test_tool_calls_reported_with_plain_stop_still_say_tool_use():
    message = {"content": None, "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "{}"}}]}
    assert openai_response_to_converse(_completion(message, "stop"), 1)["stopReason"] == "tool_use"


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        (None, {"inputTokens": 0, "outputTokens": 0, "totalTokens": 0}),
        (
            {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
            {"inputTokens": 100, "outputTokens": 20, "totalTokens": 120},
        ),
        (  # OpenAI: cached tokens are part of prompt_tokens
            {
                "prompt_tokens": 100,
                "completion_tokens": 20,
                "total_tokens": 120,
                "prompt_tokens_details": {"cached_tokens": 60},
            },
            {"inputTokens": 40, "outputTokens": 20, "totalTokens": 120, "cacheReadInputTokens": 60},
        ),
        (  # Anthropic/Bedrock through LiteLLM: reads and writes both folded into prompt_tokens
            {
                "prompt_tokens": 1500,
                "completion_tokens": 30,
                "total_tokens": 1530,
                "cache_read_input_tokens": 1000,
                "cache_creation_input_tokens": 400,
                "prompt_tokens_details": {"cached_tokens": 1000},
            },
            {
                "inputTokens": 100,
                "outputTokens": 30,
                "totalTokens": 1530,
                "cacheReadInputTokens": 1000,
                "cacheWriteInputTokens": 400,
            },
        ),
    ],
)
def test_usage_with_cache_tokens(usage, expected):
    assert converse_usage(usage) == expected


@pytest.mark.parametrize(
    ("finish_reason", "stop_reason"),
    [
        ("stop", "end_turn"),
        ("length", "max_tokens"),
        ("tool_calls", "tool_use"),
        ("function_call", "tool_use"),
        ("content_filter", "content_filtered"),
        (None, "end_turn"),
        ("guardrail_intervened", "guardrail_intervened"),
        ("something_new", "end_turn"),
    ],
)
def test_stop_reasons(finish_reason, stop_reason):
    assert stop_reason_from_finish(finish_reason) == stop_reason


@pytest.mark.parametrize("response", [{}, {"choices": []}, {"choices": ["x"]}, []])
def test_malformed_upstream_response_is_a_model_error(response):
    with pytest.raises(GatewayError) as info:
        openai_response_to_converse(response, 1)
    assert info.value.kind is ErrorKind.MODEL_ERROR

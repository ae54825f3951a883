"""Which LiteLLM call counts a CountTokens request (gateway.token_count)."""

from __future__ import annotations

import base64
import json

import pytest

from gateway.errors import GatewayError
from gateway.token_count import ANTHROPIC_COUNT_PATH, OPENAI_COUNT_PATH, count_tokens_call, input_tokens

ANTHROPIC = {
    "anthropic_version": "bedrock-2023-05-31",
    "anthropic_beta": ["context-1m-2025-08-07"],
    "max_tokens": 10,
    "system": "Be brief.",
    "messages": [{"role": "user", "content": "hi"}],
    "tools": [
        {"name": "get_weather", "description": "Weather", "input_schema": {"type": "object"}},
        {"type": "web_search_20250305", "name": "web_search"},
    ],
}


def invoke(body: object) -> dict:
    return {"input": {"invokeModel": {"body": base64.b64encode(json.dumps(body).encode()).decode()}}}


def test_an_invoke_model_body_is_counted_by_litellms_messages_counter_with_a_local_fallback() -> None:
    call = count_tokens_call("gpt-4o", invoke(ANTHROPIC))
    assert call.path == ANTHROPIC_COUNT_PATH
    assert call.body["model"] == "gpt-4o" and "anthropic_version" not in call.body and "anthropic_beta" not in call.body
    assert call.body["tools"] == ANTHROPIC["tools"] and call.body["system"] == "Be brief."
    assert call.fallback is not None and call.fallback.path == OPENAI_COUNT_PATH
    assert call.fallback.body == {
        "model": "gpt-4o",
        "messages": ANTHROPIC["messages"],
        "system": "Be brief.",
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"},
                                                    "description": "Weather"}}],
    }  # fmt: skip
    assert input_tokens(call, {"input_tokens": 12}) == 12
    assert input_tokens(call.fallback, {"total_tokens": 9, "tokenizer_type": "openai_tokenizer"}) == 9


def test_a_converse_request_is_translated_and_counted_locally() -> None:
    tool = {"toolSpec": {"name": "t", "inputSchema": {"json": {"type": "object"}}}}
    converse = {
        "messages": [{"role": "user", "content": [{"text": "hi"}]}],
        "system": [{"text": "Be brief."}],
        "toolConfig": {"tools": [tool]},
    }
    call = count_tokens_call("mini", {"input": {"converse": converse}})
    assert call.path == OPENAI_COUNT_PATH and call.fallback is None
    assert call.body == {
        "model": "mini",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}],
        "tools": [{"type": "function", "function": {"name": "t", "parameters": {"type": "object"}}}],
    }


@pytest.mark.parametrize(
    ("request_body", "problem"),
    [
        ({}, "input is required"),
        ({"input": {}}, "exactly one of"),
        ({"input": {"invokeModel": {"body": "e30="}, "converse": {"messages": []}}}, "exactly one of"),
        ({"input": {"invokeModel": {"body": "e30="}}, "extra": 1}, "unknown field 'extra'"),
        ({"input": {"invokeModel": {"body": "%%%"}}}, "not base64"),
        ({"input": {"invokeModel": {"body": base64.b64encode(b"[1]").decode()}}}, "JSON object"),
        (invoke({"inputText": "Titan"}), "Anthropic Messages"),
        ({"input": {"converse": {"messages": [], "inferenceConfig": {}}}}, "input.converse.inferenceConfig"),
        ({"input": {"converse": {"messages": []}}}, "messages"),
    ],
)
def test_bad_requests_are_validation_errors_naming_the_problem(request_body: dict, problem: str) -> None:
    with pytest.raises(GatewayError) as caught:
        count_tokens_call("gpt-4o", request_body)
    assert caught.value.bedrock_name() == "ValidationException"
    assert problem in caught.value.message


def test_an_answer_without_a_count_is_a_model_error() -> None:
    call = count_tokens_call("gpt-4o", invoke(ANTHROPIC))
    with pytest.raises(GatewayError) as caught:
        input_tokens(call, {"input_tokens": "many"})
    assert caught.value.bedrock_name() == "ModelErrorException"

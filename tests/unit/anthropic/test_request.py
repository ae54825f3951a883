"""Anthropic Messages bodies on the invoke routes: what LiteLLM's /v1/messages receives, what is refused."""

from __future__ import annotations

import pytest

from gateway.anthropic.request import SUPPORTED_FORMAT, invoke_to_messages
from gateway.errors import ErrorKind, GatewayError

TOOL = {"name": "get_weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}
FULL = {
    "anthropic_version": "bedrock-2023-05-31",
    "anthropic_beta": ["interleaved-thinking-2025-05-14"],
    "max_tokens": 512,
    "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
    "messages": [
        {"role": "user", "content": [{"type": "text", "text": "weather?"},
                                     {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                                                  "data": "iVBORw0KGgo="}}]},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "hm", "signature": "sig"},
                                          {"type": "tool_use", "id": "toolu_1", "name": "get_weather",
                                           "input": {"city": "Paris"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "21 C"}]},
    ],
    "tools": [TOOL],
    "tool_choice": {"type": "auto"},
    "thinking": {"type": "enabled", "budget_tokens": 1024},
    "stop_sequences": ["###"],
    "temperature": 0.5,
    "top_p": 0.9,
    "top_k": 40,
    "metadata": {"user_id": "u-1"},
}  # fmt: skip


def refusal(body: dict, **kwargs) -> GatewayError:
    with pytest.raises(GatewayError) as raised:
        invoke_to_messages("m", body, stream=False, **kwargs)
    assert raised.value.kind is ErrorKind.VALIDATION
    return raised.value


def test_every_field_reaches_litellm_with_model_and_stream_and_betas_as_a_header():
    call = invoke_to_messages("fake-chat", FULL, stream=True, beta_header="context-1m-2025-08-07")
    expected = {k: v for k, v in FULL.items() if k not in ("anthropic_version", "anthropic_beta")}
    assert call.body == {**expected, "model": "fake-chat", "stream": True}
    assert call.headers() == {"anthropic-beta": "interleaved-thinking-2025-05-14,context-1m-2025-08-07"}


def test_betas_from_body_and_header_are_sent_once_each():
    body = {**FULL, "anthropic_beta": ["a", "b"]}
    assert invoke_to_messages("m", body, stream=False, beta_header="b, c,").betas == ("a", "b", "c")
    plain = {k: v for k, v in FULL.items() if k != "anthropic_beta"}
    assert invoke_to_messages("m", plain, stream=False).headers() == {}


@pytest.mark.parametrize(
    "body",
    [
        # Converse
        {"messages": [{"role": "user", "content": [{"text": "hi"}]}], "inferenceConfig": {"maxTokens": 5}},
        # Amazon Titan
        {"inputText": "hi", "textGenerationConfig": {"maxTokenCount": 5}},
        # OpenAI chat completions
        {"model": "gpt-4o", "messages": [{"role": "system", "content": "x"}, {"role": "user", "content": "hi"}]},
        # Anthropic text completions (Claude 2)
        {"anthropic_version": "bedrock-2023-05-31", "prompt": "\n\nHuman: hi\n\nAssistant:", "max_tokens_to_sample": 5},
    ],
    ids=["converse", "titan", "openai", "text-completions"],
)
def test_a_body_in_another_format_is_refused_naming_the_supported_one(body):
    assert SUPPORTED_FORMAT in refusal(body).message


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"messages": []}, "messages must be a non-empty list"),
        ({"messages": [{"content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": "user", "content": [{"text": "converse-style block"}]}]}, "messages[0].content[0]"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content must be"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": True}, "max_tokens"),
    ],
)
def test_an_envelope_that_is_not_anthropic_messages_is_refused(change, says):
    error = refusal({**FULL, **change})
    assert says in error.message and SUPPORTED_FORMAT in error.message


@pytest.mark.parametrize("key", ["model", "stream"])
def test_model_and_stream_in_the_body_are_refused_as_bedrock_does(key):
    error = refusal({**FULL, key: "x"})
    assert error.message == f"Malformed input request: #: extraneous key [{key}] is not permitted"


def test_anthropic_beta_must_be_a_list_of_strings():
    assert refusal({**FULL, "anthropic_beta": "a,b"}).param == "anthropic_beta"


def test_a_mid_conversation_system_message_goes_to_litellm():
    """Claude Code 2.1 sends ``{"role": "system"}`` messages after the first turn; LiteLLM takes them."""
    messages = [*FULL["messages"], {"role": "system", "content": [{"type": "text", "text": "Now be verbose."}]}]
    assert invoke_to_messages("m", {**FULL, "messages": messages}, stream=False).body["messages"] == messages

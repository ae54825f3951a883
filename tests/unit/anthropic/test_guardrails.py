"""InvokeModel's guardrail dialect (pure parts): the headers boto3 sends, the body's
``amazon-bedrock-guardrailConfig``, the verdict in the body and on the stream's last event, as clients read it."""

from __future__ import annotations

import json

import pytest
from starlette.datastructures import Headers

from gateway.anthropic.guardrails import (
    ACTION_KEY,
    TRACE_KEY,
    blocked_message,
    invoke_guardrail_request,
    invoke_trace,
    passthrough_intervention,
    verdict_fields,
)
from gateway.anthropic.stream import InvokeStreamEncoder, message_events
from gateway.converse.guardrails import GuardrailRequest, Intervention, LiteLLMGuardrail, resolve_guardrails
from gateway.errors import ErrorKind, GatewayError
from tests.unit.converse.conftest import BedrockHarness

AVAILABLE = {
    "block-prompt": LiteLLMGuardrail("block-prompt", frozenset({"pre_call"})),
    "block-answer": LiteLLMGuardrail("block-answer", frozenset({"post_call"})),
}
WORD = {"wordPolicy": {"customWords": [{"match": "zorblax", "action": "BLOCKED", "detected": True}]}}


def resolved(name: str, *, trace: bool):
    return resolve_guardrails(GuardrailRequest(name, "1", trace), {}, AVAILABLE)


def headers_boto3_sends(**params: str) -> Headers:
    """The HTTP headers of boto3's ``invoke_model(..., **params)``, captured before they leave."""
    harness = BedrockHarness()
    sent: list[Headers] = []

    def capture(request, **_):
        sent.append(Headers({k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}))

    harness.client.meta.events.register_first("before-send.bedrock-runtime.*", capture)
    harness.client.invoke_model(modelId="fake-chat", body=b"{}", **params)
    return sent[0]


def test_boto3s_guardrail_parameters_are_the_request_the_gateway_reads():
    sent = headers_boto3_sends(guardrailIdentifier="gr1abc", guardrailVersion="DRAFT", trace="ENABLED")
    assert invoke_guardrail_request(sent, None, stream=False) == GuardrailRequest("gr1abc", "DRAFT", True)
    assert invoke_guardrail_request(headers_boto3_sends(), None, stream=False) is None


@pytest.mark.parametrize(
    ("headers", "config", "stream", "message"),
    [
        ({"X-Amzn-Bedrock-GuardrailIdentifier": "g"}, None, False, "needs X-Amzn-Bedrock-GuardrailVersion"),
        ({}, {"tagSuffix": "abc"}, False, "needs the X-Amzn-Bedrock-GuardrailIdentifier header"),
        ({}, {"streamProcessingMode": "ASYNCHRONOUS"}, True, "needs the X-Amzn-Bedrock-GuardrailIdentifier"),
        ({"X-Amzn-Bedrock-GuardrailIdentifier": "g", "X-Amzn-Bedrock-GuardrailVersion": "1"}, [], False, "object"),
        (
            {"X-Amzn-Bedrock-GuardrailIdentifier": "g", "X-Amzn-Bedrock-GuardrailVersion": "1"},
            {"streamProcessingMode": "ASYNCHRONOUS"},
            False,
            "unknown field(s): streamProcessingMode",
        ),
        (
            {"X-Amzn-Bedrock-GuardrailIdentifier": "g", "X-Amzn-Bedrock-GuardrailVersion": "1"},
            {"streamProcessingMode": "sync"},
            True,
            "must be one of SYNCHRONOUS, ASYNCHRONOUS",
        ),
        (
            {"X-Amzn-Bedrock-GuardrailIdentifier": "g", "X-Amzn-Bedrock-GuardrailVersion": "1"},
            {"tagSuffix": ""},
            False,
            "tagSuffix must be a non-empty string",
        ),
    ],
)
def test_what_bedrock_refuses_is_a_validation_error_naming_the_field(headers, config, stream, message):
    with pytest.raises(GatewayError) as caught:
        invoke_guardrail_request(Headers(headers), config, stream=stream)
    assert caught.value.kind is ErrorKind.VALIDATION and message in caught.value.message


def test_a_valid_body_config_goes_with_the_header_request():
    headers = Headers({"X-Amzn-Bedrock-GuardrailIdentifier": "g", "X-Amzn-Bedrock-GuardrailVersion": "3"})
    config = {"tagSuffix": "xyz", "streamProcessingMode": "SYNCHRONOUS"}
    assert invoke_guardrail_request(headers, config, stream=True) == GuardrailRequest("g", "3", False)


def test_the_trace_has_invoke_models_shape_input_and_outputs():
    prompt = invoke_trace(resolved("block-prompt", trace=True), Intervention("block-prompt", "no", False, WORD))
    assert set(prompt["guardrail"]) == {"input", "actionReason"}
    assert prompt["guardrail"]["input"]["block-prompt"]["wordPolicy"] == WORD["wordPolicy"]
    answer = invoke_trace(resolved("block-answer", trace=True), Intervention("block-answer", "no", True, WORD))
    (output,) = answer["guardrail"]["outputs"]
    assert output["block-answer"]["appliedGuardrailDetails"]["guardrailOrigin"] == ["REQUEST"]
    passed = invoke_trace(resolved("block-answer", trace=True))
    assert set(passed["guardrail"]) == {"input", "outputs"}
    assert invoke_trace(resolved("block-prompt", trace=False)) is None


def test_the_verdict_is_none_or_intervened_and_the_trace_only_when_enabled():
    assert verdict_fields(resolved("block-prompt", trace=False)) == {ACTION_KEY: "NONE"}
    block = Intervention("block-prompt", "Blocked: zorblax", False, WORD)
    traced = verdict_fields(resolved("block-prompt", trace=True), block)
    assert traced[ACTION_KEY] == "INTERVENED" and "block-prompt" in traced[TRACE_KEY]["guardrail"]["input"]


def test_a_blocked_message_is_a_message_whose_text_is_the_guardrails():
    block = Intervention("block-prompt", "Blocked: zorblax", False, WORD)
    message = blocked_message(resolved("block-prompt", trace=False), block, "fake-chat")
    assert message["content"] == [{"type": "text", "text": "Blocked: zorblax"}]
    assert message["usage"] == {"input_tokens": 0, "output_tokens": 0}
    assert (message["type"], message["role"], message["model"]) == ("message", "assistant", "fake-chat")
    assert message[ACTION_KEY] == "INTERVENED" and TRACE_KEY not in message


def test_boto3_reads_the_verdict_on_the_streams_last_event_only():
    verdict = {ACTION_KEY: "INTERVENED", TRACE_KEY: {"guardrail": {"input": {"g": WORD}}}}
    encoder = InvokeStreamEncoder(final_fields=verdict)
    message = {
        "id": "m",
        "type": "message",
        "role": "assistant",
        "model": "x",
        "content": [{"type": "text", "text": "no"}],
    }
    harness = BedrockHarness()
    harness.respond_stream(b"".join(encoder.feed(event) for event in message_events(message)))
    response = harness.client.invoke_model_with_response_stream(modelId="fake-chat", body=b"{}")
    events = [json.loads(event["chunk"]["bytes"]) for event in response["body"]]
    assert events[-1]["type"] == "message_stop" and events[-1][ACTION_KEY] == "INTERVENED"
    assert events[-1][TRACE_KEY] == verdict[TRACE_KEY]
    assert all(ACTION_KEY not in event for event in events[:-1])


def test_only_litellms_own_passthrough_answer_is_taken_for_a_block():
    quiet = resolve_guardrails(
        GuardrailRequest("quiet", "1", False),
        {},
        {"quiet": LiteLLMGuardrail("quiet", frozenset({"pre_call"}), passthrough=True)},
    )
    built = {"type": "message", "content": [{"type": "text", "text": "Sorry."}], "stop_reason": "end_turn"}
    assert passthrough_intervention(quiet, Headers({}), built) == Intervention("quiet", "Sorry.", False, {})
    processed = Headers({"x-litellm-call-id": "c1"})  # an answer LiteLLM processed, without the applied header
    assert passthrough_intervention(quiet, processed, built) is None
    assert passthrough_intervention(quiet, Headers({"x-litellm-applied-guardrails": "quiet"}), built) is None
    two_blocks = {**built, "content": [*built["content"], {"type": "text", "text": "more"}]}
    assert passthrough_intervention(quiet, Headers({}), two_blocks) is None
    assert passthrough_intervention(resolved("block-prompt", trace=False), Headers({}), built) is None

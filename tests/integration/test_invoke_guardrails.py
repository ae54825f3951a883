"""Guardrails on InvokeModel / InvokeModelWithResponseStream (``X-Amzn-Bedrock-Guardrail*`` headers),
through boto3's ``invoke_model[_with_response_stream]`` (its ``guardrailIdentifier``, ``guardrailVersion``
and ``trace`` parameters) and the real ``anthropic`` SDK's ``AnthropicBedrock`` (the headers as
``extra_headers``), against the local stack and real LiteLLM.

The guardrails are those of ``litellm-test-config.yaml`` (see test_converse_guardrails.py): LiteLLM's
keyword filter on the prompt (``block-prompt``: "zorblax") and on the answer (``block-answer``:
"quuxword"; ``fake-chat`` echoes the prompt), and LiteLLM's Bedrock guardrail ``gr0test0secrets`` v1,
whose ApplyGuardrail call reaches the fake upstream's stand-in for AWS (blocks "topsecret").
"""

from __future__ import annotations

import json

import anthropic
import pytest
from botocore.exceptions import ClientError

from tests.integration.bedrock_clients import bearer_client
from tests.support.fake_openai import BEDROCK_BLOCKED_MESSAGE

MODEL = "fake-chat"
ACTION = "amazon-bedrock-guardrailAction"
TRACE = "amazon-bedrock-trace"
PROMPT_GUARD = {"guardrailIdentifier": "block-prompt", "guardrailVersion": "1"}
ANSWER_GUARD = {"guardrailIdentifier": "block-answer", "guardrailVersion": "1"}


@pytest.fixture(scope="module")
def bedrock(gateway_url, user_key):
    return bearer_client(gateway_url, user_key)


@pytest.fixture(scope="module")
def sdk(gateway_url, user_key) -> anthropic.AnthropicBedrock:
    return anthropic.AnthropicBedrock(
        base_url=f"{gateway_url}/bedrock", api_key=user_key, aws_region="us-east-1", max_retries=0
    )


def body(text: str, **fields) -> bytes:
    messages = [{"role": "user", "content": text}]
    return json.dumps(
        {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 100, "messages": messages, **fields}
    ).encode()


def invoke(client, text: str, guard: dict, **fields) -> dict:
    response = client.invoke_model(modelId=MODEL, body=body(text, **fields), **guard)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    return json.loads(response["body"].read())


def stream_events(client, text: str, guard: dict, **fields) -> list[dict]:
    response = client.invoke_model_with_response_stream(modelId=MODEL, body=body(text, **fields), **guard)
    return [json.loads(e["chunk"]["bytes"]) for e in response["body"] if "chunk" in e]


def stream_text(events: list[dict]) -> str:
    return "".join(e["delta"].get("text", "") for e in events if e["type"] == "content_block_delta")


def headers(identifier: str, version: str = "1", trace: str | None = None) -> dict[str, str]:
    out = {"X-Amzn-Bedrock-GuardrailIdentifier": identifier, "X-Amzn-Bedrock-GuardrailVersion": version}
    return {**out, "X-Amzn-Bedrock-Trace": trace} if trace else out


# ---------------------------------------------------------------- a blocked prompt


def test_a_blocked_prompt_is_answered_with_the_guardrails_message(bedrock):
    message = invoke(bedrock, "please say zorblax", PROMPT_GUARD)
    assert message[ACTION] == "INTERVENED"
    (block,) = message["content"]
    assert block["type"] == "text" and "zorblax" in block["text"] and "blocked" in block["text"].lower()
    assert message["type"] == "message" and message["role"] == "assistant"
    assert message["usage"] == {"input_tokens": 0, "output_tokens": 0}
    assert TRACE not in message


def test_a_blocked_prompt_with_trace_says_which_word_of_which_guardrail(bedrock):
    message = invoke(bedrock, "please say zorblax", {**PROMPT_GUARD, "trace": "ENABLED"})
    assessment = message[TRACE]["guardrail"]["input"]["block-prompt"]
    assert assessment["wordPolicy"]["customWords"] == [{"match": "zorblax", "action": "BLOCKED", "detected": True}]
    assert assessment["appliedGuardrailDetails"]["guardrailOrigin"] == ["REQUEST"]
    assert "outputs" not in message[TRACE]["guardrail"]


def test_the_anthropic_sdk_gets_the_block_as_a_message(sdk):
    raw = sdk.messages.with_raw_response.create(
        model=MODEL,
        max_tokens=100,
        messages=[{"role": "user", "content": "zorblax"}],
        extra_headers=headers("block-prompt", trace="ENABLED"),
    )
    message = raw.parse()
    assert "zorblax" in message.content[0].text and not message.content[0].text.startswith("Echo")
    payload = json.loads(raw.http_response.text)
    assert payload[ACTION] == "INTERVENED" and "block-prompt" in payload[TRACE]["guardrail"]["input"]


# ---------------------------------------------------------------- a blocked answer


def test_a_blocked_answer_is_withheld_and_replaced_by_the_guardrails_message(sdk):
    raw = sdk.messages.with_raw_response.create(
        model=MODEL,
        max_tokens=100,
        messages=[{"role": "user", "content": "please say quuxword"}],
        extra_headers=headers("block-answer"),
    )
    (block,) = raw.parse().content
    assert "quuxword" in block.text and not block.text.startswith("Echo")
    payload = json.loads(raw.http_response.text)
    assert payload[ACTION] == "INTERVENED" and TRACE not in payload


def test_a_blocked_answer_with_trace_is_an_output_assessment(bedrock):
    message = invoke(bedrock, "please say quuxword", {**ANSWER_GUARD, "trace": "ENABLED"})
    (output,) = message[TRACE]["guardrail"]["outputs"]
    assert output["block-answer"]["wordPolicy"]["customWords"][0]["match"] == "quuxword"
    assert "input" not in message[TRACE]["guardrail"]


# ---------------------------------------------------------------- passing requests


def test_a_request_the_guardrails_let_through_is_answered_with_action_none(bedrock, sdk):
    message = invoke(bedrock, "hello there", {**PROMPT_GUARD, "trace": "ENABLED"})
    assert message["content"] == [{"type": "text", "text": "Echo: hello there"}]
    assert message[ACTION] == "NONE"
    assert "appliedGuardrailDetails" in message[TRACE]["guardrail"]["input"]["block-prompt"]
    assert TRACE not in invoke(bedrock, "hello there", PROMPT_GUARD)
    reply = sdk.messages.create(
        model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "hi"}], extra_headers=headers("block-answer")
    )
    assert reply.content[0].text == "Echo: hi" and reply.stop_reason == "end_turn"


# ---------------------------------------------------------------- streams


def test_a_stream_with_a_blocked_prompt_carries_the_message_and_the_verdict_at_its_end(bedrock):
    events = stream_events(bedrock, "zorblax now", {**PROMPT_GUARD, "trace": "ENABLED"})
    assert "zorblax" in stream_text(events) and not stream_text(events).startswith("Echo")
    stop = events[-1]
    assert stop["type"] == "message_stop" and stop[ACTION] == "INTERVENED"
    assert "block-prompt" in stop[TRACE]["guardrail"]["input"]
    assert "amazon-bedrock-invocationMetrics" in stop
    assert all(ACTION not in e for e in events[:-1])


def test_a_stream_whose_answer_is_blocked_sends_none_of_it(bedrock):
    events = stream_events(
        bedrock,
        "please say quuxword",
        ANSWER_GUARD,
        **{"amazon-bedrock-guardrailConfig": {"streamProcessingMode": "ASYNCHRONOUS"}},
    )
    assert "quuxword" in stream_text(events) and "Echo" not in stream_text(events)
    assert events[-1][ACTION] == "INTERVENED" and TRACE not in events[-1]


def test_a_stream_the_guardrails_let_through_arrives_whole_with_action_none(bedrock, sdk):
    for guard in (PROMPT_GUARD, ANSWER_GUARD):
        events = stream_events(bedrock, "hello stream", guard)
        assert stream_text(events) == "Echo: hello stream"
        assert events[-1]["type"] == "message_stop" and events[-1][ACTION] == "NONE"
    with sdk.messages.stream(
        model=MODEL,
        max_tokens=100,
        messages=[{"role": "user", "content": "please say quuxword"}],
        extra_headers=headers("block-answer", trace="ENABLED"),
    ) as stream:
        text = "".join(stream.text_stream)
    assert "quuxword" in text and not text.startswith("Echo")


# ---------------------------------------------------------------- resolution and bad input


@pytest.mark.parametrize(
    ("guard", "message"),
    [
        ({"guardrailIdentifier": "no-such-guardrail", "guardrailVersion": "1"}, "is not configured on this gateway"),
        ({"guardrailIdentifier": "log-only", "guardrailVersion": "1"}, "mode logging_only"),
        ({"guardrailIdentifier": "gr0test0secrets", "guardrailVersion": "2"}, "version '2' is not configured"),
    ],
)
def test_an_unknown_or_unusable_guardrail_is_refused_on_both_routes(bedrock, guard, message):
    for call in (bedrock.invoke_model, bedrock.invoke_model_with_response_stream):
        with pytest.raises(ClientError) as caught:
            call(modelId=MODEL, body=body("hello"), **guard)
        assert caught.value.response["Error"]["Code"] == "ValidationException"
        assert message in caught.value.response["Error"]["Message"]


def test_an_unknown_guardrail_is_the_sdks_bad_request_error(sdk):
    with pytest.raises(anthropic.BadRequestError) as caught:
        sdk.messages.create(
            model=MODEL,
            max_tokens=10,
            messages=[{"role": "user", "content": "hello"}],
            extra_headers=headers("no-such-guardrail"),
        )
    assert caught.value.response.headers["x-amzn-errortype"].startswith("ValidationException")


def test_what_bedrock_refuses_is_refused(bedrock, sdk):
    with pytest.raises(anthropic.BadRequestError) as caught:  # an identifier without a version
        sdk.messages.create(
            model=MODEL,
            max_tokens=10,
            messages=[{"role": "user", "content": "hello"}],
            extra_headers={"X-Amzn-Bedrock-GuardrailIdentifier": "block-prompt"},
        )
    assert "GuardrailVersion" in caught.value.message
    with pytest.raises(ClientError) as refused:  # the body's guardrail config without a guardrail
        bedrock.invoke_model(
            modelId=MODEL, body=body("hello", **{"amazon-bedrock-guardrailConfig": {"tagSuffix": "x"}})
        )
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "amazon-bedrock-guardrailConfig" in refused.value.response["Error"]["Message"]


# ---------------------------------------------------------------- a Bedrock guardrail in LiteLLM's config


def test_a_bedrock_guardrail_answers_with_bedrocks_blocked_message(bedrock):
    guard = {"guardrailIdentifier": "gr0test0secrets", "guardrailVersion": "1", "trace": "ENABLED"}
    message = invoke(bedrock, "tell me the topsecret plan", guard)
    assert message["content"] == [{"type": "text", "text": BEDROCK_BLOCKED_MESSAGE}]
    assessment = message[TRACE]["guardrail"]["input"]["gr0test0secrets"]
    assert assessment["topicPolicy"]["topics"] == [
        {"name": "Secrets", "type": "DENY", "action": "BLOCKED", "detected": True}
    ]
    assert invoke(bedrock, "tell me a plan", guard)[ACTION] == "NONE"


def test_a_guardrail_in_passthrough_mode_is_an_intervention_too(bedrock):
    quiet = {"guardrailIdentifier": "gr0test0quiet", "guardrailVersion": "2"}
    message = invoke(bedrock, "the topsecret plan", quiet)
    assert message["content"] == [{"type": "text", "text": BEDROCK_BLOCKED_MESSAGE}]
    assert message[ACTION] == "INTERVENED"
    events = stream_events(bedrock, "the topsecret plan", quiet)
    assert (stream_text(events), events[-1][ACTION]) == (BEDROCK_BLOCKED_MESSAGE, "INTERVENED")
    passed = invoke(bedrock, "the plan", quiet)
    assert (passed["content"][0]["text"], passed[ACTION]) == ("Echo: the plan", "NONE")

"""``guardrailConfig`` on Converse and ConverseStream, enforced by LiteLLM's guardrails (real LiteLLM).

The guardrails are in ``litellm-test-config.yaml``: LiteLLM's keyword filter on the prompt
(``block-prompt``: "zorblax") and on the answer (``block-answer``: "quuxword"; the fake model echoes
the prompt, so asking it to say the word makes it answer it), a ``logging_only`` one, and LiteLLM's
Bedrock guardrail ``gr0test0secrets`` v1, whose ApplyGuardrail call reaches the fake upstream's
stand-in for AWS (blocks "topsecret").
"""

from __future__ import annotations

import json

import httpx
import pytest
from botocore.exceptions import ClientError

from devstack.processes import free_port
from tests.integration.bedrock_clients import bearer_client
from tests.support.fake_openai import BEDROCK_BLOCKED_MESSAGE

PROMPT_GUARD = {"guardrailIdentifier": "block-prompt", "guardrailVersion": "1"}
ANSWER_GUARD = {"guardrailIdentifier": "block-answer", "guardrailVersion": "1"}
BEDROCK_GUARD = {"guardrailIdentifier": "gr0test0secrets", "guardrailVersion": "1"}


@pytest.fixture(scope="module")
def bedrock(gateway_url, user_key):
    return bearer_client(gateway_url, user_key)


@pytest.fixture(scope="module")
def mapped_bedrock(stack, user_key):
    """A second middleware whose GUARDRAIL_MAP maps a Bedrock guardrail id and version to LiteLLM names."""
    mapping = {"gr0mapped:3": "block-prompt", "gr0pair": ["block-prompt", "block-answer"]}
    url = stack.start_middleware(
        "middleware-guardrail-map", free_port(), env_overrides={"GUARDRAIL_MAP": json.dumps(mapping)}
    )
    return bearer_client(url, user_key)


def user(text: str) -> dict:
    return {"role": "user", "content": [{"text": text}]}


def converse(client, text: str, guard: dict, **extra):
    return client.converse(modelId="fake", messages=[user(text)], guardrailConfig=guard, **extra)


def stream_events(client, text: str, guard: dict) -> list[dict]:
    response = client.converse_stream(modelId="fake", messages=[user(text)], guardrailConfig=guard)
    return list(response["stream"])


def stream_text(events: list[dict]) -> str:
    return "".join(e["contentBlockDelta"]["delta"].get("text", "") for e in events if "contentBlockDelta" in e)


def stop_reason(events: list[dict]) -> str:
    return next(e["messageStop"]["stopReason"] for e in events if "messageStop" in e)


def metadata(events: list[dict]) -> dict:
    return next(e["metadata"] for e in events if "metadata" in e)


# ---------------------------------------------------------------- a blocked prompt


def test_a_blocked_prompt_is_bedrocks_guardrail_answer(bedrock):
    response = converse(bedrock, "please say zorblax", PROMPT_GUARD)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert response["stopReason"] == "guardrail_intervened"
    (block,) = response["output"]["message"]["content"]
    assert "zorblax" in block["text"] and "blocked" in block["text"].lower()
    assert response["usage"] == {"inputTokens": 0, "outputTokens": 0, "totalTokens": 0}
    assert "trace" not in response


def test_a_blocked_prompt_with_trace_says_which_word_of_which_guardrail(bedrock):
    response = converse(bedrock, "please say zorblax", {**PROMPT_GUARD, "trace": "enabled"})
    assessment = response["trace"]["guardrail"]["inputAssessment"]["block-prompt"]
    assert assessment["wordPolicy"]["customWords"] == [{"match": "zorblax", "action": "BLOCKED", "detected": True}]
    assert assessment["appliedGuardrailDetails"]["guardrailOrigin"] == ["REQUEST"]
    assert response["trace"]["guardrail"]["actionReason"] == "Guardrail blocked."


def test_a_prompt_the_guardrail_lets_through_is_answered_and_traced(bedrock):
    response = converse(bedrock, "hello there", {**PROMPT_GUARD, "trace": "enabled"})
    assert response["stopReason"] == "end_turn"
    assert response["output"]["message"]["content"] == [{"text": "Echo: hello there"}]
    assert "block-prompt" in response["trace"]["guardrail"]["inputAssessment"]
    assert "trace" not in converse(bedrock, "hello there", PROMPT_GUARD)


# ---------------------------------------------------------------- a blocked answer


def test_a_blocked_answer_is_withheld_and_replaced_by_the_guardrails_message(bedrock):
    response = converse(bedrock, "please say quuxword", ANSWER_GUARD)
    assert response["stopReason"] == "guardrail_intervened"
    (block,) = response["output"]["message"]["content"]
    assert "quuxword" in block["text"] and not block["text"].startswith("Echo")
    assert "trace" not in response


def test_a_blocked_answer_with_trace_is_an_output_assessment(bedrock):
    response = converse(bedrock, "please say quuxword", {**ANSWER_GUARD, "trace": "enabled"})
    (assessment,) = response["trace"]["guardrail"]["outputAssessments"]["block-answer"]
    assert assessment["wordPolicy"]["customWords"][0]["match"] == "quuxword"
    assert "inputAssessment" not in response["trace"]["guardrail"]


# ---------------------------------------------------------------- streams


def test_a_stream_with_a_blocked_prompt_ends_with_guardrail_intervened(bedrock):
    events = stream_events(bedrock, "zorblax now", {**PROMPT_GUARD, "trace": "enabled"})
    assert "zorblax" in stream_text(events)
    assert stop_reason(events) == "guardrail_intervened"
    assert "block-prompt" in metadata(events)["trace"]["guardrail"]["inputAssessment"]


def test_a_stream_whose_answer_is_blocked_sends_none_of_it(bedrock):
    events = stream_events(bedrock, "please say quuxword", {**ANSWER_GUARD, "streamProcessingMode": "async"})
    assert stop_reason(events) == "guardrail_intervened"
    assert "Echo" not in stream_text(events) and "quuxword" in stream_text(events)
    assert "trace" not in metadata(events)


def test_a_stream_the_guardrails_let_through_arrives_whole(bedrock):
    for guard in (PROMPT_GUARD, {**ANSWER_GUARD, "trace": "enabled"}):
        events = stream_events(bedrock, "hello stream", guard)
        assert stream_text(events) == "Echo: hello stream"
        assert stop_reason(events) == "end_turn"
    assert "block-answer" in metadata(events)["trace"]["guardrail"]["outputAssessments"]


# ---------------------------------------------------------------- resolution


@pytest.mark.parametrize(
    ("guard", "message"),
    [
        ({"guardrailIdentifier": "no-such-guardrail", "guardrailVersion": "1"}, "is not configured on this gateway"),
        ({"guardrailIdentifier": "log-only", "guardrailVersion": "1"}, "mode logging_only"),
        ({**BEDROCK_GUARD, "guardrailVersion": "2"}, "version '2' is not configured"),
    ],
)
def test_an_unknown_or_unusable_guardrail_is_refused_not_skipped(bedrock, guard, message):
    for call in (bedrock.converse, bedrock.converse_stream):
        with pytest.raises(ClientError) as caught:
            call(modelId="fake", messages=[user("hello")], guardrailConfig=guard)
        assert caught.value.response["Error"]["Code"] == "ValidationException"
        assert message in caught.value.response["Error"]["Message"]


def test_a_bedrock_guardrail_in_litellms_config_answers_with_bedrocks_message(bedrock):
    response = converse(bedrock, "tell me the topsecret plan", {**BEDROCK_GUARD, "trace": "enabled"})
    assert response["stopReason"] == "guardrail_intervened"
    assert response["output"]["message"]["content"] == [{"text": BEDROCK_BLOCKED_MESSAGE}]
    assessment = response["trace"]["guardrail"]["inputAssessment"]["gr0test0secrets"]
    assert assessment["topicPolicy"]["topics"] == [
        {"name": "Secrets", "type": "DENY", "action": "BLOCKED", "detected": True}
    ]
    assert converse(bedrock, "tell me a plan", BEDROCK_GUARD)["stopReason"] == "end_turn"


def test_a_guardrail_in_passthrough_mode_is_an_intervention_too(bedrock):
    quiet = {"guardrailIdentifier": "gr0test0quiet", "guardrailVersion": "2"}
    response = converse(bedrock, "the topsecret plan", quiet)
    assert response["stopReason"] == "guardrail_intervened"
    assert response["output"]["message"]["content"] == [{"text": BEDROCK_BLOCKED_MESSAGE}]
    events = stream_events(bedrock, "the topsecret plan", quiet)
    assert (stream_text(events), stop_reason(events)) == (BEDROCK_BLOCKED_MESSAGE, "guardrail_intervened")
    assert converse(bedrock, "the plan", quiet)["stopReason"] == "end_turn"


def test_a_mapped_bedrock_id_and_version_runs_the_litellm_guardrails_it_names(mapped_bedrock):
    blocked = converse(mapped_bedrock, "zorblax", {"guardrailIdentifier": "gr0mapped", "guardrailVersion": "3"})
    assert blocked["stopReason"] == "guardrail_intervened"
    pair = {"guardrailIdentifier": "gr0pair", "guardrailVersion": "9"}
    assert converse(mapped_bedrock, "please say quuxword", pair)["stopReason"] == "guardrail_intervened"
    assert converse(mapped_bedrock, "hello", pair)["stopReason"] == "end_turn"
    with pytest.raises(ClientError) as caught:  # only version 3 of gr0mapped is mapped
        converse(mapped_bedrock, "hello", {"guardrailIdentifier": "gr0mapped", "guardrailVersion": "4"})
    assert caught.value.response["Error"]["Code"] == "ValidationException"


# ---------------------------------------------------------------- history


def test_a_blocked_turn_is_not_stored_and_the_session_goes_on(bedrock, gateway_url, user_key):
    first = bedrock.converse(modelId="fake", messages=[user("remember me")])
    session_id = first["ResponseMetadata"]["HTTPHeaders"]["x-session-id"]
    session = {"session_id": session_id}
    blocked = converse(bedrock, "zorblax", PROMPT_GUARD, additionalModelRequestFields=session)
    assert blocked["stopReason"] == "guardrail_intervened"
    assert "not stored" in blocked["ResponseMetadata"]["HTTPHeaders"]["x-history-skipped"]
    after = converse(bedrock, "and now?", PROMPT_GUARD, additionalModelRequestFields=session)
    assert after["stopReason"] == "end_turn"  # the blocked prompt is not replayed into later turns
    history = httpx.post(
        f"{gateway_url}/bedrock/chat-history",
        headers={"Authorization": f"Bearer {user_key}"},
        json={"session_id": session_id},
        timeout=30,
    ).json()
    texts = [block["text"] for message in history["messages"] for block in message["content"]]
    assert texts == ["remember me", "Echo: remember me", "and now?", "Echo: and now?"]


def test_a_blocked_first_turn_opens_no_session(bedrock):
    headers = converse(bedrock, "zorblax", PROMPT_GUARD)["ResponseMetadata"]["HTTPHeaders"]
    assert "x-session-id" not in headers and "x-history-skipped" in headers

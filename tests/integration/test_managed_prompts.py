"""Bedrock Managed Prompts through both interfaces. Prompt management itself is AWS-only, so a
local stand-in (tests/support/fake_bedrock_agent.py) serves GetPrompt to the gateway's real boto3."""

from __future__ import annotations

import json

import openai
import pytest
from botocore.exceptions import ClientError

from tests.integration.bedrock_clients import bearer_client
from tests.support.fake_bedrock_agent import chat_variant, text_variant


@pytest.fixture(scope="module")
def oai(gateway_url, master_key):
    return openai.OpenAI(base_url=f"{gateway_url}/v1", api_key=master_key, max_retries=0)


@pytest.fixture(scope="module")
def bedrock(gateway_url, master_key):
    return bearer_client(gateway_url, master_key)


def echoed(text: str) -> list[dict]:
    return json.loads(text)["messages"]


def test_text_prompt_by_arn_on_the_openai_route(oai, bedrock_agent):
    prompt_id = bedrock_agent.put_prompt(text_variant("Tell me about {{topic}} __echo_request__"))
    reply = oai.chat.completions.create(
        model=bedrock_agent.arn(prompt_id), messages=[], extra_body={"promptVariables": {"topic": {"text": "fruit"}}}
    )
    assert echoed(reply.choices[0].message.content) == [
        {"role": "user", "content": "Tell me about fruit __echo_request__"}
    ]


def test_chat_prompt_with_version_on_converse_and_its_inference_defaults(bedrock, bedrock_agent):
    variant = chat_variant(
        [("user", "Summarise {{doc}} __echo_request__")],
        system="You are terse.",
        inference={"temperature": 0.1, "maxTokens": 50},
    )
    prompt_id = bedrock_agent.put_prompt(variant)
    version = bedrock_agent.create_version(prompt_id)
    response = bedrock.converse(
        modelId=bedrock_agent.arn(prompt_id, version), promptVariables={"doc": {"text": "the report"}}
    )
    sent = json.loads(response["output"]["message"]["content"][0]["text"])
    assert sent["messages"][0] == {"role": "system", "content": "You are terse."}
    assert sent["messages"][1]["content"] == "Summarise the report __echo_request__"
    assert sent["temperature"] == 0.1 and sent["max_tokens"] == 50


def test_prompt_streams_on_converse_stream(bedrock, bedrock_agent):
    prompt_id = bedrock_agent.put_prompt(text_variant("Say {{word}}"))
    response = bedrock.converse_stream(modelId=bedrock_agent.arn(prompt_id), promptVariables={"word": {"text": "hi"}})
    text = "".join(e["contentBlockDelta"]["delta"]["text"] for e in response["stream"] if "contentBlockDelta" in e)
    assert text == "Echo: Say hi"


def test_request_messages_follow_the_prompts_own(oai, bedrock_agent):
    prompt_id = bedrock_agent.put_prompt(chat_variant([("user", "Context: {{x}}")]))
    reply = oai.chat.completions.create(
        model=bedrock_agent.arn(prompt_id),
        messages=[{"role": "user", "content": "and my question __echo_request__"}],
        extra_body={"promptVariables": {"x": {"text": "X"}}},
    )
    assert [m["content"] for m in echoed(reply.choices[0].message.content)] == [
        "Context: X",
        "and my question __echo_request__",
    ]


@pytest.mark.parametrize(
    ("variables", "message"),
    [({}, "missing prompt variable(s): topic"), ({"topic": {"text": "a"}, "extra": {"text": "b"}}, "unknown")],
)
def test_missing_or_unknown_variables_are_named(oai, bedrock, bedrock_agent, variables, message):
    arn = bedrock_agent.arn(bedrock_agent.put_prompt(text_variant("About {{topic}}")))
    with pytest.raises(openai.BadRequestError) as raised:
        oai.chat.completions.create(model=arn, messages=[], extra_body={"promptVariables": variables})
    assert message in raised.value.message
    with pytest.raises(ClientError) as converse_error:
        bedrock.converse(modelId=arn, promptVariables=variables)
    assert converse_error.value.response["Error"]["Code"] == "ValidationException"
    assert message in converse_error.value.response["Error"]["Message"]


def test_unknown_prompt_is_not_found_and_a_denied_one_is_access_denied(oai, bedrock, bedrock_agent):
    missing = bedrock_agent.arn("ABCDEFGHIJ")
    with pytest.raises(openai.NotFoundError):
        oai.chat.completions.create(model=missing, messages=[])
    with pytest.raises(ClientError) as raised:
        bedrock.converse(modelId=missing)
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    denied_id = bedrock_agent.put_prompt(text_variant("secret"))
    bedrock_agent.fail(denied_id, "AccessDeniedException", 403)
    with pytest.raises(ClientError) as denied:
        bedrock.converse(modelId=bedrock_agent.arn(denied_id))
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"


def test_a_prompt_version_is_fetched_once_for_repeated_calls(bedrock, bedrock_agent):
    prompt_id = bedrock_agent.put_prompt(text_variant("cached {{n}}"))
    version = bedrock_agent.create_version(prompt_id)
    for n in range(3):
        bedrock.converse(modelId=bedrock_agent.arn(prompt_id, version), promptVariables={"n": {"text": str(n)}})
    assert bedrock_agent.get_prompt_calls(prompt_id, version) == 1


def test_a_prompt_call_can_start_and_continue_a_session(oai, bedrock_agent):
    arn = bedrock_agent.arn(bedrock_agent.put_prompt(text_variant("Topic is {{t}}")))
    first = oai.chat.completions.create(model=arn, messages=[], extra_body={"promptVariables": {"t": {"text": "tea"}}})
    session_id = first.model_extra["session_id"]
    follow_up = oai.chat.completions.create(
        model="fake",
        messages=[{"role": "user", "content": "__echo_request__"}],
        extra_body={"session_id": session_id},
    )
    contents = [m["content"] for m in echoed(follow_up.choices[0].message.content)]
    assert contents == ["Topic is tea", "Echo: Topic is tea", "__echo_request__"]

"""Model-id aliases, discovery (inference profiles, foundation models) and CountTokens through the local stack.

A middleware instance with ``BEDROCK_MODEL_ALIASES`` set runs next to the session's stack (LiteLLM real,
its test config: ``fake``, ``mock-gpt``, ``us.fake.model-v1:0``, ``mock-embed``). The clients are boto3's
own ``bedrock`` and ``bedrock-runtime`` clients, so every answer is parsed exactly as an application
would see it.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from devstack.processes import free_port
from devstack.stack import LocalStack
from tests.integration.bedrock_clients import bearer_client, control_client
from tests.integration.conftest import new_user_key

#: What a platform team writes: Claude Code's Sonnet and Haiku ids onto local models; Opus left unmapped.
ALIASES = {"*claude-sonnet-*": "fake", "*claude-haiku-*": "mock-gpt", "us.team.custom-v1:0": "fake"}
SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
HAIKU = "global.anthropic.claude-haiku-4-5-20251001-v1:0"
OPUS = "global.anthropic.claude-opus-4-6-v1"
INVALID = "The provided model identifier is invalid."


@pytest.fixture(scope="module")
def url(stack: LocalStack) -> str:
    return stack.start_middleware(
        "middleware-aliases", free_port(), env_overrides={"BEDROCK_MODEL_ALIASES": json.dumps(ALIASES)}
    )


@pytest.fixture(scope="module")
def mock_only_key(url: str, master_key: str) -> str:
    """A key restricted to ``mock-gpt``."""
    user_id, _ = new_user_key(url, master_key, "restricted")
    response = httpx.post(
        f"{url}/key/generate",
        headers={"Authorization": f"Bearer {master_key}"},
        json={"user_id": user_id, "models": ["mock-gpt"]},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()["key"]


def ids(profiles: list[dict[str, Any]]) -> list[str]:
    return [p["inferenceProfileId"] for p in profiles]


def error_of(info: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    response = info.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


# ---- aliases on the Converse routes ------------------------------------------------------------------------


def test_claude_code_default_ids_reach_the_aliased_models_on_converse(url, user_key):
    client = bearer_client(url, user_key)
    for model_id in (SONNET, f"{SONNET}[1m]", "global.anthropic.claude-sonnet-4-6", "us.team.custom-v1:0"):
        reply = client.converse(modelId=model_id, messages=[{"role": "user", "content": [{"text": "hi alias"}]}])
        assert reply["output"]["message"]["content"][0]["text"] == "Echo: hi alias", model_id
    haiku = client.converse(modelId=HAIKU, messages=[{"role": "user", "content": [{"text": "x"}]}])
    assert haiku["output"]["message"]["content"][0]["text"] == "Hello from the mock."
    # a LiteLLM model named like a Bedrock id still answers under its own name
    own = client.converse(modelId="us.fake.model-v1:0", messages=[{"role": "user", "content": [{"text": "own"}]}])
    assert own["output"]["message"]["content"][0]["text"] == "Echo: own"


def test_an_unmapped_bedrock_id_is_a_validation_exception(url, user_key):
    with pytest.raises(ClientError) as info:
        bearer_client(url, user_key).converse(modelId=OPUS, messages=[{"role": "user", "content": [{"text": "x"}]}])
    status, code, _ = error_of(info)
    assert (status, code) == (400, "ValidationException")


# ---- inference profiles --------------------------------------------------------------------------------------


def test_system_defined_profiles_are_the_bedrock_ids_that_reach_the_keys_models(url, user_key):
    profiles = control_client(url, user_key).list_inference_profiles(typeEquals="SYSTEM_DEFINED")
    listed = ids(profiles["inferenceProfileSummaries"])
    assert "nextToken" not in profiles
    for expected in (SONNET, HAIKU, "eu.anthropic.claude-sonnet-4-5-20250929-v1:0", "us.team.custom-v1:0"):
        assert expected in listed
    assert "us.fake.model-v1:0" in listed  # a LiteLLM name that is itself a profile id
    assert not [i for i in listed if "opus" in i]  # unmapped: not usable, not listed
    assert all(p["type"] == "SYSTEM_DEFINED" and p["status"] == "ACTIVE" for p in profiles["inferenceProfileSummaries"])
    sonnet = next(p for p in profiles["inferenceProfileSummaries"] if p["inferenceProfileId"] == SONNET)
    assert sonnet["inferenceProfileName"] == "US Anthropic Claude Sonnet 4.5"
    assert sonnet["inferenceProfileArn"].endswith(f":inference-profile/{SONNET}")
    assert sonnet["models"] == [
        {"modelArn": "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0"}
    ]
    assert "'fake'" in sonnet["description"]


def test_application_profiles_are_the_litellm_model_names(url, user_key):
    profiles = control_client(url, user_key).list_inference_profiles(typeEquals="APPLICATION")
    listed = ids(profiles["inferenceProfileSummaries"])
    assert {"fake", "mock-gpt", "mock-embed"} <= set(listed)
    assert "us.fake.model-v1:0" not in listed
    every = ids(control_client(url, user_key).list_inference_profiles()["inferenceProfileSummaries"])
    assert set(every) == set(listed) | set(
        ids(
            control_client(url, user_key).list_inference_profiles(typeEquals="SYSTEM_DEFINED")[
                "inferenceProfileSummaries"
            ]
        )
    )


def test_profiles_page_with_max_results_and_next_token(url, user_key):
    client = control_client(url, user_key)
    everything = ids(client.list_inference_profiles()["inferenceProfileSummaries"])
    first = client.list_inference_profiles(maxResults=3)
    assert len(first["inferenceProfileSummaries"]) == 3 and first["nextToken"]
    pages = client.get_paginator("list_inference_profiles").paginate(PaginationConfig={"PageSize": 4})
    collected = [p["inferenceProfileId"] for page in pages for p in page["inferenceProfileSummaries"]]
    assert collected == everything and len(everything) > 8

    with pytest.raises(ClientError) as info:
        client.list_inference_profiles(nextToken="not-a-token")
    assert error_of(info)[:2] == (400, "ValidationException")
    raw = httpx.get(f"{url}/bedrock/inference-profiles", params={"maxResults": "5000"},
                    headers={"Authorization": f"Bearer {user_key}"}, timeout=30)  # fmt: skip
    assert raw.status_code == 400 and raw.headers["x-amzn-errortype"] == "ValidationException"
    raw = httpx.get(f"{url}/bedrock/inference-profiles", params={"type": "BOTH"},
                    headers={"Authorization": f"Bearer {user_key}"}, timeout=30)  # fmt: skip
    assert raw.status_code == 400 and "SYSTEM_DEFINED" in raw.json()["message"]


def test_get_inference_profile_by_id_and_arn(url, user_key):
    client = control_client(url, user_key)
    profile = client.get_inference_profile(inferenceProfileIdentifier=SONNET)
    assert profile["inferenceProfileId"] == SONNET and profile["type"] == "SYSTEM_DEFINED"
    by_arn = client.get_inference_profile(inferenceProfileIdentifier=profile["inferenceProfileArn"])
    assert by_arn["inferenceProfileId"] == SONNET
    # any id the aliases resolve works, listed or not (a newer Sonnet)
    newer = client.get_inference_profile(inferenceProfileIdentifier="apac.anthropic.claude-sonnet-9-v1:0")
    assert newer["inferenceProfileId"] == "apac.anthropic.claude-sonnet-9-v1:0"
    app = client.get_inference_profile(inferenceProfileIdentifier="mock-gpt")
    assert app["type"] == "APPLICATION"
    # the application profile's ARN is a model id that works on the runtime routes too
    reply = bearer_client(url, user_key).converse(
        modelId=app["inferenceProfileArn"], messages=[{"role": "user", "content": [{"text": "x"}]}]
    )
    assert reply["output"]["message"]["content"][0]["text"] == "Hello from the mock."
    for unknown in (OPUS, "nope"):
        with pytest.raises(ClientError) as info:
            client.get_inference_profile(inferenceProfileIdentifier=unknown)
        assert error_of(info)[:2] == (404, "ResourceNotFoundException")


def test_a_key_restricted_to_one_model_sees_only_that_model(url, mock_only_key):
    client = control_client(url, mock_only_key)
    listed = ids(client.list_inference_profiles()["inferenceProfileSummaries"])
    assert listed and all("haiku" in i for i in listed if i != "mock-gpt")
    assert "mock-gpt" in listed and "fake" not in listed and SONNET not in listed
    models = [m["modelId"] for m in client.list_foundation_models()["modelSummaries"]]
    # "*claude-haiku-*" takes Haiku 4.5, not "claude-3-5-haiku"
    assert set(models) == {"anthropic.claude-haiku-4-5-20251001-v1:0", "mock-gpt"}
    with pytest.raises(ClientError) as info:
        client.get_inference_profile(inferenceProfileIdentifier=SONNET)
    assert error_of(info)[:2] == (404, "ResourceNotFoundException")


# ---- foundation models ---------------------------------------------------------------------------------------


def test_foundation_models_list_get_and_filters(url, user_key):
    client = control_client(url, user_key)
    summaries = client.list_foundation_models()["modelSummaries"]
    models = [m["modelId"] for m in summaries]
    assert "anthropic.claude-sonnet-4-5-20250929-v1:0" in models and "fake" in models
    assert not [m for m in models if "opus" in m]
    anthropic_only = client.list_foundation_models(byProvider="anthropic")["modelSummaries"]
    assert anthropic_only and all(m["providerName"] == "Anthropic" for m in anthropic_only)
    assert client.list_foundation_models(byCustomizationType="FINE_TUNING")["modelSummaries"] == []

    details = client.get_foundation_model(modelIdentifier="anthropic.claude-sonnet-4-5-20250929-v1:0")["modelDetails"]
    assert details["modelName"] == "Claude Sonnet 4.5" and details["responseStreamingSupported"] is True
    arn = client.get_foundation_model(modelIdentifier=details["modelArn"])["modelDetails"]
    assert arn["modelId"] == details["modelId"]
    with pytest.raises(ClientError) as info:
        client.get_foundation_model(modelIdentifier="anthropic.claude-opus-4-6-v1")
    assert error_of(info) == (400, "ValidationException", INVALID)


# ---- CountTokens ---------------------------------------------------------------------------------------------


def anthropic_body(text: str, **extra: Any) -> bytes:
    messages = [{"role": "user", "content": [{"type": "text", "text": text}]}]
    return json.dumps(
        {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 100, "messages": messages, **extra}
    ).encode()


def test_count_tokens_of_an_invoke_model_body(url, user_key):
    client = bearer_client(url, user_key)
    short = client.count_tokens(modelId=SONNET, input={"invokeModel": {"body": anthropic_body("Hello there")}})
    long = client.count_tokens(
        modelId=SONNET, input={"invokeModel": {"body": anthropic_body("Hello there " * 50, system="Be brief.")}}
    )
    assert 0 < short["inputTokens"] < long["inputTokens"]


def test_count_tokens_of_a_converse_request(url, user_key):
    client = bearer_client(url, user_key)
    messages = [{"role": "user", "content": [{"text": "What is the weather in Paris?"}]}]
    plain = client.count_tokens(modelId=HAIKU, input={"converse": {"messages": messages}})["inputTokens"]
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    tool = {"toolSpec": {"name": "get_weather", "description": "Current weather", "inputSchema": {"json": schema}}}
    with_tools = client.count_tokens(
        modelId=HAIKU,
        input={"converse": {"messages": messages, "system": [{"text": "Be brief."}], "toolConfig": {"tools": [tool]}}},
    )["inputTokens"]
    assert 0 < plain < with_tools


def test_count_tokens_refusals_are_bedrock_errors(url, user_key, mock_only_key):
    client = bearer_client(url, user_key)
    with pytest.raises(ClientError) as info:
        client.count_tokens(modelId=OPUS, input={"invokeModel": {"body": anthropic_body("x")}})
    assert error_of(info) == (400, "ValidationException", INVALID)
    with pytest.raises(ClientError) as info:  # a model the key may not use answers like an unknown one
        bearer_client(url, mock_only_key).count_tokens(
            modelId=SONNET, input={"invokeModel": {"body": anthropic_body("x")}}
        )
    assert error_of(info) == (400, "ValidationException", INVALID)
    with pytest.raises(ClientError) as info:  # a Titan body is not Anthropic Messages
        client.count_tokens(modelId=SONNET, input={"invokeModel": {"body": json.dumps({"inputText": "x"}).encode()}})
    status, code, message = error_of(info)
    assert (status, code) == (400, "ValidationException") and "Anthropic Messages" in message
    # boto3 itself refuses both members; a raw client gets Bedrock's answer
    both = {"invokeModel": {"body": "e30="}, "converse": {"messages": [{"role": "user", "content": [{"text": "x"}]}]}}
    raw = httpx.post(f"{url}/bedrock/model/{SONNET}/count-tokens", json={"input": both},
                     headers={"Authorization": f"Bearer {user_key}"}, timeout=30)  # fmt: skip
    assert raw.status_code == 400 and raw.headers["x-amzn-errortype"] == "ValidationException"
    assert "exactly one of" in raw.json()["message"]

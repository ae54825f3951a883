"""The Bedrock Converse interface through the local stack, driven by real boto3 clients."""

from __future__ import annotations

import base64
import json

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.integration.bedrock_clients import bearer_client

PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
WEATHER_TOOL = {
    "toolSpec": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
    }
}


@pytest.fixture(scope="module")
def bedrock(gateway_url, master_key):
    return bearer_client(gateway_url, master_key)


def user(text: str) -> dict:
    return {"role": "user", "content": [{"text": text}]}


def test_converse_returns_text_usage_and_a_session(bedrock):
    response = bedrock.converse(
        modelId="fake",
        messages=[user("hello bedrock")],
        system=[{"text": "be brief"}],
        inferenceConfig={"maxTokens": 100, "temperature": 0.2},
    )
    assert response["output"]["message"] == {"role": "assistant", "content": [{"text": "Echo: hello bedrock"}]}
    assert response["stopReason"] == "end_turn"
    usage = response["usage"]
    assert usage["outputTokens"] > 0 and usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]
    assert response["metrics"]["latencyMs"] >= 0
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-session-id"]
    assert any(name.startswith("x-litellm-") for name in headers)  # LiteLLM's call/cost headers come along


def test_url_encoded_model_ids_route_to_the_litellm_model(bedrock):
    response = bedrock.converse(modelId="us.fake.model-v1:0", messages=[user("colon id")])
    assert response["output"]["message"]["content"][0]["text"] == "Echo: colon id"


def test_converse_stream_events_in_bedrock_order_and_same_text_as_sync(bedrock):
    prompt = [user("stream me some words please")]
    sync_text = bedrock.converse(modelId="fake", messages=prompt)["output"]["message"]["content"][0]["text"]
    response = bedrock.converse_stream(modelId="fake", messages=prompt)
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-session-id"]
    events = list(response["stream"])
    kinds = [next(iter(e)) for e in events]
    assert kinds[0] == "messageStart"
    assert kinds[-2:] == ["messageStop", "metadata"]
    assert "contentBlockStop" in kinds and kinds.index("contentBlockStop") < kinds.index("messageStop")
    streamed = "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e)
    assert streamed == sync_text
    metadata = events[-1]["metadata"]
    assert metadata["usage"]["outputTokens"] > 0
    assert "latencyMs" in metadata["metrics"]


def test_tool_use_round_trip(bedrock):
    messages = [user("what is the weather in Paris?")]
    tools = {"tools": [WEATHER_TOOL], "toolChoice": {"auto": {}}}
    first = bedrock.converse(modelId="fake", messages=messages, toolConfig=tools)
    assert first["stopReason"] == "tool_use"
    tool_use = next(b["toolUse"] for b in first["output"]["message"]["content"] if "toolUse" in b)
    assert tool_use["name"] == "get_weather" and tool_use["input"] == {"city": "test"}
    messages += [
        first["output"]["message"],
        {
            "role": "user",
            "content": [{"toolResult": {"toolUseId": tool_use["toolUseId"], "content": [{"json": {"temp_c": 21}}]}}],
        },
    ]
    second = bedrock.converse(modelId="fake", messages=messages, toolConfig=tools)
    assert second["stopReason"] == "end_turn"
    assert second["output"]["message"]["content"][0]["text"] == 'Tool said: {"temp_c": 21}'


def test_tool_use_streams_as_content_blocks(bedrock):
    response = bedrock.converse_stream(
        modelId="fake", messages=[user("weather?")], toolConfig={"tools": [WEATHER_TOOL]}
    )
    events = list(response["stream"])
    start = next(e["contentBlockStart"] for e in events if "contentBlockStart" in e)
    assert start["start"]["toolUse"]["name"] == "get_weather"
    fragments = "".join(
        e["contentBlockDelta"]["delta"]["toolUse"]["input"]
        for e in events
        if "contentBlockDelta" in e and "toolUse" in e["contentBlockDelta"]["delta"]
    )
    assert json.loads(fragments) == {"city": "test"}
    assert next(e["messageStop"] for e in events if "messageStop" in e)["stopReason"] == "tool_use"


def test_images_reach_the_model_as_data_urls(bedrock):
    response = bedrock.converse(
        modelId="fake",
        messages=[
            {
                "role": "user",
                "content": [{"text": "__echo_request__"}, {"image": {"format": "png", "source": {"bytes": PNG_1PX}}}],
            }
        ],
    )
    sent = json.loads(response["output"]["message"]["content"][0]["text"])
    parts = sent["messages"][-1]["content"]
    image = next(p for p in parts if p.get("type") == "image_url")
    assert image["image_url"]["url"] == "data:image/png;base64," + base64.b64encode(PNG_1PX).decode()


@pytest.mark.parametrize(
    ("text", "code", "status"),
    [
        ("__status_429__", "ThrottlingException", 429),
        ("__status_500__", "ModelErrorException", 424),
        ("__status_503__", "ServiceUnavailableException", 503),
        ("__status_400__", "ValidationException", 400),
    ],
)
def test_upstream_failures_raise_the_bedrock_error_boto3_knows(bedrock, text, code, status):
    with pytest.raises(ClientError) as raised:
        bedrock.converse(modelId="fake", messages=[user(text)])
    assert raised.value.response["Error"]["Code"] == code
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


def test_stream_that_fails_before_the_first_byte_raises_a_client_error(bedrock):
    with pytest.raises(ClientError) as raised:
        bedrock.converse_stream(modelId="fake", messages=[user("__status_429__")])
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"


def test_unknown_model_is_a_validation_exception(bedrock):
    with pytest.raises(ClientError) as raised:
        bedrock.converse(modelId="no-such-model", messages=[user("hi")])
    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_bad_key_is_access_denied(gateway_url):
    with pytest.raises(ClientError) as raised:
        bearer_client(gateway_url, "sk-wrong").converse(modelId="fake", messages=[user("hi")])
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"


def test_bearer_token_environment_variable_works_without_hooks(tls_gateway, master_key, monkeypatch):
    # botocore sends AWS_BEARER_TOKEN_BEDROCK only over HTTPS, as it would to the deployed gateway
    url, ca_bundle = tls_gateway
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", master_key)
    client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=f"{url}/bedrock",
        verify=str(ca_bundle),
        config=Config(retries={"max_attempts": 1}),
    )
    response = client.converse(modelId="fake", messages=[user("token from env")])
    assert response["output"]["message"]["content"][0]["text"] == "Echo: token from env"


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b"{not json", "JSON"),
        (json.dumps({"messages": []}).encode(), "messages"),
        (json.dumps({"messages": [{"role": "user", "content": [{"video": {}}]}]}).encode(), "messages[0]"),
        (json.dumps({"messages": "hi"}).encode(), "messages"),
    ],
    ids=["malformed-json", "empty-messages", "unknown-block", "wrong-type"],
)
def test_bad_requests_are_validation_exceptions_naming_the_field(gateway_url, master_key, body, named):
    response = httpx.post(
        f"{gateway_url}/bedrock/model/fake/converse",
        headers={"Authorization": f"Bearer {master_key}", "content-type": "application/json"},
        content=body,
    )
    assert response.status_code == 400
    assert response.headers["x-amzn-errortype"] == "ValidationException"
    assert named in response.json()["message"]

"""Anthropic-format Bedrock clients through the local stack: the real ``anthropic`` SDK's
``AnthropicBedrock`` and boto3's ``invoke_model[_with_response_stream]`` against ``fake-chat``, a model
that is not Anthropic's (the fake OpenAI-compatible upstream behind LiteLLM, the one stand-in here)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import anthropic
import httpx
import pytest
from botocore.exceptions import ClientError, EventStreamError

from devstack.processes import free_port
from devstack.stack import LocalStack
from tests.integration.bedrock_clients import bearer_client
from tests.integration.conftest import new_user_key
from tests.support.oidc_issuer import OidcIssuer

MODEL = "fake-chat"
WEATHER = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def sdk(gateway_url: str, key: str) -> anthropic.AnthropicBedrock:
    """As an application builds it: ``AWS_BEARER_TOKEN_BEDROCK`` is the same as ``api_key``."""
    return anthropic.AnthropicBedrock(
        base_url=f"{gateway_url}/bedrock", api_key=key, aws_region="us-east-1", max_retries=0
    )


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def anthropic_body(text: str, **fields) -> bytes:
    return json.dumps(
        {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 100, "messages": user(text), **fields}
    ).encode()


@pytest.fixture(scope="module")
def client(gateway_url: str, user_key: str) -> anthropic.AnthropicBedrock:
    return sdk(gateway_url, user_key)


@pytest.fixture(scope="module")
def litellm(stack: LocalStack, master_key: str) -> Iterator[httpx.Client]:
    """LiteLLM itself, as an administrator: the ground truth for spend."""
    with httpx.Client(base_url=stack.litellm_url, headers={"Authorization": f"Bearer {master_key}"}) as admin:
        yield admin


def spend_rows(litellm: httpx.Client, user_id: str, *, want: int, timeout: float = 30.0) -> list[dict]:
    """LiteLLM writes spend logs in batches: wait until ``want`` rows of ``user_id`` are there."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        response = litellm.get("/spend/logs", params={"user_id": user_id})
        assert response.status_code == 200, response.text
        rows = response.json()
        if len(rows) >= want or time.monotonic() > deadline:
            return rows
        time.sleep(0.5)


# ---- the Anthropic SDK ---------------------------------------------------------------------------


def test_create_answers_with_an_anthropic_message(client):
    raw = client.messages.with_raw_response.create(model=MODEL, max_tokens=100, messages=user("hello there"))
    message = raw.parse()
    assert message.type == "message" and message.role == "assistant"
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == "Echo: hello there"
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0
    # Bedrock's own headers on InvokeModel
    assert raw.headers["x-amzn-bedrock-output-token-count"] == str(message.usage.output_tokens)
    assert int(raw.headers["x-amzn-bedrock-invocation-latency"]) >= 0
    assert "x-session-id" not in raw.headers  # no chat history on these routes


def test_stream_delivers_the_same_answer_event_by_event(client):
    with client.messages.stream(model=MODEL, max_tokens=100, messages=user("stream this please")) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert len(pieces) > 1
    assert "".join(pieces) == final.content[0].text == "Echo: stream this please"
    assert final.stop_reason == "end_turn" and final.usage.output_tokens > 0


def test_tool_use_round_trip(client):
    messages: list[dict] = user("What is the weather in Paris?")
    first = client.messages.create(model=MODEL, max_tokens=100, tools=[WEATHER], messages=messages)
    assert first.stop_reason == "tool_use"
    call = next(block for block in first.content if block.type == "tool_use")
    assert call.name == "get_weather" and call.input == {"city": "test"}
    messages += [
        {"role": "assistant", "content": [block.model_dump(exclude_none=True) for block in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "21 C, sunny"}]},
    ]
    second = client.messages.create(model=MODEL, max_tokens=100, tools=[WEATHER], messages=messages)
    assert second.stop_reason == "end_turn"
    assert second.content[0].text == "Tool said: 21 C, sunny"


def test_streamed_tool_use_arrives_with_its_input(client):
    with client.messages.stream(model=MODEL, max_tokens=100, tools=[WEATHER], messages=user("weather?")) as stream:
        final = stream.get_final_message()
    call = next(block for block in final.content if block.type == "tool_use")
    assert final.stop_reason == "tool_use" and call.input == {"city": "test"}


def test_sampling_fields_and_stop_sequences_reach_the_model(client):
    message = client.messages.create(
        model=MODEL,
        max_tokens=77,
        system="You are terse.",
        stop_sequences=["###"],
        extra_body={"temperature": 0.25, "top_p": 0.5},  # this SDK version has no typed arguments for them
        messages=user("__echo_request__"),
    )
    sent = json.loads(message.content[0].text)  # what the model provider received from LiteLLM
    assert sent["stop"] == ["###"]
    assert (sent["temperature"], sent["top_p"], sent["max_tokens"]) == (0.25, 0.5, 77)
    assert sent["messages"][0] == {"role": "system", "content": "You are terse."}


def test_betas_are_accepted_and_not_sent_to_a_model_that_is_not_anthropic(client):
    message = client.beta.messages.create(
        model=MODEL, max_tokens=100, betas=["interleaved-thinking-2025-05-14"], messages=user("__echo_request__")
    )
    sent = json.loads(message.content[0].text)
    assert "anthropic_beta" not in sent and "anthropic_version" not in sent


def test_an_upstream_429_is_the_sdk_rate_limit_error(client):
    with pytest.raises(anthropic.RateLimitError) as raised:
        client.messages.create(model=MODEL, max_tokens=100, messages=user("__status_429__"))
    assert raised.value.status_code == 429
    assert raised.value.response.headers["x-amzn-errortype"] == "ThrottlingException"
    stream = client.messages.stream(model=MODEL, max_tokens=100, messages=user("__status_429__"))
    with pytest.raises(anthropic.RateLimitError), stream as events:
        list(events.text_stream)


def test_an_unknown_model_is_the_sdk_bad_request_error_with_bedrocks_message(client):
    with pytest.raises(anthropic.BadRequestError) as raised:
        client.messages.create(model="no-such-model", max_tokens=10, messages=user("hi"))
    assert raised.value.body == {"message": "The provided model identifier is invalid."}
    assert raised.value.response.headers["x-amzn-errortype"] == "ValidationException"


def test_a_wrong_key_is_the_sdk_authentication_error(gateway_url):
    with pytest.raises(anthropic.AuthenticationError):
        sdk(gateway_url, "sk-not-a-key").messages.create(model=MODEL, max_tokens=10, messages=user("hi"))


def test_the_key_in_x_api_key_works(gateway_url, user_key):
    response = httpx.post(
        f"{gateway_url}/bedrock/model/{MODEL}/invoke", headers={"x-api-key": user_key}, content=anthropic_body("hi")
    )
    assert response.status_code == 200, response.text
    assert response.json()["content"] == [{"type": "text", "text": "Echo: hi"}]


# ---- boto3 -------------------------------------------------------------------------------------------


def test_boto3_invoke_model(gateway_url, user_key):
    response = bearer_client(gateway_url, user_key).invoke_model(
        modelId=MODEL, body=anthropic_body("hello boto3"), contentType="application/json", accept="application/json"
    )
    message = json.loads(response["body"].read())
    assert message["type"] == "message" and message["content"][0]["text"] == "Echo: hello boto3"
    assert response["contentType"].startswith("application/json")


def test_boto3_invoke_model_with_response_stream(gateway_url, user_key):
    response = bearer_client(gateway_url, user_key).invoke_model_with_response_stream(
        modelId=MODEL, body=anthropic_body("hello stream")
    )
    events = [json.loads(event["chunk"]["bytes"]) for event in response["body"]]
    types = [event["type"] for event in events]
    assert types[0] == "message_start" and types[-2:] == ["message_delta", "message_stop"]
    text = "".join(e["delta"]["text"] for e in events if e["type"] == "content_block_delta")
    assert text == "Echo: hello stream"
    metrics = events[-1]["amazon-bedrock-invocationMetrics"]
    assert metrics["outputTokenCount"] == events[-2]["usage"]["output_tokens"] > 0
    assert metrics["inputTokenCount"] > 0
    assert metrics["invocationLatency"] >= metrics["firstByteLatency"] >= 0


@pytest.fixture(scope="module")
def aliased(stack: LocalStack) -> str:
    """A middleware whose alias map sends Claude ids to ``fake-chat`` (how a platform team points Claude
    Code's default models at the models it chose)."""
    aliases = json.dumps({"*claude-sonnet-*": MODEL})
    return stack.start_middleware(
        "middleware-invoke-aliases", free_port(), env_overrides={"BEDROCK_MODEL_ALIASES": aliases}
    )


def test_a_bedrock_model_id_reaches_the_model_its_alias_names(aliased, user_key):
    """boto3 percent-encodes ``:`` in ``modelId``; the route takes the decoded id and resolves it."""
    client = bearer_client(aliased, user_key)
    claude_id = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    message = json.loads(client.invoke_model(modelId=claude_id, body=anthropic_body("hi"))["body"].read())
    assert message["model"] == MODEL and message["content"][0]["text"] == "Echo: hi"
    stream = client.invoke_model_with_response_stream(modelId=claude_id + "[1m]", body=anthropic_body("hi"))
    assert json.loads(next(iter(stream["body"]))["chunk"]["bytes"])["type"] == "message_start"
    with pytest.raises(ClientError) as raised:
        client.invoke_model(modelId="us.anthropic.claude-haiku-4-5-20251001-v1:0", body=anthropic_body("hi"))
    assert raised.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "The provided model identifier is invalid.",
    }


@pytest.mark.parametrize(
    "body",
    [
        {"inputText": "hi", "textGenerationConfig": {"maxTokenCount": 5}},
        {"messages": [{"role": "user", "content": [{"text": "hi"}]}]},
    ],
    ids=["titan", "converse"],
)
def test_a_body_that_is_not_anthropic_messages_is_a_validation_exception(gateway_url, user_key, body):
    with pytest.raises(ClientError) as raised:
        bearer_client(gateway_url, user_key).invoke_model(modelId=MODEL, body=json.dumps(body).encode())
    error = raised.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "Anthropic Messages body" in error["Message"] and "anthropic_version" in error["Message"]
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_missing_credential_is_access_denied(gateway_url):
    response = httpx.post(f"{gateway_url}/bedrock/model/{MODEL}/invoke", content=anthropic_body("hi"))
    assert response.status_code == 401
    assert response.headers["x-amzn-errortype"] == "AccessDeniedException"
    assert "message" in response.json()


# ---- failures after the stream started ------------------------------------------------------------


@pytest.fixture(scope="module")
def impatient(stack: LocalStack) -> str:
    """A middleware that waits at most 0.5 s between bytes from LiteLLM."""
    return stack.start_middleware(
        "middleware-invoke-impatient", free_port(), env_overrides={"UPSTREAM_READ_TIMEOUT_SECONDS": "0.5"}
    )


def test_a_stream_that_stalls_ends_with_an_exception_frame(impatient, user_key):
    response = bearer_client(impatient, user_key).invoke_model_with_response_stream(
        modelId=MODEL, body=anthropic_body("__drip_2__ one two")
    )
    seen = []
    with pytest.raises(EventStreamError) as raised:
        for event in response["body"]:
            seen.append(json.loads(event["chunk"]["bytes"])["type"])
    assert seen and seen[0] == "message_start"
    assert raised.value.response["Error"]["Code"] == "modelTimeoutException"


def test_the_sdk_raises_its_api_error_for_an_exception_frame(impatient, user_key):
    with (
        pytest.raises(anthropic.APIStatusError) as raised,
        sdk(impatient, user_key).messages.stream(
            model=MODEL, max_tokens=100, messages=user("__drip_2__ one two")
        ) as stream,
    ):
        list(stream.text_stream)
    assert raised.value.body["error"]["type"] == "modelTimeoutException"


# ---- who pays -------------------------------------------------------------------------------------


def test_spend_lands_on_the_callers_key_and_user(gateway_url, master_key, litellm):
    user_id, key = new_user_key(gateway_url, master_key, "invoker")
    client = sdk(gateway_url, key)
    client.messages.create(model=MODEL, max_tokens=100, messages=user("bill me"))
    with client.messages.stream(model=MODEL, max_tokens=100, messages=user("bill me too")) as stream:
        stream.get_final_message()
    rows = spend_rows(litellm, user_id, want=2)
    key_hash = hashlib.sha256(key.encode()).hexdigest()  # how LiteLLM stores a key
    assert len(rows) >= 2 and all(row["api_key"] == key_hash and row["user"] == user_id for row in rows)
    # and nothing was stored as chat history for that user
    sessions = httpx.post(f"{gateway_url}/session-ids", headers={"Authorization": f"Bearer {key}"}, json={})
    assert sessions.status_code == 200 and sessions.json()["session_ids"] == []


@pytest.fixture(scope="module")
def okta_url(stack: LocalStack, idp: OidcIssuer) -> str:
    return stack.start_middleware(
        "middleware-invoke-okta", free_port(), env_overrides={"OKTA_ISSUER": idp.issuer, "OKTA_AUDIENCE": idp.audience}
    )


def test_an_okta_jwt_works_and_the_user_pays(okta_url, idp, litellm):
    sub = f"invoke-{free_port()}@example.com"
    client = sdk(okta_url, idp.mint(idp.claims(sub=sub)))
    assert client.messages.create(model=MODEL, max_tokens=100, messages=user("hi okta")).content[0].text == (
        "Echo: hi okta"
    )
    with client.messages.stream(model=MODEL, max_tokens=100, messages=user("stream okta")) as stream:
        assert stream.get_final_message().content[0].text == "Echo: stream okta"
    rows = spend_rows(litellm, sub, want=2)
    assert len(rows) >= 2 and all(row["user"] == sub for row in rows)

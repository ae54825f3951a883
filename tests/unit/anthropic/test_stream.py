"""InvokeModelWithResponseStream frames, read back by the real Anthropic SDK (``AnthropicBedrock``) and by
boto3: the same events, invocation metrics on ``message_stop``, failures as the clients' own errors."""

from __future__ import annotations

import base64
import json

import anthropic
import httpx2
import pytest
from botocore.exceptions import EventStreamError

from gateway.anthropic.stream import METRICS_KEY, InvokeStreamEncoder, exception_frame, message_events
from gateway.errors import ErrorKind, GatewayError
from tests.unit.converse.conftest import BedrockHarness

MESSAGE = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "fake-chat",
    "content": [
        {"type": "thinking", "thinking": "Let me see.", "signature": "c2ln"},
        {"type": "redacted_thinking", "data": "cmVkYWN0ZWQ="},
        {"type": "text", "text": "Grüße 👋"},
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {"input_tokens": 12, "output_tokens": 30},
}


def frames(events: list[dict]) -> bytes:
    encoder = InvokeStreamEncoder()
    return b"".join(encoder.feed(event) for event in events)


def sdk_client(body: bytes) -> anthropic.AnthropicBedrock:
    """The SDK's Bedrock client, its HTTP answered with ``body`` as an event stream."""

    def answer(request: httpx2.Request) -> httpx2.Response:
        assert request.url.path == "/bedrock/model/fake-chat/invoke-with-response-stream"
        return httpx2.Response(200, headers={"content-type": "application/vnd.amazon.eventstream"}, content=body)

    return anthropic.AnthropicBedrock(
        api_key="sk-test",
        aws_region="us-east-1",
        base_url="http://gateway.test/bedrock",
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(answer)),
    )


def boto3_events(body: bytes) -> list[dict]:
    harness = BedrockHarness()
    harness.respond_stream(body)
    response = harness.client.invoke_model_with_response_stream(modelId="fake-chat", body=b"{}")
    return [json.loads(event["chunk"]["bytes"]) for event in response["body"]]


def test_a_whole_message_streams_back_to_the_same_message_in_the_sdk():
    client = sdk_client(frames(message_events(MESSAGE)))
    with client.messages.stream(model="fake-chat", max_tokens=100, messages=[{"role": "user", "content": "hi"}]) as s:
        final = s.get_final_message()
    assert final.model_dump(include={"id", "model", "stop_reason", "stop_sequence"}) == {
        "id": "msg_1",
        "model": "fake-chat",
        "stop_reason": "tool_use",
        "stop_sequence": None,
    }
    assert [block.model_dump(exclude_none=True) for block in final.content] == [
        {"type": "thinking", "thinking": "Let me see.", "signature": "c2ln"},
        {"type": "redacted_thinking", "data": "cmVkYWN0ZWQ="},
        {"type": "text", "text": "Grüße 👋"},
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
    ]
    assert (final.usage.input_tokens, final.usage.output_tokens) == (12, 30)


def test_boto3_reads_every_event_as_a_chunk_and_the_last_carries_invocation_metrics():
    events = message_events(MESSAGE)
    received = boto3_events(frames(events))
    assert [e["type"] for e in received] == [e["type"] for e in events]
    assert received[:-1] == events[:-1]
    metrics = received[-1][METRICS_KEY]
    assert metrics["inputTokenCount"] == 12 and metrics["outputTokenCount"] == 30
    assert set(metrics) == {"inputTokenCount", "outputTokenCount", "invocationLatency", "firstByteLatency"}
    assert 0 <= metrics["firstByteLatency"] <= metrics["invocationLatency"]


def test_the_chunk_payload_is_base64_of_the_event_json():
    frame = frames([{"type": "message_stop"}])
    payload = json.loads(frame[frame.index(b'{"bytes"') : -4])
    assert json.loads(base64.b64decode(payload["bytes"]))["type"] == "message_stop"


def test_usage_counts_come_from_message_start_and_message_delta():
    encoder = InvokeStreamEncoder()
    encoder.feed({"type": "message_start", "message": {"usage": {"input_tokens": 0, "output_tokens": 0}}})
    encoder.feed({"type": "message_delta", "delta": {}, "usage": {"input_tokens": 9, "output_tokens": 4}})
    assert (encoder.input_tokens, encoder.output_tokens) == (9, 4)


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        (ErrorKind.RATE_LIMITED, "throttlingException"),
        (ErrorKind.VALIDATION, "validationException"),
        (ErrorKind.UNAVAILABLE, "serviceUnavailableException"),
        (ErrorKind.TIMEOUT, "modelTimeoutException"),
        (ErrorKind.MODEL_ERROR, "modelStreamErrorException"),
        (ErrorKind.UPSTREAM_UNREACHABLE, "modelStreamErrorException"),
    ],
)
def test_a_failure_mid_stream_is_an_exception_frame_both_clients_raise(kind, name):
    start = message_events(MESSAGE)[:2]
    body = frames(start) + exception_frame(GatewayError(kind, "it broke"))

    with pytest.raises(EventStreamError) as boto3_raised:
        boto3_events(body)
    assert boto3_raised.value.response["Error"] == {"Code": name, "Message": "it broke"}

    client = sdk_client(body)
    with pytest.raises(anthropic.APIStatusError) as sdk_raised:
        for _ in client.messages.create(
            model="fake-chat", max_tokens=10, messages=[{"role": "user", "content": "hi"}], stream=True
        ):
            pass
    assert sdk_raised.value.body == {"type": "error", "error": {"type": name, "message": "it broke"}}


def test_an_anthropic_error_event_from_upstream_becomes_the_matching_exception_frame():
    encoder = InvokeStreamEncoder()
    frame = encoder.feed({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    assert encoder.failed
    with pytest.raises(EventStreamError) as raised:
        boto3_events(frame)
    assert raised.value.response["Error"] == {"Code": "serviceUnavailableException", "Message": "Overloaded"}

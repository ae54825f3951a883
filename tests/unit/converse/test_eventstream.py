"""The event-stream encoder, checked with botocore's own decoder and boto3's ConverseStream parsing."""

from __future__ import annotations

import pytest
from botocore.eventstream import EventStreamBuffer
from botocore.exceptions import EventStreamError

from gateway.converse.eventstream import (
    encode_event,
    encode_events,
    encode_exception,
    encode_gateway_error,
)
from gateway.errors import ErrorKind, GatewayError

EVENTS = [
    ("messageStart", {"role": "assistant"}),
    ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Grüße, 世界 👋"}}),
    ("contentBlockStop", {"contentBlockIndex": 0}),
    (
        "contentBlockStart",
        {"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather"}}},
    ),
    ("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"toolUse": {"input": '{"city":"Paris"}'}}}),
    ("contentBlockStop", {"contentBlockIndex": 1}),
    ("messageStop", {"stopReason": "tool_use"}),
    (
        "metadata",
        {
            "usage": {"inputTokens": 12, "outputTokens": 30, "totalTokens": 42},
            "metrics": {"latencyMs": 250},
        },
    ),
]


def _decode(data: bytes) -> list[dict]:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return [message.to_response_dict() for message in buffer]


def test_event_frame_headers_and_compact_utf8_payload():
    [frame] = _decode(encode_event("contentBlockDelta", EVENTS[1][1]))
    assert frame["status_code"] == 200
    assert frame["headers"] == {
        ":event-type": "contentBlockDelta",
        ":content-type": "application/json",
        ":message-type": "event",
    }
    assert frame["body"] == '{"contentBlockIndex":0,"delta":{"text":"Grüße, 世界 👋"}}'.encode()


def test_bytes_payload_is_sent_verbatim():
    [frame] = _decode(encode_event("messageStop", b'{"stopReason":"end_turn"}'))
    assert frame["body"] == b'{"stopReason":"end_turn"}'


def test_large_payload_round_trips():
    text = "x" * 200_000
    [frame] = _decode(encode_event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": text}}))
    assert len(frame["body"]) > 200_000


def test_boto3_converse_stream_sees_every_event(bedrock):
    bedrock.respond_stream(encode_events(EVENTS))
    response = bedrock.client.converse_stream(
        modelId="gpt-4o", messages=[{"role": "user", "content": [{"text": "hi"}]}]
    )
    assert list(response["stream"]) == [{name: payload} for name, payload in EVENTS]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("ThrottlingException", "throttlingException"),
        ("throttlingException", "throttlingException"),
        ("ValidationException", "validationException"),
        ("ModelStreamErrorException", "modelStreamErrorException"),
        ("InternalServerException", "internalServerException"),
        ("ServiceUnavailableException", "serviceUnavailableException"),
    ],
)
def test_exception_frame_raises_modeled_error_in_boto3(bedrock, name, code):
    bedrock.respond_stream(encode_events(EVENTS[:2]) + encode_exception(name, "rate exceeded, ünïcode"))
    stream = bedrock.client.converse_stream(modelId="m", messages=[{"role": "user", "content": [{"text": "hi"}]}])[
        "stream"
    ]
    received = []
    with pytest.raises(EventStreamError) as info:
        for event in stream:
            received.append(event)
    assert received == [{name: payload} for name, payload in EVENTS[:2]]
    assert info.value.response["Error"] == {"Code": code, "Message": "rate exceeded, ünïcode"}


def test_exception_frame_headers():
    [frame] = _decode(encode_exception("ValidationException", "bad"))
    assert frame["status_code"] == 400
    assert frame["headers"] == {
        ":exception-type": "validationException",
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    assert frame["body"] == b'{"message":"bad"}'


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        (ErrorKind.VALIDATION, "validationException"),
        (ErrorKind.RATE_LIMITED, "throttlingException"),
        (ErrorKind.UNAVAILABLE, "serviceUnavailableException"),
        (ErrorKind.INTERNAL, "internalServerException"),
        (ErrorKind.MODEL_ERROR, "modelStreamErrorException"),
        (ErrorKind.TIMEOUT, "modelStreamErrorException"),
        (ErrorKind.FORBIDDEN, "modelStreamErrorException"),
    ],
)
def test_gateway_errors_become_modeled_stream_exceptions(bedrock, kind, code):
    bedrock.respond_stream(encode_gateway_error(GatewayError(kind, "upstream broke")))
    stream = bedrock.client.converse_stream(modelId="m", messages=[{"role": "user", "content": [{"text": "x"}]}])
    with pytest.raises(EventStreamError) as info:
        list(stream["stream"])
    assert info.value.response["Error"] == {"Code": code, "Message": "upstream broke"}

"""A real boto3 ``bedrock-runtime`` client whose HTTP layer is replaced by canned bytes.

The ``before-send`` hook short-circuits the network, so requests are serialized and responses
parsed by botocore exactly as they would be against Bedrock (or the gateway).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from botocore.awsrequest import AWSResponse


class _RawBody:
    """What botocore reads a response body from; served in small chunks to exercise buffering."""

    def __init__(self, data: bytes, chunk_size: int = 7) -> None:
        self._data = data
        self._chunk_size = chunk_size

    def stream(self, **_: object) -> Iterator[bytes]:
        for start in range(0, len(self._data), self._chunk_size):
            yield self._data[start : start + self._chunk_size]

    def read(self, *_: object) -> bytes:
        return self._data

    def close(self) -> None:
        pass


class BedrockHarness:
    def __init__(self) -> None:
        self.client = boto3.client(
            "bedrock-runtime",
            region_name="us-east-1",
            endpoint_url="http://gateway.test",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        self.requests: list[dict] = []
        self._response: tuple[int, dict, bytes] = (200, {}, b"{}")
        self.client.meta.events.register("before-send.bedrock-runtime.*", self._send)

    def _send(self, request, **_: object) -> AWSResponse:
        body = request.body
        self.requests.append(json.loads(body) if body else {})
        status, headers, data = self._response
        return AWSResponse(request.url, status, headers, _RawBody(data))

    def respond(self, data: bytes, status: int = 200, headers: dict | None = None) -> None:
        self._response = (status, headers or {}, data)

    def respond_stream(self, data: bytes) -> None:
        self.respond(data, headers={"content-type": "application/vnd.amazon.eventstream"})

    def wire_body(self, **converse_kwargs: object) -> dict:
        """The JSON body boto3 puts on the wire for ``converse(**kwargs)``."""
        self.respond(
            b'{"output":{"message":{"role":"assistant","content":[]}},"stopReason":"end_turn",'
            b'"usage":{"inputTokens":0,"outputTokens":0,"totalTokens":0},"metrics":{"latencyMs":0}}'
        )
        self.client.converse(**converse_kwargs)
        return self.requests[-1]


@pytest.fixture
def bedrock() -> BedrockHarness:
    return BedrockHarness()

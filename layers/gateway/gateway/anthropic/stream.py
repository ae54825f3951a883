"""Anthropic stream events → InvokeModelWithResponseStream frames, as Bedrock sends them.

Each Anthropic event (``message_start``, ``content_block_delta``, …) travels as one event-stream
``chunk`` event whose JSON payload is ``{"bytes": "<base64 of the event's JSON>"}``. Bedrock adds
``amazon-bedrock-invocationMetrics`` (input/output token counts, invocation and first-byte latency in
ms) and a guardrail's verdict to the ``message_stop`` event; so does this encoder. A failure becomes an
exception frame whose name is a member of Bedrock's ``ResponseStream`` (``throttlingException``…),
which botocore raises as ``EventStreamError`` and the Anthropic SDKs as their API error with that type.
"""

from __future__ import annotations

import base64
import json
import time

from gateway.converse.eventstream import encode_event, encode_exception
from gateway.errors import ErrorKind, GatewayError
from gateway.jsonbytes import json_bytes

METRICS_KEY = "amazon-bedrock-invocationMetrics"

#: Mid-stream failures, by kind, as the exception members of Bedrock's ``ResponseStream``.
STREAM_EXCEPTIONS = {
    ErrorKind.VALIDATION: "validationException",
    ErrorKind.RATE_LIMITED: "throttlingException",
    ErrorKind.UNAVAILABLE: "serviceUnavailableException",
    ErrorKind.TIMEOUT: "modelTimeoutException",
    ErrorKind.INTERNAL: "internalServerException",
}
#: Anthropic's error types (in a stream's ``error`` event) as the gateway's error kinds.
ANTHROPIC_ERROR_KINDS = {
    "invalid_request_error": ErrorKind.VALIDATION,
    "authentication_error": ErrorKind.UNAUTHENTICATED,
    "permission_error": ErrorKind.FORBIDDEN,
    "not_found_error": ErrorKind.NOT_FOUND,
    "request_too_large": ErrorKind.VALIDATION,
    "rate_limit_error": ErrorKind.RATE_LIMITED,
    "overloaded_error": ErrorKind.UNAVAILABLE,
    "timeout_error": ErrorKind.TIMEOUT,
    "api_error": ErrorKind.MODEL_ERROR,
}


def chunk_frame(event: dict) -> bytes:
    """One ``chunk`` event carrying ``event`` (an Anthropic stream event)."""
    return encode_event("chunk", {"bytes": base64.b64encode(json_bytes(event)).decode("ascii")})


def exception_frame(error: GatewayError) -> bytes:
    return encode_exception(STREAM_EXCEPTIONS.get(error.kind, "modelStreamErrorException"), error.message)


def error_of_event(event: dict) -> GatewayError:
    """An Anthropic ``error`` event (``{"type": "error", "error": {"type", "message"}}``) as a gateway error."""
    detail = event.get("error") if isinstance(event.get("error"), dict) else {}
    kind = ANTHROPIC_ERROR_KINDS.get(detail.get("type"), ErrorKind.MODEL_ERROR)
    message = detail.get("message")
    return GatewayError(kind, message if isinstance(message, str) and message else "the model stream failed")


class InvokeStreamEncoder:
    """Frames for one stream, in order; keeps the usage and timings for the invocation metrics."""

    def __init__(self, started: float | None = None, final_fields: dict | None = None) -> None:
        self.started = time.monotonic() if started is None else started
        #: added to ``message_stop`` next to the metrics (a guardrail's verdict, as Bedrock sends it)
        self.final_fields = final_fields or {}
        self.first_byte: float | None = None
        self.input_tokens = 0
        self.output_tokens = 0
        self.stopped = False
        self.failed = False

    def feed(self, event: dict) -> bytes:
        """The frame for ``event``; an ``error`` event becomes an exception frame."""
        kind = event.get("type")
        if kind == "error":
            self.failed = True
            return exception_frame(error_of_event(event))
        if self.first_byte is None:
            self.first_byte = time.monotonic()
        if kind == "message_start":
            self._count((event.get("message") or {}).get("usage"))
        elif kind == "message_delta":
            self._count(event.get("usage"))
        elif kind == "message_stop":
            self.stopped = True
            event = {**event, **self.final_fields, METRICS_KEY: self.metrics()}
        return chunk_frame(event)

    def metrics(self) -> dict[str, int]:
        now = time.monotonic()
        first = self.first_byte if self.first_byte is not None else now
        return {
            "inputTokenCount": self.input_tokens,
            "outputTokenCount": self.output_tokens,
            "invocationLatency": int((now - self.started) * 1000),
            "firstByteLatency": int((first - self.started) * 1000),
        }

    def _count(self, usage: object) -> None:
        """Anthropic reports input tokens on ``message_start`` and (some providers, again) on
        ``message_delta``, and the cumulative output tokens on ``message_delta``: keep the largest."""
        if not isinstance(usage, dict):
            return
        for field, attr in (("input_tokens", "input_tokens"), ("output_tokens", "output_tokens")):
            value = usage.get(field)
            if isinstance(value, int) and not isinstance(value, bool) and value > getattr(self, attr):
                setattr(self, attr, value)


def message_events(message: dict) -> list[dict]:
    """The stream events of a complete Anthropic ``message`` (LiteLLM answers a ``mock_response``
    model's stream request with the whole message at once), in Anthropic's order."""
    usage = message.get("usage") if isinstance(message.get("usage"), dict) else {}
    start = {k: v for k, v in message.items() if k not in ("content", "stop_reason", "stop_sequence", "usage")}
    start.update(content=[], stop_reason=None, stop_sequence=None, usage={**usage, "output_tokens": 0})
    events: list[dict] = [{"type": "message_start", "message": start}]
    for index, block in enumerate(message.get("content") or []):
        if not isinstance(block, dict):
            continue
        opening, deltas = _split_block(block)
        events.append({"type": "content_block_start", "index": index, "content_block": opening})
        events.extend({"type": "content_block_delta", "index": index, "delta": delta} for delta in deltas)
        events.append({"type": "content_block_stop", "index": index})
    delta = {"stop_reason": message.get("stop_reason"), "stop_sequence": message.get("stop_sequence")}
    events.append({"type": "message_delta", "delta": delta, "usage": {"output_tokens": usage.get("output_tokens", 0)}})
    events.append({"type": "message_stop"})
    return events


def _split_block(block: dict) -> tuple[dict, list[dict]]:
    """A content block as its ``content_block_start`` value and its deltas (Anthropic's streaming shapes)."""
    kind = block.get("type")
    if kind == "text":
        return {**block, "text": ""}, [{"type": "text_delta", "text": block.get("text", "")}]
    if kind in ("tool_use", "server_tool_use"):
        partial = json.dumps(block.get("input") or {}, separators=(",", ":"))
        return {**block, "input": {}}, [{"type": "input_json_delta", "partial_json": partial}]
    if kind == "thinking":
        deltas = [{"type": "thinking_delta", "thinking": block.get("thinking", "")}]
        if block.get("signature"):
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
        return {**block, "thinking": "", "signature": ""}, deltas
    return block, []  # redacted_thinking and the rest arrive whole in content_block_start

"""``POST /bedrock/model/{modelId}/invoke`` and ``/invoke-with-response-stream``: Anthropic Messages
bodies (Claude Code in Bedrock mode, the Anthropic SDKs' ``AnthropicBedrock``, boto3 ``invoke_model``)
answered by any LiteLLM model through LiteLLM's Anthropic-format ``/v1/messages``.

The caller's own key (a JWT's user: the key the gateway manages for them) goes to LiteLLM, so budgets,
limits and spend are the caller's. No chat history: Anthropic clients send the whole conversation.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gateway.anthropic.guardrails import (
    ACTION_KEY,
    BODY_CONFIG_KEY,
    TRACE_KEY,
    blocked_message,
    invoke_guardrail_request,
    passthrough_intervention,
    verdict_fields,
)
from gateway.anthropic.request import MessagesCall, invoke_to_messages
from gateway.anthropic.stream import InvokeStreamEncoder, exception_frame, message_events
from gateway.bedrock_ids import invalid_model_id, resolve_model_id
from gateway.chat.service import litellm_headers
from gateway.chat.sse import parse_chunk, sse_data
from gateway.converse.eventstream import CONTENT_TYPE
from gateway.converse.guardrails import GuardrailIntervened, ResolvedGuardrails
from gateway.errors import ErrorKind, GatewayError, upstream_error
from gateway.jsonbytes import json_bytes
from gateway.upstream import stream_lines
from gateway.web.requests import principal_of, read_json_object, upstream_authorization
from gateway.web.responses import JSONBody

MESSAGES_PATH = "/v1/messages"
#: How LiteLLM refuses a model name it does not serve (Bedrock answers its own message for that).
_UNKNOWN_MODEL = b"Invalid model name passed in model="


@dataclass(frozen=True)
class _Invocation:
    """A checked invoke request: the LiteLLM call, the caller's credential and the guardrails it asked for."""

    model: str
    call: MessagesCall
    authorization: str
    guardrails: ResolvedGuardrails | None


async def _prepare(request: Request, *, stream: bool) -> _Invocation:
    gw = request.app.state.gw
    body = await read_json_object(request)
    guardrail = invoke_guardrail_request(request.headers, body.pop(BODY_CONFIG_KEY, None), stream=stream)
    model = resolve_model_id(request.path_params["model_id"], gw.settings)
    call = invoke_to_messages(model, body, stream=stream, beta_header=request.headers.get("anthropic-beta"))
    authorization = await upstream_authorization(request, principal_of(request))
    resolved = await gw.guardrails.resolve(guardrail, authorization) if guardrail else None
    if resolved is not None:
        resolved.apply_to(call.body)
    return _Invocation(model, call, authorization, resolved)


async def _send(request: Request, invocation: _Invocation, *, stream: bool) -> httpx.Response:
    """Open LiteLLM's answer (errors before the first byte raise here); a guardrail the request asked
    for that LiteLLM did not report applying withholds the answer."""
    call = invocation.call
    headers = {"authorization": invocation.authorization, "content-type": "application/json", **call.headers()}
    content = json_bytes({**call.body, "stream": stream})
    upstream = await request.app.state.gw.upstream.send(
        "POST", MESSAGES_PATH, headers=headers, content=content, stream=stream
    )
    if upstream.status_code >= 300:
        content = await upstream.aread()
        await upstream.aclose()
        if upstream.status_code == 400 and _UNKNOWN_MODEL in content:
            raise invalid_model_id(invocation.model)
        raise upstream_error(upstream.status_code, content)
    if invocation.guardrails is not None:
        try:
            if not stream:  # a passthrough guardrail's block (such guardrails never stream: whole_answer_first)
                passthrough = passthrough_intervention(
                    invocation.guardrails, upstream.headers, _message(upstream.content)
                )
                if passthrough is not None:
                    raise GuardrailIntervened(passthrough)
            invocation.guardrails.check_applied(upstream.headers)
        except GatewayError:
            await upstream.aclose()
            raise
    return upstream


def _blocked(invocation: _Invocation, error: GatewayError) -> dict:
    """Bedrock's answer to a request one of its guardrails blocked; other errors propagate."""
    blocked = invocation.guardrails.intervention(error) if invocation.guardrails else None
    if blocked is None:
        raise error
    return blocked_message(invocation.guardrails, blocked, invocation.model)


def _verdict(invocation: _Invocation) -> dict:
    return verdict_fields(invocation.guardrails) if invocation.guardrails else {}


async def invoke(request: Request) -> Response:
    started = time.monotonic()
    invocation = await _prepare(request, stream=False)
    try:
        upstream = await _send(request, invocation, stream=False)
    except GatewayError as exc:
        return JSONBody(_blocked(invocation, exc), headers=_invoke_headers({}, {}, started))
    message = {**_message(upstream.content), **_verdict(invocation)}
    usage = message.get("usage") if isinstance(message.get("usage"), dict) else {}
    return JSONBody(message, headers=_invoke_headers(litellm_headers(upstream.headers), usage, started))


def _invoke_headers(relayed: dict[str, str], usage: dict, started: float) -> dict[str, str]:
    return {
        **relayed,
        "x-amzn-bedrock-input-token-count": str(usage.get("input_tokens", 0)),
        "x-amzn-bedrock-output-token-count": str(usage.get("output_tokens", 0)),
        "x-amzn-bedrock-invocation-latency": str(int((time.monotonic() - started) * 1000)),
    }


async def invoke_stream(request: Request) -> Response:
    started = time.monotonic()
    invocation = await _prepare(request, stream=True)
    guardrails = invocation.guardrails
    try:
        if guardrails is not None and guardrails.whole_answer_first:
            # LiteLLM cuts off a stream whose answer a guardrail blocks: check the whole answer, then stream it
            upstream = await _send(request, invocation, stream=False)
            message = _message(upstream.content)
            encoder = InvokeStreamEncoder(started, _verdict(invocation))
            return _event_response(_whole(message, encoder), litellm_headers(upstream.headers))
        upstream = await _send(request, invocation, stream=True)
    except GatewayError as exc:
        message = _blocked(invocation, exc)
        verdict = {k: message.pop(k) for k in (ACTION_KEY, TRACE_KEY) if k in message}
        return _event_response(_whole(message, InvokeStreamEncoder(started, verdict)), {})
    encoder = InvokeStreamEncoder(started, _verdict(invocation))
    return _event_response(_frames(upstream, encoder), litellm_headers(upstream.headers))


def _event_response(frames: AsyncIterator[bytes], headers: dict[str, str]) -> StreamingResponse:
    headers = {**headers, "x-amzn-bedrock-content-type": "application/json"}
    return StreamingResponse(frames, media_type=CONTENT_TYPE, headers=headers)


async def _whole(message: dict, encoder: InvokeStreamEncoder) -> AsyncIterator[bytes]:
    """A complete message as one burst of stream frames."""
    yield b"".join(encoder.feed(event) for event in message_events(message))


async def _frames(upstream: httpx.Response, encoder: InvokeStreamEncoder) -> AsyncIterator[bytes]:
    """One frame per upstream event, as it arrives; a failure ends the stream with an exception frame."""
    try:
        if upstream.headers.get("content-type", "").startswith("text/event-stream"):
            async for data in sse_data(stream_lines(upstream)):
                event = parse_chunk(data)
                if event is not None and isinstance(event.get("type"), str):
                    yield encoder.feed(event)
                    if encoder.failed:
                        return
        else:  # LiteLLM answers a mock model's stream request with the whole message
            events = message_events(_message(await upstream.aread()))
            yield b"".join(encoder.feed(event) for event in events)
        if not (encoder.stopped or encoder.failed):
            raise GatewayError(ErrorKind.MODEL_ERROR, "the model stream ended before message_stop")
    except GatewayError as exc:
        yield exception_frame(exc)
    finally:
        await upstream.aclose()


def _message(content: bytes) -> dict:
    try:
        message = parse_chunk(content.decode())
    except UnicodeDecodeError:
        message = None
    if message is None or message.get("type") != "message":
        raise GatewayError(ErrorKind.MODEL_ERROR, "the model returned an answer the gateway cannot read")
    return message

"""``POST /bedrock/model/{modelId}/invoke`` and ``/invoke-with-response-stream``: Anthropic Messages
bodies (Claude Code in Bedrock mode, the Anthropic SDKs' ``AnthropicBedrock``, boto3 ``invoke_model``)
answered by any LiteLLM model through LiteLLM's Anthropic-format ``/v1/messages``.

The caller's own key (a JWT's user: the key the gateway manages for them) goes to LiteLLM, so budgets,
limits and spend are the caller's. No chat history: Anthropic clients send the whole conversation.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gateway.anthropic.request import invoke_to_messages
from gateway.anthropic.stream import InvokeStreamEncoder, exception_frame, message_events
from gateway.bedrock_ids import invalid_model_id, resolve_model_id
from gateway.chat.service import litellm_headers
from gateway.chat.sse import parse_chunk, sse_data
from gateway.converse.eventstream import CONTENT_TYPE
from gateway.errors import ErrorKind, GatewayError, upstream_error
from gateway.jsonbytes import json_bytes
from gateway.web.requests import principal_of, read_json_object, upstream_authorization
from gateway.web.responses import JSONBody

MESSAGES_PATH = "/v1/messages"
#: How LiteLLM refuses a model name it does not serve (Bedrock answers its own message for that).
_UNKNOWN_MODEL = b"Invalid model name passed in model="


async def _call(request: Request, *, stream: bool) -> httpx.Response:
    """Check the body, then open LiteLLM's answer (errors before the first byte raise here)."""
    gw = request.app.state.gw
    body = await read_json_object(request)
    model = resolve_model_id(request.path_params["model_id"], gw.settings)
    call = invoke_to_messages(model, body, stream=stream, beta_header=request.headers.get("anthropic-beta"))
    headers = {
        "authorization": await upstream_authorization(request, principal_of(request)),
        "content-type": "application/json",
        **call.headers(),
    }
    content = json_bytes(call.body)
    upstream = await gw.upstream.send("POST", MESSAGES_PATH, headers=headers, content=content, stream=stream)
    if upstream.status_code >= 300:
        content = await upstream.aread()
        await upstream.aclose()
        if upstream.status_code == 400 and _UNKNOWN_MODEL in content:
            raise invalid_model_id(model)
        raise upstream_error(upstream.status_code, content)
    return upstream


async def invoke(request: Request) -> Response:
    started = time.monotonic()
    upstream = await _call(request, stream=False)
    message = _message(upstream.content)
    usage = message.get("usage") if isinstance(message.get("usage"), dict) else {}
    headers = {
        **litellm_headers(upstream.headers),
        "x-amzn-bedrock-input-token-count": str(usage.get("input_tokens", 0)),
        "x-amzn-bedrock-output-token-count": str(usage.get("output_tokens", 0)),
        "x-amzn-bedrock-invocation-latency": str(int((time.monotonic() - started) * 1000)),
    }
    return JSONBody(message, headers=headers)


async def invoke_stream(request: Request) -> Response:
    encoder = InvokeStreamEncoder()
    upstream = await _call(request, stream=True)
    headers = {**litellm_headers(upstream.headers), "x-amzn-bedrock-content-type": "application/json"}
    return StreamingResponse(_frames(upstream, encoder), media_type=CONTENT_TYPE, headers=headers)


async def _frames(upstream: httpx.Response, encoder: InvokeStreamEncoder) -> AsyncIterator[bytes]:
    """One frame per upstream event, as it arrives; a failure ends the stream with an exception frame."""
    try:
        if upstream.headers.get("content-type", "").startswith("text/event-stream"):
            async for data in sse_data(_lines(upstream)):
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


async def _lines(response: httpx.Response) -> AsyncIterator[str]:
    try:
        async for line in response.aiter_lines():
            yield line
    except httpx.TimeoutException:
        raise GatewayError(ErrorKind.TIMEOUT, "the model stream stalled") from None
    except httpx.HTTPError:
        raise GatewayError(ErrorKind.UPSTREAM_UNREACHABLE, "the model stream broke off") from None

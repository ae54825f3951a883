"""``POST /bedrock/model/{modelId}/converse`` and ``/converse-stream``: Bedrock Converse in and out.

boto3 URL-encodes ``modelId`` (a prompt ARN holds ``:`` and ``/``); the server decodes the path,
so the route takes everything between ``/model/`` and the last segment. The session id of the
turn travels in the ``x-session-id`` response header.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gateway.chat.service import ChatRequest, ChatStream, history_headers, session_id_field
from gateway.converse.eventstream import CONTENT_TYPE, encode_event, encode_gateway_error
from gateway.converse.extras import ResponseExtras
from gateway.converse.stream import ConverseStreamTranslator
from gateway.converse.translate import converse_request_to_openai, openai_response_to_converse
from gateway.errors import GatewayError
from gateway.web.requests import principal_of, read_json_object, upstream_authorization
from gateway.web.responses import JSONBody

SESSION_HEADER = "x-session-id"


async def _prepare(request: Request):
    gw = request.app.state.gw
    principal = principal_of(request)
    body = await read_json_object(request)
    call = converse_request_to_openai(request.path_params["model_id"], body)
    chat_request = ChatRequest(
        body=call.openai_body,
        session_id=session_id_field(call.session_id, "additionalModelRequestFields.session_id"),
        prompt_variables=call.prompt_variables,
    )
    turn = await gw.chat.prepare(principal, chat_request)
    return gw, turn, call.extras, await upstream_authorization(request, principal)


async def converse(request: Request) -> Response:
    gw, turn, extras, authorization = await _prepare(request)
    data, litellm_headers = await gw.chat.complete(turn, authorization)
    headers = {**litellm_headers, **history_headers(turn, SESSION_HEADER)}  # x-litellm-* (cost, model) as on OpenAI
    return JSONBody(openai_response_to_converse(data, turn.latency_ms(), extras), headers=headers)


async def converse_stream(request: Request) -> Response:
    gw, turn, extras, authorization = await _prepare(request)
    stream = await gw.chat.stream(turn, authorization, include_usage=True)
    headers = {**stream.headers, **history_headers(turn, SESSION_HEADER)}
    return StreamingResponse(_frames(stream, extras), media_type=CONTENT_TYPE, headers=headers)


async def _frames(stream: ChatStream, extras: ResponseExtras) -> AsyncIterator[bytes]:
    """Translate upstream chunks to event-stream frames as they arrive; errors become exception frames."""
    translator = ConverseStreamTranslator(extras)
    try:
        async for _, chunk in stream.events():
            if chunk is None:
                continue
            events = translator.feed(chunk)
            if events:
                yield b"".join(encode_event(name, payload) for name, payload in events)
        yield b"".join(encode_event(name, payload) for name, payload in translator.finish(stream.turn.latency_ms()))
    except GatewayError as exc:
        yield encode_gateway_error(exc)

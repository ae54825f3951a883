"""``POST /v1/chat/completions`` and ``/chat/completions``: OpenAI in, OpenAI out, via LiteLLM.

Gateway fields ride in the body (the OpenAI SDK's ``extra_body``): ``session_id`` continues a
stored conversation; the answer carries the session's id (sync: top-level ``session_id``;
stream: on the first chunk).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gateway.chat.message_shape import check_messages
from gateway.chat.service import ChatRequest, ChatStream, history_headers, session_id_field
from gateway.chat.sse import DONE
from gateway.errors import GatewayError
from gateway.jsonbytes import json_bytes
from gateway.web.requests import principal_of, read_json_object, upstream_authorization
from gateway.web.responses import JSONBody


async def chat_completions(request: Request) -> Response:
    gw = request.app.state.gw
    principal = principal_of(request)
    body = await read_json_object(request)
    check_messages(body.get("messages"))  # LiteLLM answers some malformed messages with a 500
    chat_request = ChatRequest(
        body=body,
        session_id=session_id_field(body.pop("session_id", None), "session_id"),
        prompt_variables=body.pop("promptVariables", None),
    )
    turn = await gw.chat.prepare(principal, chat_request)
    authorization = await upstream_authorization(request, principal)
    if body.get("stream") is not True:
        data, headers = await gw.chat.complete(turn, authorization)
        if turn.session_id:
            data["session_id"] = turn.session_id
        return JSONBody(data, headers={**headers, **history_headers(turn)})
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    stream = await gw.chat.stream(turn, authorization, include_usage=include_usage)
    headers = {**stream.headers, **history_headers(turn)}
    return StreamingResponse(_sse(stream), media_type="text/event-stream", headers=headers)


async def _sse(stream: ChatStream) -> AsyncIterator[bytes]:
    """Relay upstream events as they arrive; only the first chunk is rewritten (to add session_id)."""
    first = True
    try:
        async for data, chunk in stream.events():
            if first and chunk is not None and stream.turn.session_id:
                chunk["session_id"] = stream.turn.session_id
                data = json_bytes(chunk).decode()
                first = False
            yield f"data: {data}\n\n".encode() if data != DONE else b"data: [DONE]\n\n"
    except GatewayError as exc:
        yield b"data: " + json_bytes(exc.openai_body()) + b"\n\n"

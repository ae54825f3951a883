"""``POST /v1/chat/completions`` and ``/chat/completions``: OpenAI in, OpenAI out, via LiteLLM."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response

from gateway.upstream import forwardable_headers
from gateway.web.proxy import relay_response
from gateway.web.requests import read_json_object

CHAT_PATH = "/v1/chat/completions"


async def chat_completions(request: Request) -> Response:
    gw = request.app.state.gw
    body = await read_json_object(request)
    stream = body.get("stream") is True
    upstream = await gw.upstream.send(
        "POST",
        CHAT_PATH,
        headers=forwardable_headers(request.headers.items(), drop=("accept-encoding",)),
        content=json.dumps(body, separators=(",", ":")).encode(),
        stream=True,
    )
    del stream  # LiteLLM answers SSE or JSON by itself; both are relayed as they arrive
    return relay_response(upstream)

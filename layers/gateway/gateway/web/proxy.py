"""Every path the gateway does not serve itself goes to LiteLLM unchanged, streamed both ways."""

from __future__ import annotations

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gateway.upstream import forwardable_headers


def relay_response(upstream: httpx.Response) -> StreamingResponse:
    """Stream an upstream response back byte for byte (status, headers, body as it arrives)."""
    response = StreamingResponse(
        upstream.aiter_raw(), status_code=upstream.status_code, background=BackgroundTask(upstream.aclose)
    )
    # replace Starlette's defaults with LiteLLM's own headers, keeping repeated ones (set-cookie)
    response.raw_headers = [
        (k.encode("latin-1"), v.encode("latin-1")) for k, v in forwardable_headers(upstream.headers.multi_items())
    ]
    if "content-length" in upstream.headers and "content-encoding" not in upstream.headers:
        response.raw_headers.append((b"content-length", upstream.headers["content-length"].encode()))
    return response


async def proxy_to_litellm(request: Request) -> Response:
    gw = request.app.state.gw
    has_body = request.method not in ("GET", "HEAD", "OPTIONS", "DELETE") or "content-length" in request.headers
    upstream = await gw.upstream.send(
        request.method,
        request.url.path,
        params=request.url.query,
        headers=forwardable_headers(request.headers.items()),
        content=request.stream() if has_body else None,
        stream=True,
    )
    return relay_response(upstream)

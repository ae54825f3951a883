"""One structured log line per request, with a request id the client also gets back.

The request id is API Gateway's (from the request context the Lambda Web Adapter forwards), else
the caller's ``x-request-id`` (if it looks like an id), else a new one. Logged: method, path (never
the query string, which may carry key hashes; path segments that are keys, as in
``/key/{key}/regenerate``, are masked), status, duration, principal type — never headers, bodies,
keys or tokens. The same timing feeds the per-route latency metric (:mod:`gateway.web.metrics`):
time to first byte for a stream, total latency otherwise.
"""

from __future__ import annotations

import json
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.log import logger
from gateway.web.metrics import RouteMetrics, is_stream

REQUEST_ID_HEADER = b"x-request-id"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_KEY_SEGMENT = re.compile(r"(?<=/)sk-[^/]*")  # LiteLLM keys start with "sk-"


def loggable_path(path: str) -> str:
    """``path`` with every segment that is a key masked (``/key/sk-…/regenerate``)."""
    return _KEY_SEGMENT.sub("sk-…", path)


def request_id_of(headers: list[tuple[bytes, bytes]]) -> str:
    context = given = None
    for name, value in headers:
        if name == b"x-amzn-request-context":
            context = value
        elif name == REQUEST_ID_HEADER:
            given = value.decode("latin-1")
    if context is not None:
        try:
            request_id = json.loads(context).get("requestId")
            if isinstance(request_id, str) and _SAFE_ID.match(request_id):
                return request_id
        except (ValueError, AttributeError):
            pass
    if given and _SAFE_ID.match(given):
        return given
    return uuid.uuid4().hex


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp, metrics: RouteMetrics | None = None) -> None:
        self.app = app
        self.metrics = metrics or RouteMetrics()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_of(scope["headers"])
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        stream = False
        first_byte: float | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status, stream, first_byte
            if message["type"] == "http.response.start":
                status = message["status"]
                stream = is_stream(message.get("headers", []))
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER, request_id.encode())]
            elif message["type"] == "http.response.body" and first_byte is None and message.get("body"):
                first_byte = time.perf_counter()
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            ended = time.perf_counter()
            measured = first_byte if stream and first_byte is not None else ended
            self.metrics.record(scope["path"], stream=stream, milliseconds=(measured - started) * 1000)
            principal = scope["state"].get("principal")
            logger.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": loggable_path(scope["path"]),
                    "status": status,
                    "duration_ms": round((ended - started) * 1000, 2),
                    "principal": principal.type if principal else None,
                },
            )

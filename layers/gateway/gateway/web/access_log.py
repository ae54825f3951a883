"""One structured log line per request, with a request id the client also gets back.

The request id is API Gateway's (from the request context the Lambda Web Adapter forwards), else
the caller's ``x-request-id`` (if it looks like an id), else a new one. Logged: method, path (never
the query string, which may carry key hashes; path segments that are keys, as in
``/key/{key}/regenerate``, are masked), status, duration, principal type — never headers, bodies,
keys or tokens.
"""

from __future__ import annotations

import json
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.log import logger

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
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_of(scope["headers"])
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER, request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            principal = scope["state"].get("principal")
            logger.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": loggable_path(scope["path"]),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "principal": principal.type if principal else None,
                },
            )

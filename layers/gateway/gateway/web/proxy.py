"""Every path the gateway does not serve itself goes to LiteLLM unchanged, streamed both ways; and
LiteLLM's refusals on the account routes rendered as OpenAI errors.

One exception to "unchanged": LiteLLM does not know Okta JWTs, so on LiteLLM's other inference
routes (:data:`JWT_RELAY_PREFIXES`: Anthropic Messages, Responses, embeddings, the model list) a
JWT caller's credential is replaced by the managed key of their LiteLLM user
(``requests.upstream_authorization``), as on the chat routes: the JWT itself never reaches
LiteLLM, LiteLLM's budgets and limits apply to the user and the spend is theirs.
"""

from __future__ import annotations

import json

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gateway.errors import ErrorKind, GatewayError, upstream_error
from gateway.identity.credentials import CREDENTIAL_HEADERS
from gateway.upstream import forwardable_headers
from gateway.web.requests import upstream_authorization

#: LiteLLM's inference routes (and everything below them) on which a JWT acts through the managed key.
JWT_RELAY_PREFIXES = (
    "/v1/messages",
    "/v1/responses",
    "/responses",
    "/v1/embeddings",
    "/embeddings",
    "/v1/models",
    "/models",
)

#: How LiteLLM words a refusal of a feature that needs a LiteLLM Enterprise licence (e.g. regenerate).
_ENTERPRISE_ONLY = "Enterprise feature"


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


def wire_path(request: Request) -> str:
    """The path exactly as the client sent it (still percent-encoded, so ``%2F`` stays inside its segment);
    bytes outside printable ASCII are percent-encoded, as a client should have done."""
    raw: bytes = request.scope.get("raw_path") or request.url.path.encode()
    return "".join(chr(b) if 0x21 <= b <= 0x7E else f"%{b:02X}" for b in raw)


def is_jwt_relay_path(path: str) -> bool:
    """One of :data:`JWT_RELAY_PREFIXES` or below it, without dot segments (which could climb out)."""
    segments = path.split("/")
    if "." in segments or ".." in segments:
        return False
    return any(path == prefix or path.startswith(prefix + "/") for prefix in JWT_RELAY_PREFIXES)


async def relay_headers(request: Request) -> list[tuple[str, str]]:
    """The request's end-to-end headers; a JWT caller's credential swapped for their managed key on
    the inference routes (the JWT is dropped, never forwarded). The admin UI's public requests
    (``ui_access``) have no principal and carry no credential."""
    principal = request.scope.get("state", {}).get("principal")
    if principal is None or principal.type != "jwt" or not is_jwt_relay_path(request.url.path):
        return forwardable_headers(request.headers.items())
    headers = forwardable_headers(request.headers.items(), drop=CREDENTIAL_HEADERS)
    return [*headers, ("authorization", await upstream_authorization(request, principal))]


async def proxy_to_litellm(request: Request) -> Response:
    gw = request.app.state.gw
    has_body = request.method not in ("GET", "HEAD", "OPTIONS", "DELETE") or "content-length" in request.headers
    upstream = await gw.upstream.send(
        request.method,
        wire_path(request),
        params=request.url.query,
        headers=await relay_headers(request),
        content=request.stream() if has_body else None,
        stream=True,
    )
    return relay_response(upstream)


async def openai_errors(relayed: StreamingResponse) -> Response:
    """A relayed answer as it is, except errors, which come back in OpenAI format (LiteLLM answers some
    refusals FastAPI-style, ``{"detail": ...}``)."""
    if relayed.status_code < 400:
        return relayed
    content = b"".join([chunk async for chunk in relayed.body_iterator])
    if relayed.background is not None:
        await relayed.background()
    raise upstream_failure(relayed.status_code, content)


def upstream_failure(status: int, content: bytes) -> GatewayError:
    """LiteLLM's refusal as a gateway error (relayed verbatim when OpenAI-shaped, else rendered so)."""
    error = upstream_error(status, content)
    try:
        detail = json.loads(content).get("detail")
    except (ValueError, UnicodeDecodeError, AttributeError):
        detail = None
    if isinstance(detail, dict) and isinstance(detail.get("error"), str):
        error = GatewayError(error.kind, detail["error"], upstream=error.upstream)
    if status == 500 and _ENTERPRISE_ONLY in error.message:
        # LiteLLM answers 500 to a feature its licence does not include: a refusal, not a failure
        return GatewayError(ErrorKind.FORBIDDEN, error.message)
    return error

"""The one place the middleware talks HTTP to LiteLLM: pooled connections, timeouts, error mapping.

A single ``httpx.AsyncClient`` lives as long as the process (a warm Lambda keeps its keep-alive
connections to the ALB across invocations).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping

import httpx

from gateway.errors import ErrorKind, GatewayError, upstream_error

# RFC 9110 §7.6.1 connection-specific headers, plus what the HTTP stack must compute itself.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)


def forwardable_headers(headers: Iterable[tuple[str, str]], drop: Iterable[str] = ()) -> list[tuple[str, str]]:
    """Headers that may cross the proxy (end-to-end ones), minus ``drop`` (lower-case names)."""
    dropped = _HOP_BY_HOP | {d.lower() for d in drop}
    return [(k, v) for k, v in headers if k.lower() not in dropped]


async def stream_lines(response: httpx.Response) -> AsyncIterator[str]:
    """A streamed upstream body's lines; a connection lost mid-stream becomes a gateway error (which the
    streaming routes turn into an error frame or event)."""
    try:
        async for line in response.aiter_lines():
            yield line
    except httpx.TimeoutException:
        raise GatewayError(ErrorKind.TIMEOUT, "the model stream stalled") from None
    except httpx.HTTPError:
        raise GatewayError(ErrorKind.UPSTREAM_UNREACHABLE, "the model stream broke off") from None


class LiteLLMClient:
    """Async HTTP client for the LiteLLM proxy."""

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 600.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            limits=httpx.Limits(max_connections=512, max_keepalive_connections=64, keepalive_expiry=60),
            transport=transport,
            follow_redirects=False,
            # plain-HTTP upstream (the internal ALB): skip building a TLS context at cold start
            verify=not base_url.startswith("http://"),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | list[tuple[str, str]] | None = None,
        content: bytes | AsyncIterator[bytes] | None = None,
        params: str | Mapping[str, str] | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """Send one request; transport failures become gateway errors (never raw exceptions).

        With ``stream=True`` the caller must close the response (``await response.aclose()``).
        """
        try:
            request = self._client.build_request(method, path, headers=headers, content=content, params=params)
        except httpx.InvalidURL:
            raise GatewayError(ErrorKind.VALIDATION, "the request path or query cannot be relayed") from None
        try:
            return await self._client.send(request, stream=stream)
        except httpx.TimeoutException:
            raise GatewayError(ErrorKind.TIMEOUT, "the model gateway (LiteLLM) did not answer in time") from None
        except httpx.TransportError:
            raise GatewayError(ErrorKind.UPSTREAM_UNREACHABLE, "the model gateway (LiteLLM) is unreachable") from None

    async def json_call(self, method: str, path: str, *, authorization: str, body: bytes | None = None) -> dict:
        """A small JSON request/response call; non-2xx answers raise the mapped ``GatewayError``."""
        headers = {"authorization": authorization, "accept": "application/json"}
        if body is not None:
            headers["content-type"] = "application/json"
        response = await self.send(method, path, headers=headers, content=body)
        if response.status_code >= 300:
            raise upstream_error(response.status_code, response.content)
        try:
            data = response.json()
        except ValueError:
            raise GatewayError(ErrorKind.MODEL_ERROR, "the model gateway returned invalid JSON") from None
        if not isinstance(data, dict):
            raise GatewayError(ErrorKind.MODEL_ERROR, "the model gateway returned an unexpected answer")
        return data

"""LiteLLM's admin UI through the gateway: which requests pass without a credential, and how.

A browser sends no ``Authorization`` header for the UI's pages, assets and login, so exactly those
requests skip the authorizer (``UI_PUBLIC``). LiteLLM's own login protects what lies behind them: the
login answers a session token whose ``key`` (a LiteLLM virtual key of the team ``litellm-dashboard``)
the UI then sends as ``Authorization: Bearer`` on every API call, which the authorizer checks like any
other key (``identity/authenticator.py``). Every other request keeps the authorizer.

Each public entry was read in LiteLLM 1.108.7 (``proxy_server.py``, ``ui_sso.py``, ``proxy_setting_endpoints.py``,
``ui_discovery_endpoints.py``); none needs or returns a secret, and LiteLLM serves them without auth too:

- ``GET|HEAD /ui``, ``/ui/...``: the UI's static export (HTML, RSC ``.txt`` payloads).
- ``GET|HEAD /litellm-asset-prefix/_next/...``: its scripts, styles and fonts.
- ``GET /get_image``, ``/get_favicon``: the logo and favicon (operator-configured; only a ``theme``).
- ``GET /litellm/.well-known/litellm-ui-config``: discovery flags (SSO configured, base URL, UI disabled).
- ``GET /get/ui_theme_settings``, ``/get/ui_settings``: branding and UI feature flags (allow-listed fields).
- ``POST /v2/login``: username/password login (LiteLLM throttles failed attempts).
- ``GET /sso/key/generate``, ``/sso/callback``: the SSO round trip (only when SSO is configured).

Paths are matched on the raw path: one with a percent sign, a backslash, an empty or a dot segment is
never public (``/ui/../key/list`` goes through the authorizer). ``UI_ACCESS=off`` answers 404 to every
method on these paths, before any credential is looked at.

Public requests are relayed without the client's ``Authorization``/``x-api-key``/``api-key`` (a
credential nobody checked is never forwarded), and a ``Location`` that points at LiteLLM's own address
(its ``/ui`` → ``/ui/`` redirect, built from the internal host name it was sent) is turned into a path
on the gateway.

Under a public path prefix (``UI_PATH_PREFIX``, e.g. ``/prod``: API Gateway's stage on the ``execute-api``
URL, which API Gateway strips before the request reaches the gateway) the UI's own absolute paths would miss
the prefix. So the relayed pages, scripts, styles and page data say ``<prefix>/litellm-asset-prefix/…`` and
``<prefix>/litellm/.well-known/litellm-ui-config`` (the two rewrites LiteLLM's own ``SERVER_ROOT_PATH`` does
to its files), the discovery answer says ``server_root_path: <prefix>`` (the UI prepends it to its API calls
and page links), and redirects point below the prefix. LiteLLM itself keeps running at the root.
"""

from __future__ import annotations

import enum
import json
import re

import httpx
from starlette.responses import Response
from starlette.types import Message, Scope, Send

from gateway.errors import ErrorKind, GatewayError
from gateway.identity.credentials import CREDENTIAL_HEADERS
from gateway.web.errors import error_response

_READ = frozenset({"GET", "HEAD"})
_GET = frozenset({"GET"})
#: Exact paths and the methods that pass without a credential.
UI_EXACT: dict[str, frozenset[str]] = {
    "/ui": _READ,
    "/get_image": _GET,
    "/get_favicon": _GET,
    "/litellm/.well-known/litellm-ui-config": _GET,
    "/get/ui_theme_settings": _GET,
    "/get/ui_settings": _GET,
    "/v2/login": frozenset({"POST"}),
    "/sso/key/generate": _GET,
    "/sso/callback": _GET,
}
#: Prefixes (static files) whose paths pass without a credential for ``GET``/``HEAD``.
UI_PREFIXES: tuple[str, ...] = ("/ui/", "/litellm-asset-prefix/_next/")


class UiRequest(enum.Enum):
    NOT_UI = "not-ui"
    UI_PUBLIC = "public"  # relay without a credential
    UI_DISABLED = "disabled"  # UI_ACCESS=off: 404


def _clean(raw_path: str) -> bool:
    """No encoding tricks, no empty, ``.`` or ``..`` segments: the path means what it says."""
    if "%" in raw_path or "\\" in raw_path:
        return False
    segments = raw_path.split("/")[1:]
    inner = segments[:-1]  # a trailing slash (``/ui/``) leaves one empty last segment
    return all(s not in ("", ".", "..") for s in inner) and segments[-1] not in (".", "..")


def _is_ui_path(path: str) -> bool:
    return path in UI_EXACT or path.startswith(UI_PREFIXES)


def classify(method: str, raw_path: str, *, enabled: bool) -> UiRequest:
    """What the gateway does with ``method raw_path`` (raw: as the client sent it, query excluded)."""
    if not _is_ui_path(raw_path):
        return UiRequest.NOT_UI
    if not enabled:
        return UiRequest.UI_DISABLED
    allowed = UI_EXACT.get(raw_path, _READ)  # static files below a prefix: GET and HEAD
    if method in allowed and _clean(raw_path):
        return UiRequest.UI_PUBLIC
    return UiRequest.NOT_UI  # e.g. a POST under /ui/: the authorizer decides, LiteLLM answers


def without_credentials(scope: Scope) -> Scope:
    """``scope`` minus the credential headers (a public request is relayed without them)."""
    headers = [(k, v) for k, v in scope["headers"] if k.decode("latin-1").lower() not in CREDENTIAL_HEADERS]
    return {**scope, "headers": headers}


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port)  # httpx leaves a default port out and lower-cases the host


#: The UI's answers whose text names its own absolute paths (pages, RSC page data, scripts, styles, JSON).
_TEXT_TYPES = ("text/", "application/javascript", "application/json", "application/x-javascript")
#: The absolute paths in the UI's files that must carry the prefix: what ``SERVER_ROOT_PATH`` rewrites (assets,
#: discovery), and the quoted literals it leaves (the favicon links, the optional runtime config). The UI
#: builds every other URL (API calls, page links, logo) from the discovery's ``server_root_path``.
_PREFIXED_PATHS = re.compile(
    rb"/litellm-asset-prefix/|/litellm/\.well-known/litellm-ui-config"
    rb'|(?<=")/get_favicon\b|(?<=")/favicon\.ico\b|(?<=")/ui/litellm-runtime-config\.json'
)
DISCOVERY_PATH = "/litellm/.well-known/litellm-ui-config"


def whole_and_plain(scope: Scope) -> Scope:
    """``scope`` asking LiteLLM for the whole file, uncompressed: its text is rewritten on the way back."""
    headers = [(k, v) for k, v in scope["headers"] if k.lower() not in (b"accept-encoding", b"range", b"if-range")]
    return {**scope, "headers": [*headers, (b"accept-encoding", b"identity")]}


def with_prefix(body: bytes, prefix: str, path: str) -> bytes:
    """The UI's text ``body`` (served at ``path``) as the browser must see it below ``prefix``."""
    if path == DISCOVERY_PATH:
        try:
            config = json.loads(body)
        except ValueError:
            return body
        if not isinstance(config, dict):
            return body
        config["server_root_path"] = prefix  # the UI's API base becomes origin + prefix
        return json.dumps(config).encode()
    return _PREFIXED_PATHS.sub(lambda match: prefix.encode() + match.group(0), body)


def _rewritable(headers: list[tuple[bytes, bytes]]) -> bool:
    values = {k.lower(): v.decode("latin-1").lower() for k, v in headers}
    if values.get(b"content-encoding", "identity") != "identity":
        return False  # identity was asked for (:func:`whole_and_plain`); anything else passes as it came
    return values.get(b"content-type", "").startswith(_TEXT_TYPES)


def relative_locations(
    send: Send, upstream_base_url: str, prefix: str = "", path: str = "", *, head: bool = False
) -> Send:
    """``send`` that turns a ``Location`` on LiteLLM's own origin (it builds redirects from the Host it was
    sent: its internal address) into a path on the gateway, query kept. Below a public ``prefix`` the path
    gets it too, and the text of the UI's file at ``path`` is rewritten (:func:`with_prefix`)."""
    upstream = _origin(httpx.URL(upstream_base_url))

    def relative(value: bytes) -> bytes:
        try:
            location = httpx.URL(value.decode("latin-1"))
        except (httpx.InvalidURL, UnicodeError):
            return value
        if location.is_absolute_url and _origin(location) == upstream:
            return prefix.encode() + location.raw_path
        if prefix and value.startswith(b"/") and not value.startswith(b"//"):
            return prefix.encode() + value  # a path on LiteLLM is a path below the prefix
        return value

    held: list[Message] = []  # a text answer's start and body parts, until its last part

    async def rewrite(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [
                (name, relative(value) if name.lower() == b"location" else value)
                for name, value in message.get("headers", [])
            ]
            message = {**message, "headers": headers}
            if prefix and message["status"] not in (204, 304) and _rewritable(headers):  # 204/304: no body
                held.append(message)
                return
        elif message["type"] == "http.response.body" and held:
            held.append(message)
            if message.get("more_body", False):
                return
            start, *parts = held
            body = with_prefix(b"".join(part.get("body", b"") for part in parts), prefix, path)
            headers = [(k, v) for k, v in start["headers"] if k.lower() not in (b"content-length", b"accept-ranges")]
            if not head:  # a HEAD answer has no body to measure
                headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body, "more_body": False})
            return
        await send(message)

    return rewrite


def ui_disabled(path: str) -> Response:
    """404 for the UI's paths when ``UI_ACCESS=off``, in the route family's error format."""
    return error_response(
        GatewayError(ErrorKind.NOT_FOUND, "the admin UI is turned off on this gateway (UI_ACCESS=off)"), path
    )

"""The admin UI below a path prefix, as on the deployed stack's ``execute-api`` ServiceURL
(``https://<id>.execute-api.<region>.amazonaws.com/prod``): real Chromium, real LiteLLM, real middleware.

API Gateway strips the stage before the request reaches the gateway and answers ``403 Forbidden`` itself to
a path outside the stage. :class:`StageFront` does the same on loopback, in front of a middleware started
with ``UI_PATH_PREFIX=/prod`` (what CDK sets when there is no custom domain), so any absolute path the UI
still loads without the prefix shows up as a refusal here.
"""

from __future__ import annotations

import http.client
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import openai
import pytest

from devstack.processes import free_port
from devstack.stack import LocalStack
from gateway.web.ui_access import UiRequest, classify
from tests.integration.test_admin_ui import CHROMIUM, CHROMIUM_ARGS, _browser_or_skip, create_key_in_the_ui
from tests.support.loopback_server import LoopbackServer

STAGE = "/prod"
#: Hop-by-hop headers a proxy does not copy (RFC 9110 7.6.1).
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


@dataclass
class StageFront:
    """A stand-in for API Gateway's stage on loopback: ``/prod/...`` goes to the gateway as ``/...``;
    anything else is answered ``403 {"message": "Forbidden"}`` and recorded in ``outside``."""

    gateway_port: int
    server: LoopbackServer = field(default_factory=lambda: LoopbackServer("stage-front"))
    outside: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}{STAGE}"

    def start(self) -> None:
        front = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def _relay(self) -> None:
                path = urlsplit(self.path).path
                if path != STAGE and not path.startswith(STAGE + "/"):
                    with front._lock:
                        front.outside.append(f"{self.command} {self.path}")
                    self._answer(403, [("content-type", "application/json")], b'{"message":"Forbidden"}')
                    return
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                connection = http.client.HTTPConnection("127.0.0.1", front.gateway_port, timeout=120)
                try:
                    connection.request(self.command, self.path[len(STAGE) :] or "/", body=body or None, headers=headers)
                    upstream = connection.getresponse()
                    content = upstream.read()
                    kept = [(k, v) for k, v in upstream.getheaders() if k.lower() not in _HOP_BY_HOP]
                    self._answer(upstream.status, kept, content)
                finally:
                    connection.close()

            def _answer(self, status: int, headers: list[tuple[str, str]], content: bytes) -> None:
                length = next((v for k, v in headers if k.lower() == "content-length"), None)
                try:
                    self.send_response(status)
                    for name, value in headers:
                        if name.lower() != "content-length":
                            self.send_header(name, value)
                    # a HEAD answer keeps the length the GET would have
                    self.send_header(
                        "content-length", length if self.command == "HEAD" and length else str(len(content))
                    )
                    self.send_header("connection", "close")
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(content)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the browser went elsewhere (a page navigation aborts its pending loads)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _relay

        self.server.start(Handler)

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture(scope="module")
def staged(stack: LocalStack) -> Iterator[StageFront]:
    """A middleware with ``UI_PATH_PREFIX=/prod`` behind the stage front."""
    port = stack.start_middleware("middleware-ui-prefix", free_port(), env_overrides={"UI_PATH_PREFIX": STAGE})
    front = StageFront(int(urlsplit(port).port or 0))
    front.start()
    try:
        yield front
    finally:
        front.stop()


def _refused(status: int, path: str, authorized: bool) -> bool:
    """A response the UI should not get: any error on its session's API calls, or on the UI's own public
    files and endpoints (``ui_access``), except the runtime config LiteLLM itself does not have (404)."""
    if status < 400:
        return False
    if authorized:
        return True
    inner = path.removeprefix(STAGE)
    return classify("GET", inner, enabled=True) is UiRequest.UI_PUBLIC and inner != "/ui/litellm-runtime-config.json"


def test_browser_uses_the_ui_below_the_stage_prefix(staged: StageFront, master_key: str, tmp_path: Path) -> None:
    sync_playwright = _browser_or_skip()
    alias = f"ui-prefix-{secrets.token_hex(4)}"
    refused: list[str] = []
    loaded: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})

            def check(response) -> None:
                path = urlsplit(response.url).path
                loaded.append(path)
                if _refused(response.status, path, bool(response.request.headers.get("authorization"))):
                    refused.append(f"{response.status} {response.request.method} {path}")

            page.on("response", check)
            key = create_key_in_the_ui(page, staged.url, master_key, alias, tmp_path / "admin-ui-prefix-keys.png")
            at = urlsplit(page.url).path
        finally:
            browser.close()

    assert staged.outside == []  # nothing the UI loaded or called missed the stage (API Gateway: 403)
    assert refused == []
    assert at.startswith(f"{STAGE}/ui/")
    assert f"{STAGE}/key/list" in loaded  # the UI's API calls went below the stage too
    assert any(path.startswith(f"{STAGE}/litellm-asset-prefix/_next/static/chunks/") for path in loaded)
    assert (tmp_path / "admin-ui-prefix-keys.png").stat().st_size > 0
    client = openai.OpenAI(base_url=f"{staged.url}/v1", api_key=key, max_retries=0)
    reply = client.chat.completions.create(model="mock-gpt", messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content == "Hello from the mock."


def test_redirect_and_discovery_below_the_prefix(staged: StageFront) -> None:
    redirect = httpx.get(f"{staged.url}/ui", timeout=30)
    assert redirect.status_code in (301, 302, 307, 308)
    assert redirect.headers["location"] == f"{STAGE}/ui/"
    config = httpx.get(f"{staged.url}/litellm/.well-known/litellm-ui-config", timeout=30).json()
    assert config["server_root_path"] == STAGE  # the UI's API base: the page's origin + the stage


def test_files_name_the_prefix_and_binary_files_pass_intact(stack: LocalStack, staged: StageFront) -> None:
    page = httpx.get(f"{staged.url}/ui/", headers={"Accept-Encoding": "gzip"}, timeout=30)
    assert page.status_code == 200
    assert "content-encoding" not in page.headers  # asked for gzip; the gateway asked LiteLLM for identity
    html = page.text
    assert f"{STAGE}/litellm-asset-prefix/_next/" in html
    assert html.count("/litellm-asset-prefix/") == html.count(f"{STAGE}/litellm-asset-prefix/")
    scripts = [part.split('"')[0] for part in html.split('src="')[1:] if part.split('"')[0].endswith(".js")]
    runtime = [httpx.get(f"http://127.0.0.1:{staged.server.port}{src}", timeout=30).text for src in scripts]
    assert any(f'"{STAGE}/litellm-asset-prefix/_next/"' in text for text in runtime)  # where chunks load from
    assert not any('"/litellm-asset-prefix/' in text for text in runtime)
    font = next(part.split('"')[0] for part in html.split('href="')[1:] if part.split('"')[0].endswith(".woff2"))
    through = httpx.get(f"http://127.0.0.1:{staged.server.port}{font}", timeout=30)
    direct = httpx.get(f"{stack.litellm_url}{font.removeprefix(STAGE)}", timeout=30)
    assert through.status_code == direct.status_code == 200
    assert through.content == direct.content and len(through.content) > 100
    head = httpx.head(f"{staged.url}/ui/", timeout=30)
    assert head.status_code == 200 and head.content == b""

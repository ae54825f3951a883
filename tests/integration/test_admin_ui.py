"""LiteLLM's admin UI through the gateway, in a real headless Chromium against the real local stack.

The browser is Debian's ``chromium`` (``make browser-deps``; browser downloads do not work here)
driven by Playwright. Without it the browser test skips, except as root (CI, ``make test``), where
``make browser-deps`` must have installed it.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import jwt
import openai
import pytest

from devstack.processes import free_port
from devstack.stack import LocalStack

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
]


def _browser_or_skip():
    """Playwright's sync API, or a skip saying what is missing (a failure as root: CI must run it)."""
    missing = []
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing.append("the playwright package (requirements-dev.txt)")
        sync_playwright = None
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (Debian package chromium: make browser-deps)")
    if missing:
        reason = "admin UI browser test needs " + " and ".join(missing)
        if os.geteuid() == 0:
            pytest.fail(reason + "; as root `make browser-deps` installs it")
        pytest.skip(reason)
    return sync_playwright


def _ui_login(gateway_url: str, master_key: str) -> dict:
    """LiteLLM's own login, through the gateway, without any credential header; its JSON answer."""
    response = httpx.post(f"{gateway_url}/v2/login", json={"username": "admin", "password": master_key}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def _session_key(login: dict) -> str:
    """The virtual key the UI sends as its bearer: the ``key`` claim of the session token (read, not verified)."""
    return jwt.decode(login["token"], options={"verify_signature": False})["key"]


def _raw_get(url: str, raw_path: str, headers: dict[str, str] | None = None) -> int:
    """Status of a GET sent with ``raw_path`` exactly (http clients would normalise ``..`` away)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("GET", raw_path, headers=headers or {})
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.fixture(scope="module")
def ui_off_gateway(stack: LocalStack) -> Iterator[str]:
    """A second middleware on the same LiteLLM with ``UI_ACCESS=off``."""
    yield stack.start_middleware("middleware-ui-off", free_port(), env_overrides={"UI_ACCESS": "off"})


def create_key_in_the_ui(page, ui_url: str, master_key: str, alias: str, screenshot: Path) -> str:
    """In the UI at ``ui_url``: log in with the master key, create a key named ``alias`` (a screenshot of the
    key list goes to ``screenshot``), open the Usage page (its spend call answers 200); the key shown."""
    page.goto(f"{ui_url}/ui")
    page.wait_for_selector("input[type=password]", timeout=60_000)
    page.locator("input").first.fill("admin")
    page.locator("input[type=password]").fill(master_key)
    page.keyboard.press("Enter")
    page.get_by_text("Virtual Keys").first.click(timeout=60_000)
    page.get_by_role("button", name="Create New Key").click(timeout=60_000)
    page.locator("#key_alias").fill(alias)
    page.get_by_role("button", name="Create Key").click()
    shown = page.get_by_text("Virtual Key:").locator("xpath=following::*[starts-with(normalize-space(.), 'sk-')][1]")
    shown.wait_for(timeout=60_000)
    key = shown.inner_text().strip()
    page.get_by_role("button", name="Close").last.click()
    page.get_by_text(alias).first.wait_for(timeout=60_000)  # the list shows the new key
    page.screenshot(path=str(screenshot), full_page=True)
    with page.expect_response(lambda r: "/daily/activity" in r.url, timeout=60_000) as spend:
        page.get_by_text("Usage").first.click()
    assert spend.value.status == 200  # spend, as the UI's Usage page reads it
    page.wait_for_load_state("networkidle", timeout=60_000)
    return key


def test_browser_logs_in_creates_a_key_and_the_key_answers(gateway_url: str, master_key: str, tmp_path: Path) -> None:
    sync_playwright = _browser_or_skip()
    alias = f"ui-browser-{secrets.token_hex(4)}"
    # UI API calls that carried the UI's session key and were refused (calls it makes before the login, such
    # as /telemetry/ui_events/enabled, are refused by LiteLLM itself too)
    refused: list[str] = []
    authorized_calls: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})

            def check(response) -> None:
                if not response.request.headers.get("authorization"):
                    return
                authorized_calls.append(urlsplit(response.url).path)
                if response.status in (401, 403):
                    refused.append(f"{response.status} {response.request.method} {urlsplit(response.url).path}")

            page.on("response", check)
            key = create_key_in_the_ui(page, gateway_url, master_key, alias, tmp_path / "admin-ui-keys.png")
            page.screenshot(path=str(tmp_path / "admin-ui-usage.png"))
        finally:
            browser.close()

    assert (tmp_path / "admin-ui-keys.png").stat().st_size > 0
    assert "/key/list" in authorized_calls  # the UI's own calls carry its session key ...
    assert refused == []  # ... and the gateway accepts it
    assert key.startswith("sk-") and key != master_key
    client = openai.OpenAI(base_url=f"{gateway_url}/v1", api_key=key, max_retries=0)
    reply = client.chat.completions.create(model="mock-gpt", messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content == "Hello from the mock."
    info = httpx.get(
        f"{gateway_url}/key/info",
        params={"key": hashlib.sha256(key.encode()).hexdigest()},
        headers={"Authorization": f"Bearer {master_key}"},
        timeout=30,
    )
    assert info.json()["info"]["key_alias"] == alias


def test_ui_session_key_from_the_login_reaches_the_api(gateway_url: str, master_key: str) -> None:
    login = _ui_login(gateway_url, master_key)
    session_key = _session_key(login)
    listed = httpx.get(f"{gateway_url}/key/list", headers={"Authorization": f"Bearer {session_key}"}, timeout=30)
    assert listed.status_code == 200, listed.text
    spend = httpx.get(f"{gateway_url}/v2/user/info", headers={"Authorization": f"Bearer {session_key}"}, timeout=30)
    assert spend.status_code == 200 and spend.json()["user_role"] == "proxy_admin"


def test_wrong_master_key_login_is_refused(gateway_url: str) -> None:
    response = httpx.post(f"{gateway_url}/v2/login", json={"username": "admin", "password": "sk-wrong"}, timeout=30)
    assert response.status_code in (400, 401)
    assert "token" not in response.text


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_forged_ui_tokens_are_refused(gateway_url: str, master_key: str) -> None:
    genuine = jwt.decode(_ui_login(gateway_url, master_key)["token"], options={"verify_signature": False})
    forged_claims = {**genuine, "key": "sk-" + secrets.token_urlsafe(16), "exp": int(time.time()) + 3600}
    forgeries = {
        "made-up session key": forged_claims["key"],
        "session token signed with another secret": jwt.encode(
            forged_claims, "not-the-master-key-" + secrets.token_hex(16), algorithm="HS256"
        ),
        "genuine claims, no signature": ".".join(
            base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
            for part in ({"alg": "none", "typ": "JWT"}, genuine)
        )
        + ".",
        "expired session token": jwt.encode({**genuine, "exp": int(time.time()) - 60}, master_key, algorithm="HS256"),
    }
    for name, token in forgeries.items():
        response = httpx.get(f"{gateway_url}/key/list", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert response.status_code == 401, name
        assert response.json()["error"]["type"] == "authentication_error", name


def test_deleted_ui_session_key_is_refused(gateway_url: str, master_key: str) -> None:
    session_key = _session_key(_ui_login(gateway_url, master_key))
    deleted = httpx.post(
        f"{gateway_url}/key/delete",
        json={"keys": [session_key]},
        headers={"Authorization": f"Bearer {master_key}"},
        timeout=30,
    )
    assert deleted.status_code == 200, deleted.text
    response = httpx.get(f"{gateway_url}/key/list", headers={"Authorization": f"Bearer {session_key}"}, timeout=30)
    assert response.status_code == 401


def test_only_the_ui_passes_without_a_credential(gateway_url: str) -> None:
    assert httpx.get(f"{gateway_url}/ui/", timeout=30).status_code == 200
    assert httpx.get(f"{gateway_url}/litellm/.well-known/litellm-ui-config", timeout=30).status_code == 200
    for path in ("/key/list", "/v2/user/info", "/models", "/sso/get/ui_settings", "/config/yaml"):
        assert httpx.get(f"{gateway_url}{path}", timeout=30).status_code == 401, path
    # dot segments and encodings under /ui/ do not escape to other routes
    for raw in (
        "/ui/../key/list",
        "/ui/%2e%2e/key/list",
        "/ui/..%2fkey/list",
        "/litellm-asset-prefix/_next/../../key/list",
    ):
        assert _raw_get(gateway_url, raw) == 401, raw
    # a method the UI does not use under /ui/ goes through the authorizer
    assert httpx.post(f"{gateway_url}/ui/", timeout=30).status_code == 401


def test_ui_redirect_stays_on_the_gateway(gateway_url: str) -> None:
    response = httpx.get(f"{gateway_url}/ui", timeout=30)
    assert response.status_code in (301, 302, 307, 308)
    assert response.headers["location"] == "/ui/"


def test_binary_assets_come_through_intact(stack: LocalStack, gateway_url: str) -> None:
    html = httpx.get(f"{gateway_url}/ui/", timeout=30).text
    font = next(
        part.split('"')[0] for part in html.split('href="')[1:] if part.split('"')[0].endswith((".woff2", ".woff"))
    )
    for path in ("/get_image", "/get_favicon", font):
        through = httpx.get(f"{gateway_url}{path}", timeout=30)
        direct = httpx.get(f"{stack.litellm_url}{path}", timeout=30)
        assert through.status_code == direct.status_code == 200, path
        assert through.content == direct.content and len(through.content) > 100, path


def test_ui_access_off_serves_no_ui(ui_off_gateway: str, master_key: str) -> None:
    admin = {"Authorization": f"Bearer {master_key}"}
    for method, path in (("GET", "/ui"), ("GET", "/ui/"), ("GET", "/ui/login/"), ("POST", "/v2/login"),
                         ("GET", "/litellm/.well-known/litellm-ui-config"), ("GET", "/sso/key/generate")):  # fmt: skip
        for headers in ({}, admin):
            response = httpx.request(method, f"{ui_off_gateway}{path}", headers=headers, timeout=30)
            assert response.status_code == 404, (method, path, headers != {})
    assert httpx.get(f"{ui_off_gateway}/v1/models", headers=admin, timeout=30).status_code == 200

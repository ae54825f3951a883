"""Which requests reach LiteLLM's admin UI without a credential, and the redirects it answers."""

from __future__ import annotations

import asyncio

import pytest

from gateway.settings import Settings, SettingsError
from gateway.web.ui_access import UiRequest, classify, relative_locations, without_credentials


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/ui"),
        ("GET", "/ui/"),
        ("HEAD", "/ui/home/"),
        ("GET", "/ui/login/__next._tree.txt"),
        ("GET", "/litellm-asset-prefix/_next/static/chunks/0a-rekt06v0sv.js"),
        ("GET", "/get_image"),
        ("GET", "/litellm/.well-known/litellm-ui-config"),
        ("POST", "/v2/login"),
        ("GET", "/sso/callback"),
    ],
)
def test_the_ui_passes_without_a_credential(method: str, path: str) -> None:
    assert classify(method, path, enabled=True) is UiRequest.UI_PUBLIC
    assert classify(method, path, enabled=False) is UiRequest.UI_DISABLED


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/key/list"),
        ("GET", "/v2/user/info"),
        ("GET", "/sso/get/ui_settings"),
        ("GET", "/config/yaml"),  # public in LiteLLM, not a UI need
        ("GET", "/v2/login"),  # the login is a POST
        ("POST", "/ui/"),  # the UI only reads its files
        ("DELETE", "/get_image"),
        ("GET", "/ui/../key/list"),
        ("GET", "/ui/%2e%2e/key/list"),
        ("GET", "/ui//key/list"),
        ("GET", "/ui/./x"),
        ("GET", "/ui/..\\key"),
        ("GET", "/litellm-asset-prefix/_next/.."),
        ("GET", "/uix"),
        ("GET", "/litellm-asset-prefix/other.js"),
    ],
)
def test_everything_else_keeps_the_authorizer(method: str, path: str) -> None:
    assert classify(method, path, enabled=True) is UiRequest.NOT_UI


def test_credentials_are_not_relayed_on_public_requests() -> None:
    headers = [(b"authorization", b"Bearer sk-x"), (b"X-Api-Key", b"sk-y"), (b"api-key", b"sk-z"), (b"cookie", b"t=1")]
    assert without_credentials({"headers": headers})["headers"] == [(b"cookie", b"t=1")]


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        (b"http://internal-alb.example:80/ui/", b"/ui/"),
        (b"http://INTERNAL-ALB.example/ui/login/?redirect_to=x", b"/ui/login/?redirect_to=x"),
        (b"/ui/", b"/ui/"),
        (b"https://internal-alb.example/ui/", b"https://internal-alb.example/ui/"),  # another origin
        (b"https://idp.example/authorize?x=1", b"https://idp.example/authorize?x=1"),  # SSO: left alone
    ],
)
def test_redirects_to_litellms_own_address_become_paths(location: bytes, expected: bytes) -> None:
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    rewrite = relative_locations(send, "http://internal-alb.example")
    start = {"type": "http.response.start", "status": 307, "headers": [(b"location", location), (b"x", b"y")]}
    asyncio.run(rewrite(start))
    assert sent[0]["headers"] == [(b"location", expected), (b"x", b"y")]


def test_ui_access_setting() -> None:
    base = {"LITELLM_MASTER_KEY": "sk-master"}
    assert Settings.from_env(base).ui_access is True
    assert Settings.from_env({**base, "UI_ACCESS": "off"}).ui_access is False
    assert Settings.from_env({**base, "UI_ACCESS": "on"}).ui_access is True
    with pytest.raises(SettingsError, match="UI_ACCESS"):
        Settings.from_env({**base, "UI_ACCESS": "private"})

"""Which requests reach LiteLLM's admin UI without a credential, and the redirects it answers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest
from starlette.types import Send

from gateway.settings import Settings, SettingsError
from gateway.web.ui_access import UiRequest, classify, relative_locations, whole_and_plain, without_credentials


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


def _relay(make: Callable[[Send], Send], messages: list[dict]) -> list[dict]:
    """What reaches the client when LiteLLM's answer ``messages`` passes the ``send`` that ``make`` wraps."""
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    async def play() -> None:
        relay = make(send)
        for message in messages:
            await relay(message)

    asyncio.run(play())
    return sent


def _answer(content_type: bytes, *bodies: bytes, status: int = 200) -> list[dict]:
    length = str(sum(len(b) for b in bodies)).encode()
    headers = [(b"content-type", content_type), (b"content-length", length), (b"accept-ranges", b"bytes")]
    parts = [{"type": "http.response.body", "body": b, "more_body": i < len(bodies) - 1} for i, b in enumerate(bodies)]
    return [{"type": "http.response.start", "status": status, "headers": headers}, *parts]


PAGE = (
    b'<link rel="stylesheet" href="/litellm-asset-prefix/_next/static/chunks/a.css"/>'
    b'<link rel="icon" href="/get_favicon"/><script src="/litellm-asset-prefix/_next/static/chunks/b.js"></script>'
    b'<link rel="icon" href="/favicon.ico?favicon.34m4ev7_7ennf.ico"/>'
)


def test_below_a_prefix_the_ui_text_names_the_prefix() -> None:
    sent = _relay(
        lambda send: relative_locations(send, "http://alb", "/prod", "/ui/"),
        _answer(b"text/html", PAGE[:50], PAGE[50:]),
    )
    start, body = sent
    assert body["body"] == PAGE.replace(b'"/litellm-asset-prefix/', b'"/prod/litellm-asset-prefix/').replace(
        b'"/get_favicon"', b'"/prod/get_favicon"'
    ).replace(b'"/favicon.ico', b'"/prod/favicon.ico')
    assert (b"content-length", str(len(body["body"])).encode()) in start["headers"]
    assert all(name != b"accept-ranges" for name, _ in start["headers"])  # the bytes are not LiteLLM's any more


def test_below_a_prefix_scripts_load_their_chunks_and_discovery_below_it() -> None:
    script = (
        b'TURBOPACK_CHUNK_BASE_PATH:"/litellm-asset-prefix/_next/";fetch("/ui/litellm-runtime-config.json");'
        b'n=r?`${r}/litellm/.well-known/litellm-ui-config`:"/litellm/.well-known/litellm-ui-config";'
        b'U.push("/ui/?login=success");e.indexOf("/ui")'
    )
    (_, body) = _relay(
        lambda send: relative_locations(send, "http://alb", "/prod", "/x.js"),
        _answer(b"text/javascript; charset=utf-8", script),
    )
    assert body["body"] == (
        b'TURBOPACK_CHUNK_BASE_PATH:"/prod/litellm-asset-prefix/_next/";fetch("/prod/ui/litellm-runtime-config.json");'
        b'n=r?`${r}/prod/litellm/.well-known/litellm-ui-config`:"/prod/litellm/.well-known/litellm-ui-config";'
        b'U.push("/ui/?login=success");e.indexOf("/ui")'  # page paths: the UI adds server_root_path itself
    )


def test_below_a_prefix_discovery_gives_the_prefix_as_server_root_path() -> None:
    config = json.dumps({"server_root_path": "", "proxy_base_url": None, "sso_configured": False}).encode()
    path = "/litellm/.well-known/litellm-ui-config"
    (_, body) = _relay(
        lambda send: relative_locations(send, "http://alb", "/prod", path), _answer(b"application/json", config)
    )
    assert json.loads(body["body"]) == {"server_root_path": "/prod", "proxy_base_url": None, "sso_configured": False}


@pytest.mark.parametrize(
    "messages",
    [
        _answer(b"font/woff2", b"/litellm-asset-prefix/ in a binary file"),  # not text: as it came
        _answer(b"text/html", PAGE, status=304),
    ],
)
def test_below_a_prefix_binary_files_and_bodiless_answers_pass_as_they_came(messages: list[dict]) -> None:
    assert _relay(lambda send: relative_locations(send, "http://alb", "/prod", "/f"), messages) == messages


def test_below_a_prefix_a_compressed_answer_passes_as_it_came() -> None:
    messages = _answer(b"text/html", PAGE)
    messages[0]["headers"].append((b"content-encoding", b"gzip"))
    assert _relay(lambda send: relative_locations(send, "http://alb", "/prod", "/ui/"), messages) == messages


def test_below_a_prefix_a_head_answer_has_no_length_to_give() -> None:
    (start, body) = _relay(
        lambda send: relative_locations(send, "http://alb", "/prod", "/ui/", head=True), _answer(b"text/html", b"")
    )
    assert body["body"] == b""
    assert all(name != b"content-length" for name, _ in start["headers"])


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        (b"http://internal-alb.example/ui/", b"/prod/ui/"),
        (b"/ui/login/?redirect_to=x", b"/prod/ui/login/?redirect_to=x"),
        (b"https://idp.example/authorize?x=1", b"https://idp.example/authorize?x=1"),
        (b"//evil.example/x", b"//evil.example/x"),
    ],
)
def test_below_a_prefix_redirects_stay_below_it(location: bytes, expected: bytes) -> None:
    start = {"type": "http.response.start", "status": 307, "headers": [(b"location", location)]}
    (sent,) = _relay(lambda send: relative_locations(send, "http://internal-alb.example", "/prod", "/ui"), [start])
    assert sent["headers"] == [(b"location", expected)]


def test_rewritten_requests_ask_for_the_whole_file_uncompressed() -> None:
    headers = [(b"accept-encoding", b"gzip, br"), (b"range", b"bytes=0-9"), (b"if-range", b"x"), (b"accept", b"*/*")]
    assert whole_and_plain({"headers": headers})["headers"] == [(b"accept", b"*/*"), (b"accept-encoding", b"identity")]


def test_ui_path_prefix_setting() -> None:
    base = {"LITELLM_MASTER_KEY": "sk-master"}
    assert Settings.from_env(base).ui_path_prefix == ""
    assert Settings.from_env({**base, "UI_PATH_PREFIX": "/prod"}).ui_path_prefix == "/prod"
    assert Settings.from_env({**base, "UI_PATH_PREFIX": "/a/b-1"}).ui_path_prefix == "/a/b-1"
    for bad in ("prod", "/prod/", "/pr od", "/a//b", "/%2e"):
        with pytest.raises(SettingsError, match="UI_PATH_PREFIX"):
            Settings.from_env({**base, "UI_PATH_PREFIX": bad})

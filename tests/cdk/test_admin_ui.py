"""The admin UI's routes: only UI_ROUTES pass without the authorizer, to the middleware (UI_ACCESS=on) or to
a 404 answered by API Gateway (off); every other method keeps the authorizer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway_cdk.api import GATEWAY_ROUTES, UI_OFF_MESSAGE, UI_ROUTES, UI_STATIC_TO_ALB
from gateway_cdk.settings import Settings, SettingsError
from gateway_cdk.stack import build_app

from .conftest import FULL_ENV, ROOT, Synthesized
from .test_api import _assert_streams_from_the_api_function, _methods

UI_METHODS = {(verb, path) for path, verbs in UI_ROUTES for verb in verbs}


@pytest.fixture(scope="module")
def synth_ui_off(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    """The whole stack with UI_ACCESS=off (cdk-nag runs in the synthesis too)."""
    settings = Settings.from_env({**FULL_ENV, "UI_ACCESS": "off"})
    outdir: Path = tmp_path_factory.mktemp("cdk.out.ui-off")
    app, stack = build_app(settings, ROOT, outdir=str(outdir))
    app.synth()
    path = outdir / f"{settings.stack_name}.template.json"
    raw = json.loads(path.read_text())
    from aws_cdk.assertions import Template

    yield Synthesized(settings, app, stack, Template.from_json(raw), raw, path)


@pytest.fixture(scope="module")
def synth_no_domain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    """The whole stack without a custom domain: the ServiceURL is ``https://<id>.execute-api.<region>.amazonaws.com/prod/``."""
    env = {k: v for k, v in FULL_ENV.items() if k not in ("DOMAIN_NAME", "CERTIFICATE_ARN")}
    settings = Settings.from_env(env)
    outdir: Path = tmp_path_factory.mktemp("cdk.out.no-domain")
    app, stack = build_app(settings, ROOT, outdir=str(outdir))
    app.synth()
    path = outdir / f"{settings.stack_name}.template.json"
    raw = json.loads(path.read_text())
    from aws_cdk.assertions import Template

    yield Synthesized(settings, app, stack, Template.from_json(raw), raw, path)


def _unauthenticated(synth: Synthesized) -> dict[tuple[str, str], dict[str, Any]]:
    return {key: m for key, m in _methods(synth).items() if m["AuthorizationType"] != "CUSTOM"}


def _api_function_env(synth: Synthesized) -> dict[str, Any]:
    """The middleware function's environment (the one behind the Lambda Web Adapter)."""
    (env,) = [
        f["Properties"]["Environment"]["Variables"]
        for f in synth.resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Environment", {}).get("Variables", {}).get("GATEWAY_AUTH_MODE") == "apigateway"
    ]
    return env


def test_ui_access_setting_defaults_on_and_takes_on_or_off() -> None:
    assert Settings.from_env({}).ui_access is True
    assert Settings.from_env({"UI_ACCESS": "off"}).ui_access is False
    with pytest.raises(SettingsError, match=r"^UI_ACCESS"):
        Settings.from_env({"UI_ACCESS": "private"})


def test_only_the_ui_routes_skip_the_authorizer(synth: Synthesized) -> None:
    unauthenticated = _unauthenticated(synth)
    assert set(unauthenticated) == UI_METHODS
    for key, method in unauthenticated.items():
        assert method["AuthorizationType"] == "NONE", key
        assert "AuthorizerId" not in method, key
    for key, method in _methods(synth).items():
        if key not in UI_METHODS:
            assert method["AuthorizationType"] == "CUSTOM" and "Ref" in method["AuthorizerId"], key


def test_ui_routes_stream_from_the_middleware_and_static_files_from_the_alb(synth: Synthesized) -> None:
    """Pages and login through the middleware, scripts/styles/fonts straight to the ALB; both streamed, so
    binary files need no binaryMediaTypes."""
    methods = _methods(synth)
    assert {path for path, _ in UI_ROUTES} >= UI_STATIC_TO_ALB
    for verb, path in UI_METHODS:
        integration = methods[(verb, path)]["Integration"]
        if path not in UI_STATIC_TO_ALB:
            _assert_streams_from_the_api_function(integration, (verb, path))
            continue
        assert (integration["Type"], integration["ConnectionType"]) == ("HTTP_PROXY", "VPC_LINK")
        assert integration["ResponseTransferMode"] == "STREAM"
        assert json.dumps(integration["Uri"]).endswith('/litellm-asset-prefix/_next/{proxy}"]]}')
    assert "BinaryMediaTypes" not in synth.one("AWS::ApiGateway::RestApi")
    assert _api_function_env(synth)["UI_ACCESS"] == "on"
    # the custom domain maps the API at its root: the UI's absolute paths need no prefix
    (mapping,) = synth.resources("AWS::ApiGateway::BasePathMapping").values()
    assert mapping["Properties"].get("BasePath", "") == ""
    assert _api_function_env(synth)["UI_PATH_PREFIX"] == ""


def test_without_a_custom_domain_the_ui_runs_below_the_stage(synth_no_domain: Synthesized) -> None:
    """On the execute-api URL the stage prefixes every path the browser sends and API Gateway strips it: the
    middleware is told the prefix, and the UI's scripts and styles go through it (their text names the
    prefix), still without the authorizer and streamed."""
    (stage,) = synth_no_domain.resources("AWS::ApiGateway::Stage").values()
    env = _api_function_env(synth_no_domain)
    assert env["UI_PATH_PREFIX"] == "/" + stage["Properties"]["StageName"] == "/prod"
    assert env["UI_ACCESS"] == "on"
    assert not synth_no_domain.resources("AWS::ApiGateway::BasePathMapping")
    methods = _methods(synth_no_domain)
    assert set(_unauthenticated(synth_no_domain)) == UI_METHODS
    for verb, path in UI_METHODS:  # every public UI method streams from the middleware, assets included
        _assert_streams_from_the_api_function(methods[(verb, path)]["Integration"], (verb, path))
    for path, _ in UI_ROUTES:  # other methods: the authorizer, then the ALB, as before
        assert methods[("ANY", path)]["AuthorizationType"] == "CUSTOM", path
        assert methods[("ANY", path)]["Integration"]["Type"] == "HTTP_PROXY", path


def test_other_methods_and_paths_next_to_the_ui_keep_the_authorizer_and_the_alb(synth: Synthesized) -> None:
    methods = _methods(synth)
    for path, _ in UI_ROUTES:
        other = methods[("ANY", path)]
        assert other["AuthorizationType"] == "CUSTOM", path
        assert other["Integration"]["Type"] == "HTTP_PROXY", path
    # the UI's API calls (e.g. /v2/user/info, /sso/get/ui_settings) go where they went: authorizer, then ALB
    for parent in ("/v2", "/get", "/sso", "/litellm", "/litellm/.well-known", "/litellm-asset-prefix"):
        method = methods[("ANY", f"{parent}/{{proxy+}}")]
        assert method["AuthorizationType"] == "CUSTOM", parent
        assert method["Integration"]["Type"] == "HTTP_PROXY", parent


def test_gateway_routes_kept_their_authorizer(synth: Synthesized) -> None:
    methods = _methods(synth)
    for verb, route in GATEWAY_ROUTES:
        assert methods[(verb, route)]["AuthorizationType"] == "CUSTOM", route
    assert methods[("ANY", "/{proxy+}")]["AuthorizationType"] == "CUSTOM"


def test_ui_access_off_answers_404_at_the_edge(synth_ui_off: Synthesized) -> None:
    unauthenticated = _unauthenticated(synth_ui_off)
    assert set(unauthenticated) == UI_METHODS
    for key, method in unauthenticated.items():
        integration = method["Integration"]
        assert integration["Type"] == "MOCK", key
        assert json.loads(integration["RequestTemplates"]["application/json"]) == {"statusCode": 404}, key
        (response,) = integration["IntegrationResponses"]
        assert response["StatusCode"] == "404"
        body = json.loads(response["ResponseTemplates"]["application/json"])
        assert body["error"]["message"] == UI_OFF_MESSAGE
        assert [r["StatusCode"] for r in method["MethodResponses"]] == ["404"]
    assert _api_function_env(synth_ui_off)["UI_ACCESS"] == "off"


def test_the_edge_and_the_middleware_open_the_same_paths() -> None:
    """UI_ROUTES (API Gateway) and gateway/web/ui_access.py (the middleware) name the same paths and methods."""
    from gateway.web.ui_access import UI_EXACT, UI_PREFIXES, UiRequest, classify

    edge_exact = {path: set(verbs) for path, verbs in UI_ROUTES if not path.endswith("{proxy+}")}
    edge_prefixes = {
        path.removesuffix("{proxy+}"): set(verbs) for path, verbs in UI_ROUTES if path.endswith("{proxy+}")
    }
    assert edge_exact == {path: set(verbs) for path, verbs in UI_EXACT.items()}
    assert set(edge_prefixes) == set(UI_PREFIXES)
    for prefix, verbs in edge_prefixes.items():
        for verb in ("GET", "HEAD", "POST", "PUT", "DELETE"):
            expected = UiRequest.UI_PUBLIC if verb in verbs else UiRequest.NOT_UI
            assert classify(verb, f"{prefix}file.js", enabled=True) is expected, (verb, prefix)

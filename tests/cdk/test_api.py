"""API Gateway: streaming Lambda routes, authorizer wiring, VPC link V2 proxy, WAF, logs, custom domain."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Match

from gateway_cdk.api import GATEWAY_ROUTES, MIDDLEWARE_PROXIES, UI_ROUTES

from .conftest import CERTIFICATE_ARN, Synthesized


def _paths(synth: Synthesized) -> dict[str, str]:
    """Logical id of each API resource -> its full path."""
    resources = synth.resources("AWS::ApiGateway::Resource")
    paths: dict[str, str] = {}

    def path(logical_id: str) -> str:
        if logical_id not in paths:
            props = resources[logical_id]["Properties"]
            parent = props["ParentId"]
            prefix = path(parent["Ref"]) if "Ref" in parent else ""
            paths[logical_id] = f"{prefix}/{props['PathPart']}"
        return paths[logical_id]

    for logical_id in resources:
        path(logical_id)
    return paths


def _methods(synth: Synthesized) -> dict[tuple[str, str], dict[str, Any]]:
    paths = _paths(synth)
    methods: dict[tuple[str, str], dict[str, Any]] = {}
    for method in synth.resources("AWS::ApiGateway::Method").values():
        props = method["Properties"]
        resource = props["ResourceId"]
        path = paths[resource["Ref"]] if "Ref" in resource else "/"
        methods[(props["HttpMethod"], path)] = props
    return methods


def _assert_streams_from_the_api_function(integration: dict[str, Any], route: object) -> None:
    assert integration["Type"] == "AWS_PROXY", route
    assert integration["ResponseTransferMode"] == "STREAM", route
    assert integration["TimeoutInMillis"] == 900_000
    uri = json.dumps(integration["Uri"])
    assert "2021-11-15/functions/" in uri and "/response-streaming-invocations" in uri, route
    assert "FunctionsApiLive" in uri  # the provisioned alias


def test_gateway_routes_stream_from_the_api_function(synth: Synthesized) -> None:
    methods = _methods(synth)
    for verb, route in GATEWAY_ROUTES:
        _assert_streams_from_the_api_function(methods[(verb, route)]["Integration"], route)
    for prefix in MIDDLEWARE_PROXIES:
        _assert_streams_from_the_api_function(methods[("ANY", f"{prefix}/{{proxy+}}")]["Integration"], prefix)


def test_every_key_route_and_the_openapi_document_go_to_the_middleware(synth: Synthesized) -> None:
    """The middleware guards every key-writing route and relays the rest of /key to LiteLLM itself."""
    methods = _methods(synth)
    keys = (
        ("ANY", "/key"),
        ("ANY", "/key/{proxy+}"),
        ("POST", "/key/generate"),
        ("POST", "/team/key/bulk_update"),
        ("GET", "/gateway/openapi.json"),
    )
    for key in keys:
        _assert_streams_from_the_api_function(methods[key]["Integration"], key)


def test_every_method_uses_the_request_authorizer(synth: Synthesized) -> None:
    """Except the admin UI's pages, assets and login (tests/cdk/test_admin_ui.py)."""
    authorizer = synth.one("AWS::ApiGateway::Authorizer")
    assert "FunctionsAuthorizer" in json.dumps(authorizer["AuthorizerUri"])
    ui = {(verb, path) for path, verbs in UI_ROUTES for verb in verbs}
    for key, method in _methods(synth).items():
        if key in ui:
            continue
        assert method["AuthorizationType"] == "CUSTOM", key
        assert "Ref" in method["AuthorizerId"], key


def test_no_request_needs_the_authorization_header_to_reach_the_authorizer(synth: Synthesized) -> None:
    """Keys in `x-api-key` / `api-key` reach the authorizer: API Gateway's result cache is off, so it needs no
    identity source (with caching on, a request missing one is refused before the authorizer runs)."""
    authorizer = synth.one("AWS::ApiGateway::Authorizer")
    assert authorizer["Type"] == "REQUEST"
    assert authorizer["AuthorizerResultTtlInSeconds"] == 0
    assert "IdentitySource" not in authorizer
    # API Gateway reads x-api-key (ApiKeySourceType HEADER) only for methods that require an API key:
    api = synth.one("AWS::ApiGateway::RestApi")
    assert api.get("ApiKeySourceType", "HEADER") == "HEADER"
    assert not [key for key, m in _methods(synth).items() if m.get("ApiKeyRequired")]


def test_other_litellm_routes_go_to_the_internal_alb_over_vpc_link_v2(synth: Synthesized) -> None:
    proxies = {
        k: v
        for k, v in _methods(synth).items()
        if k[1].endswith("{proxy+}") and k[1].removesuffix("/{proxy+}") not in MIDDLEWARE_PROXIES and k[0] == "ANY"
    }
    assert {path for _, path in proxies} >= {"/{proxy+}", "/v1/{proxy+}", "/user/{proxy+}", "/bedrock/{proxy+}"}
    vpc_link = next(iter(synth.resources("AWS::ApiGatewayV2::VpcLink")))
    for (verb, path), method in proxies.items():
        integration = method["Integration"]
        assert verb == "ANY"
        assert (integration["Type"], integration["ConnectionType"]) == ("HTTP_PROXY", "VPC_LINK")
        assert integration["ConnectionId"] == {"Ref": vpc_link}
        assert integration["IntegrationTarget"]["Ref"].startswith("LiteLLMAlb")
        assert integration["ResponseTransferMode"] == "STREAM"
        uri = json.dumps(integration["Uri"])
        assert uri.endswith(f'"{path.removesuffix("/{proxy+}")}/{{proxy}}"]]}}'), (path, uri)
        assert integration["RequestParameters"]["integration.request.path.proxy"] == "method.request.path.proxy"


def test_vpc_link_sits_in_the_private_subnets(synth: Synthesized) -> None:
    link = synth.one("AWS::ApiGatewayV2::VpcLink")
    private = {k for k, v in synth.resources("AWS::EC2::Subnet").items() if not v["Properties"]["MapPublicIpOnLaunch"]}
    assert {s["Ref"] for s in link["SubnetIds"]} == private


def test_stage_has_access_logs_tracing_and_waf(synth: Synthesized) -> None:
    stage = synth.one("AWS::ApiGateway::Stage")
    assert "DestinationArn" in stage["AccessLogSetting"] and "$context.requestId" in stage["AccessLogSetting"]["Format"]
    assert stage["TracingEnabled"] is True
    association = synth.one("AWS::WAFv2::WebACLAssociation")
    assert "ApiRestApiDeploymentStage" in json.dumps(association["ResourceArn"])
    acl = synth.one("AWS::WAFv2::WebACL")
    assert acl["Scope"] == "REGIONAL"
    statements = {r["Name"]: r["Statement"] for r in acl["Rules"]}
    assert statements["AWSManagedRulesCommonRuleSet"]["ManagedRuleGroupStatement"]["VendorName"] == "AWS"
    assert statements["RateLimitPerIp"]["RateBasedStatement"] == {
        "AggregateKeyType": "IP",
        "Limit": synth.settings.sizing.waf_rate_limit,
    }


def test_regional_api_with_custom_domain_and_no_default_endpoint(synth: Synthesized) -> None:
    api = synth.one("AWS::ApiGateway::RestApi")
    assert api["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    assert api["DisableExecuteApiEndpoint"] is True
    synth.template.has_resource_properties(
        "AWS::ApiGateway::DomainName",
        {
            "DomainName": "llm.example.com",
            "RegionalCertificateArn": CERTIFICATE_ARN,
            "EndpointConfiguration": {"Types": ["REGIONAL"]},
            "SecurityPolicy": "TLS_1_2",
        },
    )
    synth.template.has_resource_properties("AWS::ApiGateway::BasePathMapping", {"DomainName": Match.any_value()})

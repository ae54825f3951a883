"""Gateway functions: runtime, layers, Lambda Web Adapter, VPC, environment and least privilege."""

from __future__ import annotations

import json
from typing import Any

from gateway_cdk.functions import lwa_layer_arn

from .conftest import Synthesized


def _function(synth: Synthesized, name: str) -> dict[str, Any]:
    fns = {k: v["Properties"] for k, v in synth.resources("AWS::Lambda::Function").items() if k.startswith(name)}
    (fn,) = fns.values()
    return fn


def _role_policy(synth: Synthesized, role_prefix: str) -> str:
    policies = [
        p["Properties"]["PolicyDocument"]
        for p in synth.resources("AWS::IAM::Policy").values()
        if any(r["Ref"].startswith(role_prefix) for r in p["Properties"]["Roles"])
    ]
    return json.dumps(policies)


def test_api_function_runs_the_asgi_app_behind_the_web_adapter(synth: Synthesized) -> None:
    fn = _function(synth, "FunctionsApi")
    assert (fn["Runtime"], fn["Architectures"], fn["Handler"]) == ("python3.13", ["arm64"], "run.sh")
    assert fn["Layers"][1] == lwa_layer_arn("eu-west-1", "arm64")
    assert fn["Layers"][1] == "arn:aws:lambda:eu-west-1:753240598075:layer:LambdaAdapterLayerArm64:30"
    env = fn["Environment"]["Variables"]
    assert env["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap"
    assert env["AWS_LWA_INVOKE_MODE"] == "response_stream"
    assert (env["PORT"], env["AWS_LWA_READINESS_CHECK_PATH"]) == ("8080", "/gateway/health")
    assert env["GATEWAY_AUTH_MODE"] == "apigateway"
    assert env["HISTORY_TTL_DAYS"] == "90" and "Ref" in env["HISTORY_TABLE_NAME"]
    assert env["OKTA_ISSUER"] == "https://example.okta.com/oauth2/default"
    assert env["OKTA_AUDIENCE"] == "api://genai-gateway"
    assert json.loads(env["GUARDRAIL_MAP"]) == {"gr1abc2def3:1": ["pre-guard", "post-guard"]}
    assert {"LITELLM_BASE_URL", "LITELLM_MASTER_KEY_SECRET_ARN", "GATEWAY_HASH_SALT_SECRET_ARN"} <= set(env)
    assert {"POWERTOOLS_SERVICE_NAME", "LOG_LEVEL"} <= set(env)
    assert fn["TracingConfig"] == {"Mode": "Active"}
    assert fn["VpcConfig"]["SubnetIds"] and fn["ReservedConcurrentExecutions"] == 50


def test_authorizer_function_runs_inline_auth(synth: Synthesized) -> None:
    fn = _function(synth, "FunctionsAuthorizer")
    assert (fn["Runtime"], fn["Handler"]) == ("python3.13", "handler.handler")
    assert len(fn["Layers"]) == 1  # the gateway layer; no web adapter
    env = fn["Environment"]["Variables"]
    assert env["GATEWAY_AUTH_MODE"] == "inline"
    assert "HISTORY_TABLE_NAME" not in env
    assert fn["VpcConfig"]["SubnetIds"]


def test_only_the_api_function_touches_the_table_and_prompts(synth: Synthesized) -> None:
    api = _role_policy(synth, "FunctionsApiServiceRole")
    authorizer = _role_policy(synth, "FunctionsAuthorizerServiceRole")
    assert "dynamodb:PutItem" in api and "dynamodb:Query" in api and "bedrock:GetPrompt" in api
    assert "prompt/*" in api
    assert "dynamodb" not in authorizer and "bedrock" not in authorizer
    for policy in (api, authorizer):
        assert "secretsmanager:GetSecretValue" in policy
        assert '"Action": "*"' not in policy and "dynamodb:*" not in policy


def test_provisioned_concurrency_uses_an_alias(synth: Synthesized) -> None:
    synth.template.has_resource_properties(
        "AWS::Lambda::Alias",
        {"Name": "live", "ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 2}},
    )


def test_gateway_layer_is_built_for_the_function_architecture(synth: Synthesized) -> None:
    layer = synth.one("AWS::Lambda::LayerVersion")
    assert layer["CompatibleRuntimes"] == ["python3.13"]
    assert layer["CompatibleArchitectures"] == ["arm64"]

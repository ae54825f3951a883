"""The ops function: its code, environment and least-privilege role."""

from __future__ import annotations

import json
from typing import Any

from .conftest import Synthesized


def _ops(synth: Synthesized) -> tuple[str, dict[str, Any]]:
    (item,) = [(k, v["Properties"]) for k, v in synth.resources("AWS::Lambda::Function").items() if k.startswith("Ops")]
    return item


def _statements(synth: Synthesized) -> list[dict[str, Any]]:
    role_ref = _ops(synth)[1]["Role"]["Fn::GetAtt"][0]
    return [
        s
        for p in synth.resources("AWS::IAM::Policy").values()
        if {"Ref": role_ref} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else actions


def _logical(synth: Synthesized, cfn_type: str, prefix: str) -> str:
    (name,) = [k for k in synth.resources(cfn_type) if k.startswith(prefix)]
    return name


def test_ops_function_runs_the_ops_handler_in_the_vpc_with_the_shared_layer(synth: Synthesized) -> None:
    _, fn = _ops(synth)
    assert (fn["Handler"], fn["Runtime"], fn["Timeout"]) == ("handler.handler", "python3.13", 900)
    assert fn["VpcConfig"]["SubnetIds"]
    env = fn["Environment"]["Variables"]
    assert {"LITELLM_BASE_URL", "LITELLM_MASTER_KEY_SECRET_ARN", "HISTORY_TABLE_NAME", "OPS_ECS_CLUSTER",
            "OPS_ECS_SERVICE", "OPS_GATEWAY_FUNCTIONS"} <= set(env)  # fmt: skip
    assert "GATEWAY_HASH_SALT_SECRET_ARN" not in env
    functions = json.dumps(env["OPS_GATEWAY_FUNCTIONS"])
    assert _logical(synth, "AWS::Lambda::Function", "FunctionsApi") in functions
    assert _logical(synth, "AWS::Lambda::Function", "FunctionsAuthorizer") in functions
    assert '\\"alias\\":\\"live\\"' in functions  # the test stack provisions concurrency on the api alias


def test_ops_role_may_do_only_its_tasks(synth: Synthesized) -> None:
    statements = _statements(synth)
    by_action = {a: s for s in statements for a in _actions(s)}
    (master,) = [k for k in synth.resources("AWS::SecretsManager::Secret") if k.startswith("SecretsMasterKey")
                 and not k.startswith("SecretsMasterKeySeed")]  # fmt: skip
    for action in ("secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"):
        assert by_action[action]["Resource"] == {"Ref": master}
    service = _logical(synth, "AWS::ECS::Service", "LiteLLMService")
    for action in ("ecs:UpdateService", "ecs:DescribeServices"):
        assert by_action[action]["Resource"] == {"Ref": service}
    (table,) = synth.resources("AWS::DynamoDB::GlobalTable")
    table_actions = {"dynamodb:DescribeTable", "dynamodb:Query", "dynamodb:GetItem", "dynamodb:DeleteItem",
                     "dynamodb:BatchWriteItem"}  # fmt: skip
    assert table_actions <= set(by_action)
    assert table in json.dumps(by_action["dynamodb:DeleteItem"]["Resource"])
    lambda_targets = json.dumps(by_action["lambda:UpdateFunctionConfiguration"]["Resource"])
    assert _logical(synth, "AWS::Lambda::Function", "FunctionsApi") in lambda_targets
    assert _logical(synth, "AWS::Lambda::Function", "FunctionsAuthorizer") in lambda_targets
    assert "lambda:UpdateAlias" in by_action
    allowed = table_actions | {
        "secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "secretsmanager:PutSecretValue",
        "ecs:UpdateService", "ecs:DescribeServices",
        "lambda:GetFunctionConfiguration", "lambda:UpdateFunctionConfiguration", "lambda:PublishVersion",
        "lambda:UpdateAlias", "xray:PutTraceSegments", "xray:PutTelemetryRecords",
    }  # fmt: skip
    assert set(by_action) <= allowed, set(by_action) - allowed
    assert not any(a.endswith("*") for a in by_action)
    assert "dynamodb:PutItem" not in by_action and "dynamodb:UpdateItem" not in by_action


def test_ops_function_name_is_an_output(synth: Synthesized) -> None:
    assert "OpsFunctionName" in synth.json["Outputs"]

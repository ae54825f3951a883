"""Bedrock model access as it works today: the first call to a third-party model starts an AWS Marketplace
subscription on the caller's behalf, so LiteLLM's task role needs the Marketplace subscription actions."""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import App, Stack
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from gateway_cdk.litellm_service import MARKETPLACE_ACTIONS, marketplace_statement

from .conftest import Synthesized


def _statements(synth: Synthesized) -> list[dict]:
    task_role = next(k for k, v in synth.resources("AWS::IAM::Role").items() if k.startswith("LiteLLMTaskTaskRole"))
    return [
        statement
        for policy in synth.resources("AWS::IAM::Policy").values()
        if {"Ref": task_role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_the_litellm_task_may_subscribe_to_marketplace_models(synth: Synthesized) -> None:
    granted = [s for s in _statements(synth) if "aws-marketplace:Subscribe" in json.dumps(s.get("Action"))]
    assert len(granted) == 1
    (statement,) = granted
    assert sorted(statement["Action"]) == sorted(MARKETPLACE_ACTIONS)
    assert statement["Resource"] == "*" and statement["Effect"] == "Allow"
    assert "Condition" not in statement  # any model by default


def test_product_ids_narrow_the_subscription_right(tmp_path: Path) -> None:
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Access")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
    role.add_to_policy(marketplace_statement(("prod-abc123", "prod-def456")))
    app.synth()
    template = Template.from_json(json.loads((tmp_path / "Access.template.json").read_text()))
    (policy,) = template.find_resources("AWS::IAM::Policy").values()
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Condition"] == {
        "ForAnyValue:StringEquals": {"aws-marketplace:ProductId": ["prod-abc123", "prod-def456"]}
    }

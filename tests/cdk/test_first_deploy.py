"""First deploy: a failure rolls back cleanly (no resource-level deletion protection yet, data stores deleted
when the operation that created them rolls back), and the stack tells the operator to turn protection on."""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import App, Stack, Validations
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from gateway_cdk.data import ChatHistory, LogBucket
from gateway_cdk.database import Database
from gateway_cdk.network import Network
from gateway_cdk.settings import Settings

from .conftest import Synthesized


def _alb_attributes(synth: Synthesized) -> dict[str, str]:
    alb = synth.one("AWS::ElasticLoadBalancingV2::LoadBalancer")
    return {a["Key"]: a["Value"] for a in alb.get("LoadBalancerAttributes", [])}


def test_nothing_is_deletion_protected_by_default(synth: Synthesized) -> None:
    """CloudFormation cannot delete a protected resource, so a protected first deploy could not roll back."""
    assert _alb_attributes(synth).get("deletion_protection.enabled", "false") == "false"
    assert synth.one("AWS::RDS::DBInstance")["DeletionProtection"] is False
    (replica,) = synth.one("AWS::DynamoDB::GlobalTable")["Replicas"]
    assert replica["DeletionProtectionEnabled"] is False


def test_data_is_kept_on_deletion_without_blocking_a_rollback(synth: Synthesized) -> None:
    (table,) = synth.resources("AWS::DynamoDB::GlobalTable").values()
    assert table["DeletionPolicy"] == "RetainExceptOnCreate"  # deleted if its creation rolls back
    (db,) = synth.resources("AWS::RDS::DBInstance").values()
    assert db["DeletionPolicy"] == "Snapshot"
    # The ALB writes a test object into the log bucket at once; CloudFormation cannot delete a non-empty
    # bucket, so only Retain lets a failed first deploy finish its rollback.
    (bucket,) = synth.resources("AWS::S3::Bucket").values()
    assert bucket["DeletionPolicy"] == "Retain"


def test_the_stack_output_says_how_to_turn_protection_on(synth: Synthesized) -> None:
    output = synth.json["Outputs"]["DeletionProtection"]["Value"]
    assert output.startswith("OFF") and "DELETION_PROTECTION=true" in output and "make deploy" in output


def test_protection_on_after_the_first_deploy(tmp_path: Path) -> None:
    settings = Settings.from_env({"DELETION_PROTECTION": "true"})
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Variant", env={"region": settings.region})
    network = Network(stack, "Network", settings=settings)
    Database(stack, "Database", settings=settings, network=network)
    ChatHistory(stack, "ChatHistory", settings=settings)
    LogBucket(stack, "Logs", settings=settings)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    app.synth()  # raises on any unacknowledged cdk-nag finding
    template = Template.from_json(json.loads((tmp_path / "Variant.template.json").read_text()))
    template.has_resource_properties("AWS::RDS::DBInstance", {"DeletionProtection": True})
    template.has_resource_properties(
        "AWS::DynamoDB::GlobalTable", {"Replicas": [{"DeletionProtectionEnabled": True, "Region": "us-east-1"}]}
    )

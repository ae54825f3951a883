"""Opt-in and cost-saving settings, checked on small stacks of the constructs they change (the full stack
is synthesized once, in conftest): cdk-nag must stay clean with each acknowledgment they need."""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import App, Stack, Validations
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from gateway_cdk.cache import Cache
from gateway_cdk.database import Database
from gateway_cdk.network import VPC_CIDR, Network
from gateway_cdk.secrets import GatewaySecrets
from gateway_cdk.settings import Settings


def _synth(tmp_path: Path, settings: Settings, build) -> Template:
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Variant", env={"region": settings.region})
    build(stack, settings)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    app.synth()  # raises on any unacknowledged cdk-nag finding
    return Template.from_json(json.loads((tmp_path / "Variant.template.json").read_text()))


def test_interface_endpoints_accept_https_from_the_vpc_only(tmp_path: Path) -> None:
    settings = Settings.from_env({"VPC_INTERFACE_ENDPOINTS": "true", "NAT_GATEWAYS": "2"})
    template = _synth(tmp_path, settings, lambda stack, s: Network(stack, "Network", settings=s))
    template.resource_count_is("AWS::EC2::NatGateway", 2)
    endpoints = template.find_resources("AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Interface"}})
    assert len(endpoints) == 5
    assert all(e["Properties"]["PrivateDnsEnabled"] for e in endpoints.values())
    template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {"SecurityGroupIngress": [{"CidrIp": VPC_CIDR, "FromPort": 443, "ToPort": 443, "IpProtocol": "tcp"}]},
    )


def test_single_az_data_stores_without_deletion_protection(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"DB_MULTI_AZ": "false", "CACHE_REPLICAS": "0", "DELETION_PROTECTION": "false", "RETAIN_DATA": "false"}
    )

    def build(stack: Stack, s: Settings) -> None:
        network = Network(stack, "Network", settings=s)
        Database(stack, "Database", settings=s, network=network)
        Cache(stack, "Cache", settings=s, network=network, secrets=GatewaySecrets(stack, "Secrets", settings=s))

    template = _synth(tmp_path, settings, build)
    template.has_resource_properties("AWS::RDS::DBInstance", {"MultiAZ": False, "DeletionProtection": False})
    template.has_resource("AWS::RDS::DBInstance", {"DeletionPolicy": "Delete"})
    template.has_resource_properties(
        "AWS::ElastiCache::ReplicationGroup",
        {"ReplicasPerNodeGroup": 0, "MultiAZEnabled": False, "AutomaticFailoverEnabled": False},
    )

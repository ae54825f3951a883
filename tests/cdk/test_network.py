"""Network: a new two-AZ VPC with public + private subnets, one NAT, flow logs, gateway endpoints."""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import App, Stack
from aws_cdk.assertions import Match, Template

from gateway_cdk.network import Network
from gateway_cdk.settings import Settings

from .conftest import Synthesized


def test_two_azs_with_public_and_private_subnets(synth: Synthesized) -> None:
    subnets = synth.resources("AWS::EC2::Subnet").values()
    public = [s for s in subnets if s["Properties"]["MapPublicIpOnLaunch"]]
    private = [s for s in subnets if not s["Properties"]["MapPublicIpOnLaunch"]]
    assert (len(public), len(private)) == (2, 2)
    assert len({str(s["Properties"]["AvailabilityZone"]) for s in subnets}) == 2


def test_one_nat_gateway_by_default(synth: Synthesized) -> None:
    synth.template.resource_count_is("AWS::EC2::NatGateway", 1)


def test_flow_logs_go_to_cloudwatch(synth: Synthesized) -> None:
    synth.template.has_resource_properties(
        "AWS::EC2::FlowLog", {"ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"}
    )


def test_gateway_endpoints_keep_s3_and_dynamodb_off_the_nat(synth: Synthesized) -> None:
    endpoints = synth.resources("AWS::EC2::VPCEndpoint").values()
    services = {str(e["Properties"]["ServiceName"]) for e in endpoints}
    assert any(".s3" in s for s in services) and any(".dynamodb" in s for s in services)
    assert all(e["Properties"].get("VpcEndpointType", "Gateway") == "Gateway" for e in endpoints)
    synth.template.has_resource_properties(
        "AWS::EC2::VPCEndpoint", {"RouteTableIds": Match.any_value(), "VpcEndpointType": "Gateway"}
    )


def _existing_vpc_endpoints(tmp_path: Path, **env: str) -> list[str]:
    """Gateway endpoint services the stack adds to an existing VPC (the lookup answers with CDK's stand-in
    VPC, as it does before the CLI has filled in the context)."""
    settings = Settings.from_env({"EXISTING_VPC_ID": "vpc-0123456789abcdef0", "AWS_REGION": "eu-west-1", **env})
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Existing", env={"account": "123456789012", "region": "eu-west-1"})
    Network(stack, "Network", settings=settings)
    app.synth()
    template = Template.from_json(json.loads((tmp_path / "Existing.template.json").read_text()))
    endpoints = template.find_resources("AWS::EC2::VPCEndpoint").values()
    names = [json.dumps(e["Properties"]["ServiceName"]) for e in endpoints]
    return sorted(name.rsplit(".", 1)[-1].strip('"]}') for name in names)


def test_an_existing_vpc_keeps_its_own_gateway_endpoints(tmp_path: Path) -> None:
    """Company VPCs usually route S3/DynamoDB through their own endpoints; adding a second one fails."""
    assert _existing_vpc_endpoints(tmp_path / "default") == []
    assert _existing_vpc_endpoints(tmp_path / "s3", VPC_S3_ENDPOINT="true") == ["s3"]

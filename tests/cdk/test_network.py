"""Network: a new two-AZ VPC with public + private subnets, one NAT, flow logs, gateway endpoints."""

from __future__ import annotations

from aws_cdk.assertions import Match

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

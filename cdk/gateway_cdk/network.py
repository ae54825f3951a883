"""Network: a new two-AZ VPC (public + private subnets, NAT) or an existing one, plus VPC endpoints.

An existing VPC (``EXISTING_VPC_ID``) is looked up at synth time and must have private subnets with a
route to the internet (NAT) in at least two AZs. Its S3 and DynamoDB gateway endpoints are NOT added by
default (``VPC_S3_ENDPOINT`` / ``VPC_DYNAMODB_ENDPOINT``): most company VPCs already route both services
through one, and a route table holds only one route per prefix list, so a second endpoint on the same
route tables fails the deploy
(https://docs.aws.amazon.com/vpc/latest/privatelink/gateway-endpoints.html).
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from .common import retention
from .settings import Settings

#: Address range of a new VPC (/16: room for the /22 private subnets Fargate and Lambda ENIs need).
VPC_CIDR = "10.0.0.0/16"
#: Interface endpoints that keep the heaviest NAT traffic (Bedrock, image pulls, logs, secrets) in the VPC.
INTERFACE_SERVICES: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    "BedrockRuntime": ec2.InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME,
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
}


class Network(Construct):
    """The VPC every other construct lives in; ``private`` selects the subnets workloads use."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        if settings.existing_vpc_id:
            self.vpc: ec2.IVpc = ec2.Vpc.from_lookup(self, "Vpc", vpc_id=settings.existing_vpc_id)
        else:
            vpc = ec2.Vpc(
                self,
                "Vpc",
                ip_addresses=ec2.IpAddresses.cidr(VPC_CIDR),
                max_azs=2,
                nat_gateways=settings.sizing.nat_gateways,
                subnet_configuration=[
                    ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                    ec2.SubnetConfiguration(
                        name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22
                    ),
                ],
            )
            flow_logs = logs.LogGroup(
                self,
                "FlowLogs",
                retention=retention(settings.sizing.log_retention_days),
                removal_policy=RemovalPolicy.DESTROY,
            )
            vpc.add_flow_log("FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs))
            self.vpc = vpc
        self.private = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)

        # Gateway endpoints are free and carry the S3 (logs, image layers) and DynamoDB (history) traffic.
        if settings.sizing.s3_endpoint:
            self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        if settings.sizing.dynamodb_endpoint:
            self.vpc.add_gateway_endpoint("DynamoDb", service=ec2.GatewayVpcEndpointAwsService.DYNAMODB)
        if settings.sizing.interface_endpoints:
            endpoints = ec2.SecurityGroup(
                self, "EndpointSecurityGroup", vpc=self.vpc, description="Interface VPC endpoints (HTTPS)"
            )
            cidr = VPC_CIDR if isinstance(self.vpc, ec2.Vpc) else self.vpc.vpc_cidr_block
            endpoints.add_ingress_rule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), "HTTPS from inside the VPC")
            for name, service in INTERFACE_SERVICES.items():
                self.vpc.add_interface_endpoint(
                    name,
                    service=service,
                    subnets=self.private,
                    private_dns_enabled=True,
                    security_groups=[endpoints],
                    open=False,
                )

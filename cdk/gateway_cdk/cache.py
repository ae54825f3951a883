"""ElastiCache Redis for LiteLLM's response cache and router state (rpm/tpm usage, cooldowns).

Encrypted at rest and in transit, AUTH token from Secrets Manager, private subnets only, Multi-AZ with
automatic failover when there is at least one replica.
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from constructs import Construct

from .common import suppress
from .network import Network
from .secrets import GatewaySecrets
from .settings import Settings

#: A non-default port (cdk-nag AEC5).
REDIS_PORT = 6479


class Cache(Construct):
    """A Redis replication group; ``host`` and ``port`` are what LiteLLM's REDIS_HOST/REDIS_PORT get."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        network: Network,
        secrets: GatewaySecrets,
    ) -> None:
        super().__init__(scope, construct_id)
        sizing = settings.sizing
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=network.vpc, description="LiteLLM Redis", allow_all_outbound=False
        )
        subnets = elasticache.CfnSubnetGroup(
            self,
            "Subnets",
            description="Private subnets of the gateway",
            subnet_ids=network.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).subnet_ids,
        )
        replicated = sizing.cache_replicas > 0
        self.group = elasticache.CfnReplicationGroup(
            self,
            "Redis",
            replication_group_description="LiteLLM cache and router state",
            engine="redis",
            engine_version="7.1",
            cache_node_type=sizing.cache_node_type,
            num_node_groups=1,
            replicas_per_node_group=sizing.cache_replicas,
            automatic_failover_enabled=replicated,
            multi_az_enabled=replicated,
            port=REDIS_PORT,
            cache_subnet_group_name=subnets.ref,
            security_group_ids=[self.security_group.security_group_id],
            at_rest_encryption_enabled=True,
            transit_encryption_enabled=True,
            auth_token=secrets.redis_auth.secret_value.unsafe_unwrap(),
            snapshot_retention_limit=1,
            auto_minor_version_upgrade=True,
        )
        self.host = self.group.attr_primary_end_point_address
        self.port = self.group.attr_primary_end_point_port
        if not replicated:
            suppress(self.group, {"AwsSolutions-AEC4": "CACHE_REPLICAS=0 was chosen in .env (cost over HA)."})

    def allow_from(self, peer: ec2.ISecurityGroup) -> None:
        """Open the Redis port to ``peer`` only."""
        self.security_group.add_ingress_rule(peer, ec2.Port.tcp(REDIS_PORT), "LiteLLM tasks")

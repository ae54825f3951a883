"""LiteLLM's PostgreSQL (keys, users, teams, spend): RDS, encrypted, private, backed up."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_rds as rds
from constructs import Construct

from .common import retention, suppress
from .network import Network
from .settings import Settings

DATABASE_NAME = "litellm"
#: A non-default port: scanners probing 5432 find nothing (cdk-nag RDS11).
DATABASE_PORT = 5532


class Database(Construct):
    """RDS PostgreSQL reachable only from the security groups granted with :meth:`allow_from`."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, network: Network) -> None:
        super().__init__(scope, construct_id)
        sizing = settings.sizing
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=network.vpc, description="LiteLLM PostgreSQL", allow_all_outbound=False
        )
        parameters = rds.ParameterGroup(
            self,
            "Parameters",
            engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_17_6),
            parameters={"rds.force_ssl": "1", "log_min_duration_statement": "2000"},
        )
        self.instance = rds.DatabaseInstance(
            self,
            "Instance",
            engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_17_6),
            instance_type=ec2.InstanceType(sizing.db_instance_class),
            vpc=network.vpc,
            vpc_subnets=network.private,
            security_groups=[self.security_group],
            port=DATABASE_PORT,
            database_name=DATABASE_NAME,
            credentials=rds.Credentials.from_generated_secret("litellm"),
            parameter_group=parameters,
            allocated_storage=sizing.db_allocated_storage_gib,
            max_allocated_storage=sizing.db_max_allocated_storage_gib,
            storage_type=rds.StorageType.GP3,
            storage_encrypted=True,
            multi_az=sizing.db_multi_az,
            publicly_accessible=False,
            backup_retention=Duration.days(sizing.db_backup_retention_days),
            deletion_protection=settings.deletion_protection,
            # A final snapshot on deletion (also when a failed first deploy rolls back: the instance goes, the
            # snapshot stays and can be deleted by hand).
            removal_policy=RemovalPolicy.SNAPSHOT if settings.retain_data else RemovalPolicy.DESTROY,
            auto_minor_version_upgrade=True,
            enable_performance_insights=True,
            cloudwatch_logs_exports=["postgresql"],
            cloudwatch_logs_retention=retention(sizing.log_retention_days),
            iam_authentication=True,
        )
        _acknowledge_log_retention(Stack.of(self))
        assert self.instance.secret is not None
        self.secret = self.instance.secret
        suppress(
            self.instance,
            {
                "AwsSolutions-SMG4": "LiteLLM holds a connection pool opened with this password; rotating it "
                "without restarting the ECS service would break new connections. Rotate by hand + redeploy.",
            },
        )
        if not settings.deletion_protection:
            suppress(
                self.instance,
                {
                    "AwsSolutions-RDS10": "DELETION_PROTECTION is off until the first deploy has succeeded, so a "
                    "failed first deploy can roll back; docs/deploy.md has the operator turn it on afterwards "
                    "(the stack's DeletionProtection output says so too)."
                },
            )
        if not sizing.db_multi_az:
            suppress(self.instance, {"AwsSolutions-RDS3": "DB_MULTI_AZ=false was chosen in .env (cost over HA)."})

    def allow_from(self, peer: ec2.ISecurityGroup) -> None:
        """Open the database port to ``peer`` only."""
        self.security_group.add_ingress_rule(peer, ec2.Port.tcp(DATABASE_PORT), "LiteLLM tasks")


def _acknowledge_log_retention(stack: Stack) -> None:
    """RDS log exports get their retention from CDK's singleton LogRetention function (a CDK internal)."""
    for child in stack.node.children:
        if child.node.id.startswith("LogRetention"):
            suppress(
                child,
                {
                    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                    "AWSLambdaBasicExecutionRole]": "CDK's LogRetention helper function writes its own logs.",
                    "AwsSolutions-IAM5[Resource::*]": "CDK's LogRetention helper sets retention on the log "
                    "groups RDS creates at run time, whose names the template does not know.",
                },
            )

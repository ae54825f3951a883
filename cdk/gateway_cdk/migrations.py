"""LiteLLM's database migrations, once per deploy, before the service's new tasks start.

The service's tasks start with ``DISABLE_SCHEMA_UPDATE=true`` (LiteLLM's start-up migration off). A custom
resource (CDK provider framework, ``migration_runner/handler.py``) instead runs one task of the service's
own task definition with the command ``migrate`` (``litellm_service/entrypoint.sh``) and waits for it to
stop. Its properties name the task definition revision, which changes with the image or the baked config,
so each such deploy migrates once; the service depends on it, and a failed migration fails the deploy.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Aws, CustomResource, Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import custom_resources as cr
from constructs import Construct

from .common import logical_id, suppress

#: Poll the task every QUERY_INTERVAL, up to TOTAL_TIMEOUT (Fargate start + LiteLLM's migrations + retries).
QUERY_INTERVAL = Duration.seconds(15)
TOTAL_TIMEOUT = Duration.minutes(30)
_HANDLER_DIR = Path(__file__).parent / "migration_runner"


class DatabaseMigrations(Construct):
    """``run`` is the custom resource the ECS service depends on."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: ecs.ICluster,
        task_definition: ecs.FargateTaskDefinition,
        subnets: list[ec2.ISubnet],
        security_group: ec2.ISecurityGroup,
    ) -> None:
        super().__init__(scope, construct_id)
        code = lambda_.Code.from_asset(str(_HANDLER_DIR))
        start = lambda_.Function(
            self,
            "Start",
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="handler.on_event",
            code=code,
            timeout=Duration.seconds(60),
            description="Starts LiteLLM's database migration task (one per deploy)",
        )
        check = lambda_.Function(
            self,
            "Check",
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="handler.is_complete",
            code=code,
            timeout=Duration.seconds(30),
            description="Reports whether LiteLLM's database migration task succeeded",
        )
        start.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ecs:RunTask"],
                resources=[task_definition.task_definition_arn],
                conditions={"ArnEquals": {"ecs:cluster": cluster.cluster_arn}},
            )
        )
        roles = [task_definition.task_role, task_definition.obtain_execution_role()]
        start.add_to_role_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[role.role_arn for role in roles],
                conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            )
        )
        tasks_arn = f"arn:{Aws.PARTITION}:ecs:{Aws.REGION}:{Aws.ACCOUNT_ID}:task/{cluster.cluster_name}/*"
        check.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ecs:DescribeTasks"],
                resources=[tasks_arn],
                conditions={"ArnEquals": {"ecs:cluster": cluster.cluster_arn}},
            )
        )
        provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=start,
            is_complete_handler=check,
            query_interval=QUERY_INTERVAL,
            total_timeout=TOTAL_TIMEOUT,
        )
        self.run = CustomResource(
            self,
            "Run",
            service_token=provider.service_token,
            resource_type="Custom::LiteLLMMigrations",
            properties={
                "Cluster": cluster.cluster_arn,
                "TaskDefinition": task_definition.task_definition_arn,
                "Subnets": [subnet.subnet_id for subnet in subnets],
                "SecurityGroups": [security_group.security_group_id],
            },
        )
        managed = "arn:<AWS::Partition>:iam::aws:policy/service-role"
        suppress(
            self,
            {
                f"AwsSolutions-IAM4[Policy::{managed}/AWSLambdaBasicExecutionRole]": "AWS-maintained minimum "
                "for a function's own CloudWatch logs (the two handlers and the provider framework's functions).",
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/"
                f"<{logical_id(cluster)}>/*]": "DescribeTasks on this cluster's tasks only (the migration "
                "task's ARN is known only at run time); read-only.",
                **{
                    f"AwsSolutions-IAM5[Resource::<{logical_id(fn)}.Arn>:*]": "The CDK provider framework invokes "
                    "this handler's versions (lambda:InvokeFunction on the function ARN and its qualifiers only)."
                    for fn in (start, check, *provider_functions(provider))
                },
                "AwsSolutions-SF1": "The provider framework's waiter only polls the migration task; the "
                "handlers log to CloudWatch and a failure is reported in the CloudFormation event.",
                "AwsSolutions-SF2": "Tracing the provider framework's waiter loop would show nothing the "
                "CloudFormation events and the handlers' logs do not.",
            },
        )


def provider_functions(provider: cr.Provider) -> list[lambda_.Function]:
    """The provider framework's own Lambda functions (their ARNs appear in its waiter's policy)."""
    return [
        child
        for child in provider.node.find_all()
        if isinstance(child, lambda_.Function) and child.node.id.startswith("framework-")
    ]

"""LiteLLM on ECS Fargate behind an internal Application Load Balancer.

The image is ``litellm_service/Dockerfile`` (the pinned official LiteLLM image plus our start-up script)
with the chosen config baked in: ``config/config.yaml`` when present, else ``config/default-config.yaml``.
At start-up ``render_config.py`` injects the S3 log bucket, the region and LangSmith.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from .cache import Cache
from .common import logical_id, retention, suppress
from .data import LogBucket
from .database import DATABASE_NAME, DATABASE_PORT, Database
from .migrations import DatabaseMigrations
from .network import Network
from .secrets import GatewaySecrets
from .settings import Settings

LITELLM_PORT = 4000
HEALTH_PATH = "/health/liveliness"

# Streams of up to 15 minutes survive a deploy or a scale-in (docs/operations.md, "Deploys, scale-in and
# long streams"). ECS first deregisters a stopping task from the target group and waits while the ALB
# drains it (no new requests; open ones continue) for up to DEREGISTRATION_DELAY, then sends SIGTERM and,
# STOP_TIMEOUT later, SIGKILL. LiteLLM's uvicorn stops accepting on SIGTERM and lets open requests run
# for GRACEFUL_SHUTDOWN_TIMEOUT before cancelling them, leaving the rest for its own teardown.
#: ALB draining of a deregistered task: the longest stream (the api function's 900 s timeout).
DEREGISTRATION_DELAY = Duration.seconds(900)
#: The Fargate maximum (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html).
STOP_TIMEOUT = Duration.seconds(120)
#: LiteLLM's GRACEFUL_SHUTDOWN_TIMEOUT: below STOP_TIMEOUT so teardown (DB pool, logs) finishes before SIGKILL.
GRACEFUL_SHUTDOWN_SECONDS = 105
#: With more than one worker, uvicorn's supervisor pings each worker and kills one that does not answer
#: within this many seconds (uvicorn's default: 5). A LiteLLM worker starting up on a busy vCPU can take
#: longer; with 5 s, a loaded 2-vCPU machine killed and restarted its 2 workers in a loop (docs/performance.md).
WORKER_HEALTHCHECK_SECONDS = 60
_IMAGE_FILES = ("Dockerfile", "entrypoint.sh", "render_config.py", "database_url.py")


def config_path(repo_root: Path) -> Path:
    """The LiteLLM config to deploy: ``config/config.yaml`` if the operator wrote one, else the default."""
    custom = repo_root / "config" / "config.yaml"
    return custom if custom.is_file() else repo_root / "config" / "default-config.yaml"


def stage_image_context(repo_root: Path, cache_root: Path) -> Path:
    """Assemble the Docker build context (image files + the chosen config as ``config.yaml``).

    Staged under ``cache_root/litellm-image-<hash>`` so an unchanged config keeps the same asset hash.
    """
    sources = {name: repo_root / "litellm_service" / name for name in _IMAGE_FILES}
    sources["config.yaml"] = config_path(repo_root)
    missing = [str(p) for p in sources.values() if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"LiteLLM image inputs missing: {', '.join(missing)}")
    digest = hashlib.sha256()
    for name, path in sorted(sources.items()):
        digest.update(name.encode() + b"\0" + path.read_bytes())
    out = cache_root / f"litellm-image-{digest.hexdigest()[:20]}"
    if not out.is_dir():
        staging = cache_root / f".{out.name}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for name, path in sources.items():
            shutil.copy2(path, staging / name)
        staging.rename(out)
    return out


#: What Bedrock's automatic model access needs from the caller on the first invocation of a third-party
#: model: it starts the AWS Marketplace subscription in the background and fails with AccessDeniedException
#: without these (https://docs.aws.amazon.com/bedrock/latest/userguide/model-access.html). The actions have
#: no resource type; AWS documents narrowing them with the ``aws-marketplace:ProductId`` condition key.
MARKETPLACE_ACTIONS = ("aws-marketplace:Subscribe", "aws-marketplace:Unsubscribe", "aws-marketplace:ViewSubscriptions")


def marketplace_statement(product_ids: tuple[str, ...]) -> iam.PolicyStatement:
    """Marketplace subscription rights for Bedrock model access, limited to ``product_ids`` when given."""
    return iam.PolicyStatement(
        sid="BedrockModelAccessMarketplace",
        actions=list(MARKETPLACE_ACTIONS),
        resources=["*"],
        conditions={"ForAnyValue:StringEquals": {"aws-marketplace:ProductId": list(product_ids)}}
        if product_ids
        else None,
    )


def server_environment(settings: Settings) -> dict[str, str]:
    """How LiteLLM's server runs: one uvicorn worker per vCPU, and a graceful shutdown on SIGTERM.

    All are environment variables the pinned ``litellm`` CLI reads: ``NUM_WORKERS`` (``--num_workers``),
    ``GRACEFUL_SHUTDOWN_TIMEOUT`` (uvicorn's ``timeout_graceful_shutdown``) and
    ``TIMEOUT_WORKER_HEALTHCHECK`` (``--timeout_worker_healthcheck``, used with more than one worker).
    """
    return {
        "NUM_WORKERS": str(settings.sizing.litellm_workers),
        "GRACEFUL_SHUTDOWN_TIMEOUT": str(GRACEFUL_SHUTDOWN_SECONDS),
        "TIMEOUT_WORKER_HEALTHCHECK": str(WORKER_HEALTHCHECK_SECONDS),
    }


class LiteLLMService(Construct):
    """Fargate service + internal ALB. ``url`` is what the gateway functions call (``LITELLM_BASE_URL``)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        network: Network,
        secrets: GatewaySecrets,
        database: Database,
        cache: Cache,
        log_bucket: LogBucket,
        image_context: Path,
    ) -> None:
        super().__init__(scope, construct_id)
        sizing = settings.sizing
        vpc = network.vpc

        self.cluster = ecs.Cluster(self, "Cluster", vpc=vpc, container_insights_v2=ecs.ContainerInsights.ENABLED)
        arm = settings.ecs_architecture == "arm64"
        task = ecs.FargateTaskDefinition(
            self,
            "Task",
            cpu=sizing.ecs_cpu,
            memory_limit_mib=sizing.ecs_memory_mib,
            runtime_platform=ecs.RuntimePlatform(
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
                cpu_architecture=ecs.CpuArchitecture.ARM64 if arm else ecs.CpuArchitecture.X86_64,
            ),
        )
        self.log_group = logs.LogGroup(
            self, "Logs", retention=retention(sizing.log_retention_days), removal_policy=RemovalPolicy.DESTROY
        )
        db_secret = database.secret
        container_secrets = {
            "LITELLM_MASTER_KEY": ecs.Secret.from_secrets_manager(secrets.master_key),
            "LITELLM_SALT_KEY": ecs.Secret.from_secrets_manager(secrets.salt_key),
            "DATABASE_USERNAME": ecs.Secret.from_secrets_manager(db_secret, "username"),
            "DATABASE_PASSWORD": ecs.Secret.from_secrets_manager(db_secret, "password"),
            "REDIS_PASSWORD": ecs.Secret.from_secrets_manager(secrets.redis_auth),
            **{name: ecs.Secret.from_secrets_manager(secret) for name, secret in secrets.provider_keys.items()},
        }
        environment = {
            "PORT": str(LITELLM_PORT),
            "AWS_REGION": Stack.of(self).region,
            "LITELLM_LOG_BUCKET": log_bucket.bucket.bucket_name,
            "LITELLM_LOG": settings.log_level,
            "DATABASE_HOST": database.instance.db_instance_endpoint_address,
            "DATABASE_PORT": str(DATABASE_PORT),
            "DATABASE_NAME": DATABASE_NAME,
            "REDIS_HOST": cache.host,
            "REDIS_PORT": cache.port,
            "REDIS_SSL": "true",
            "STORE_MODEL_IN_DB": "True",
            # migrations run once per deploy, before the service's tasks start (migrations.py), not in each task
            "DISABLE_SCHEMA_UPDATE": "true",
        }
        environment |= server_environment(settings)
        if settings.langsmith_project:
            environment["LANGSMITH_PROJECT"] = settings.langsmith_project
        if settings.langsmith_default_run_name:
            environment["LANGSMITH_DEFAULT_RUN_NAME"] = settings.langsmith_default_run_name
        task.add_container(
            "litellm",
            image=ecs.ContainerImage.from_asset(
                str(image_context),
                platform=ecr_assets.Platform.LINUX_ARM64 if arm else ecr_assets.Platform.LINUX_AMD64,
            ),
            port_mappings=[ecs.PortMapping(container_port=LITELLM_PORT)],
            environment=environment,
            secrets=container_secrets,
            logging=ecs.LogDrivers.aws_logs(stream_prefix="litellm", log_group=self.log_group),
            health_check=ecs.HealthCheck(
                command=[
                    "CMD-SHELL",
                    'python3 -c "import urllib.request,sys; urllib.request.urlopen('
                    f"'http://127.0.0.1:{LITELLM_PORT}{HEALTH_PATH}', timeout=4)\" || exit 1",
                ],
                interval=Duration.seconds(30),
                timeout=Duration.seconds(5),
                retries=3,
                start_period=Duration.seconds(120),
            ),
            readonly_root_filesystem=False,
            stop_timeout=STOP_TIMEOUT,
        )
        # Bedrock for the models in the config; S3 writes for the request logs.
        task.add_to_task_role_policy(
            iam.PolicyStatement(
                actions=[
                    "bedrock:InvokeModel",
                    "bedrock:InvokeModelWithResponseStream",
                    "bedrock:ApplyGuardrail",
                ],
                resources=[
                    "arn:aws:bedrock:*::foundation-model/*",
                    f"arn:aws:bedrock:*:{Stack.of(self).account}:inference-profile/*",
                    f"arn:aws:bedrock:*:{Stack.of(self).account}:application-inference-profile/*",
                    f"arn:aws:bedrock:*:{Stack.of(self).account}:guardrail/*",
                ],
            )
        )
        task.add_to_task_role_policy(marketplace_statement(settings.marketplace_product_ids))
        task.add_to_task_role_policy(
            iam.PolicyStatement(actions=["s3:PutObject"], resources=[log_bucket.bucket.arn_for_objects("*")])
        )

        self.alb_security_group = ec2.SecurityGroup(
            self, "AlbSecurityGroup", vpc=vpc, description="Internal ALB in front of LiteLLM", allow_all_outbound=False
        )
        self.task_security_group = ec2.SecurityGroup(
            self, "TaskSecurityGroup", vpc=vpc, description="LiteLLM tasks", allow_all_outbound=True
        )
        self.task_security_group.add_ingress_rule(
            self.alb_security_group, ec2.Port.tcp(LITELLM_PORT), "From the internal ALB only"
        )
        self.alb_security_group.add_egress_rule(
            self.task_security_group, ec2.Port.tcp(LITELLM_PORT), "To the LiteLLM tasks"
        )
        database.allow_from(self.task_security_group)
        cache.allow_from(self.task_security_group)

        private = vpc.select_subnets(subnet_type=network.private.subnet_type, subnets=network.private.subnets)
        self.migrations = DatabaseMigrations(
            self,
            "Migrations",
            cluster=self.cluster,
            task_definition=task,
            subnets=private.subnets,
            security_group=self.task_security_group,
        )
        # the migration task needs the database, its ingress rule, the cache and a route out (image pull)
        self.migrations.run.node.add_dependency(database, cache, private.internet_connectivity_established)

        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=self.cluster,
            task_definition=task,
            desired_count=sizing.ecs_min_tasks,
            min_healthy_percent=100,
            max_healthy_percent=200,
            vpc_subnets=network.private,
            security_groups=[self.task_security_group],
            assign_public_ip=False,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            health_check_grace_period=Duration.seconds(180),
            enable_execute_command=False,
        )
        self.service.node.add_dependency(self.migrations.run)

        self.alb = elbv2.ApplicationLoadBalancer(
            self,
            "Alb",
            vpc=vpc,
            internet_facing=False,
            vpc_subnets=network.private,
            security_group=self.alb_security_group,
            idle_timeout=Duration.seconds(900),
            drop_invalid_header_fields=True,
            deletion_protection=settings.deletion_protection,
        )
        self.alb.log_access_logs(log_bucket.bucket, prefix="alb")
        self.listener = self.alb.add_listener("Http", port=80, open=False)
        self.target_group = self.listener.add_targets(
            "LiteLLM",
            port=LITELLM_PORT,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=[self.service],
            deregistration_delay=DEREGISTRATION_DELAY,
            health_check=elbv2.HealthCheck(
                path=HEALTH_PATH,
                healthy_http_codes="200",
                interval=Duration.seconds(15),
                timeout=Duration.seconds(5),
                healthy_threshold_count=2,
                unhealthy_threshold_count=3,
            ),
        )

        scaling = self.service.auto_scale_task_count(
            min_capacity=sizing.ecs_min_tasks, max_capacity=sizing.ecs_max_tasks
        )
        scaling.scale_on_cpu_utilization("Cpu", target_utilization_percent=sizing.ecs_cpu_target_percent)
        scaling.scale_on_request_count(
            "Requests", requests_per_target=sizing.ecs_requests_per_target, target_group=self.target_group
        )

        self.url = f"http://{self.alb.load_balancer_dns_name}"
        suppress(
            task,
            {
                "AwsSolutions-ECS2": "Only non-secret settings (hosts, ports, names) are plain environment "
                "variables; every credential is injected from Secrets Manager.",
            },
        )
        account = "<AWS::AccountId>"
        suppress(
            task,
            {
                "AwsSolutions-IAM5[Resource::arn:aws:bedrock:*::foundation-model/*]": "Models are chosen in "
                "the LiteLLM config at run time, in any region (cross-region inference); invoke only.",
                f"AwsSolutions-IAM5[Resource::arn:aws:bedrock:*:{account}:inference-profile/*]": "Inference "
                "profiles of this account named in the LiteLLM config; invoke only.",
                f"AwsSolutions-IAM5[Resource::arn:aws:bedrock:*:{account}:application-inference-profile/*]": (
                    "Application inference profiles of this account named in the config; invoke only."
                ),
                f"AwsSolutions-IAM5[Resource::arn:aws:bedrock:*:{account}:guardrail/*]": "Bedrock guardrails "
                "of this account named in the config; ApplyGuardrail only.",
                f"AwsSolutions-IAM5[Resource::<{logical_id(log_bucket.bucket)}.Arn>/*]": "LiteLLM writes one object "
                "per request log under keys it generates; PutObject on the log bucket only.",
                "AwsSolutions-IAM5[Resource::*]": "ecr:GetAuthorizationToken (image pull) and the "
                "aws-marketplace subscription actions Bedrock needs on a third-party model's first use have no "
                "resource-level permissions (BEDROCK_MARKETPLACE_PRODUCT_IDS narrows the latter by product id).",
            },
        )

    def allow_from(self, peer: ec2.ISecurityGroup, description: str) -> None:
        """Let ``peer`` (the gateway functions, the VPC link) reach the ALB listener."""
        self.alb_security_group.add_ingress_rule(peer, ec2.Port.tcp(80), description)

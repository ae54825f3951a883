"""The one stack: composes the constructs and publishes the outputs an operator needs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import App, CfnOutput, Environment, Stack, Tags, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from .api import GatewayApi
from .cache import Cache
from .data import ChatHistory, LogBucket
from .database import Database
from .functions import GatewayFunctions, OpsFunction
from .layer_build import build_layer
from .litellm_service import LiteLLMService, stage_image_context
from .network import Network
from .observability import Observability
from .secrets import GatewaySecrets
from .settings import Settings, SettingsError

DELETION_PROTECTION_ON = "on (ALB, database, history table)"
#: Off on a first deploy so that a failure rolls back cleanly; the output tells the operator what to do next.
DELETION_PROTECTION_OFF = (
    "OFF: once this first deploy has succeeded, set DELETION_PROTECTION=true in .env and run make deploy "
    "again (docs/deploy.md, First deploy)"
)


@dataclass(frozen=True)
class SourcePaths:
    """Where the stack finds what it deploys (all under the repository root by default)."""

    root: Path

    @property
    def layer_src(self) -> Path:
        return self.root / "layers" / "gateway"

    @property
    def functions(self) -> Path:
        return self.root / "functions"

    @property
    def build_cache(self) -> Path:
        return self.root / ".local" / "cdk-build"


def stack_environment(settings: Settings) -> Environment:
    """Region always (the LWA layer ARN and ALB log delivery need it); account when the CLI knows it."""
    if settings.existing_vpc_id and not settings.account:
        raise SettingsError(
            "EXISTING_VPC_ID",
            "looking up a VPC needs the target account: run through the CDK CLI with credentials "
            "(make deploy / cdk synth) or set CDK_DEFAULT_ACCOUNT",
        )
    return Environment(account=settings.account, region=settings.region)


class GatewayStack(Stack):
    """Network, secrets, data stores, LiteLLM on ECS, the gateway functions, the API and observability."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, paths: SourcePaths) -> None:
        super().__init__(
            scope,
            construct_id,
            env=stack_environment(settings),
            description="GenAI Gateway: LiteLLM on ECS + OpenAI/Bedrock Converse middleware on Lambda",
        )
        Tags.of(self).add("project", "genai-gateway")

        network = Network(self, "Network", settings=settings)
        secrets = GatewaySecrets(self, "Secrets", settings=settings)
        history = ChatHistory(self, "ChatHistory", settings=settings)
        log_bucket = LogBucket(self, "RequestLogs", settings=settings)
        database = Database(self, "Database", settings=settings, network=network)
        cache = Cache(self, "Cache", settings=settings, network=network, secrets=secrets)
        litellm = LiteLLMService(
            self,
            "LiteLLM",
            settings=settings,
            network=network,
            secrets=secrets,
            database=database,
            cache=cache,
            log_bucket=log_bucket,
            image_context=stage_image_context(paths.root, paths.build_cache),
        )
        functions = GatewayFunctions(
            self,
            "Functions",
            settings=settings,
            network=network,
            secrets=secrets,
            history=history,
            litellm_url=litellm.url,
            layer_dir=build_layer(paths.layer_src, paths.build_cache, settings.architecture),
            functions_dir=paths.functions,
        )
        ops = OpsFunction(
            self,
            "Ops",
            settings=settings,
            network=network,
            secrets=secrets,
            history=history,
            functions=functions,
            litellm_url=litellm.url,
            cluster_name=litellm.cluster.cluster_name,
            service_arn=litellm.service.service_arn,
            service_name=litellm.service.service_name,
            functions_dir=paths.functions,
        )
        api = GatewayApi(self, "Api", settings=settings, network=network, functions=functions, litellm=litellm)
        Observability(
            self,
            "Observability",
            settings=settings,
            api=api,
            functions=functions,
            litellm=litellm,
            history=history,
            database=database,
            cache=cache,
        )

        CfnOutput(self, "ServiceURL", value=api.url, description="Base URL of the gateway (OpenAI: <url>v1)")
        CfnOutput(
            self,
            "MasterKeySecretArn",
            value=secrets.master_key.secret_arn,
            description="LiteLLM master key: aws secretsmanager get-secret-value --secret-id <arn>",
        )
        CfnOutput(
            self, "OpsFunctionName", value=ops.function.function_name, description="Operator tasks: docs/operations.md"
        )
        CfnOutput(self, "HistoryTableName", value=history.table.table_name)
        CfnOutput(self, "LogBucketName", value=log_bucket.bucket.bucket_name)
        CfnOutput(self, "DashboardName", value=f"{settings.stack_name}-gateway")
        CfnOutput(
            self,
            "DeletionProtection",
            value=DELETION_PROTECTION_ON if settings.deletion_protection else DELETION_PROTECTION_OFF,
            description="Deletion protection of the ALB, the database and the history table",
        )
        if api.domain is not None:
            CfnOutput(
                self,
                "CustomDomainTarget",
                value=api.domain.domain_name_alias_domain_name,
                description=f"Point {settings.domain_name} here (CNAME or Route 53 alias)",
            )


def feature_flags(root: Path) -> dict[str, object]:
    """The ``context`` of ``cdk.json``, so a direct run and a CLI run synthesize the same template."""
    return json.loads((root / "cdk.json").read_text()).get("context", {})


def build_app(settings: Settings, root: Path, outdir: str | None = None) -> tuple[App, GatewayStack]:
    """The app: the one stack, with cdk-nag's AwsSolutions pack as a validation plugin.

    ``app.synth()`` fails on any unacknowledged finding.
    """
    app = App(context=feature_flags(root), outdir=outdir)
    stack = GatewayStack(app, settings.stack_name, settings=settings, paths=SourcePaths(root))
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack

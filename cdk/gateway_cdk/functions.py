"""The gateway's Lambda functions (``functions/api`` and ``functions/authorizer``) and their layers.

* ``api``: the ASGI middleware behind the Lambda Web Adapter (``run.sh`` starts uvicorn on :8080), with
  response streaming, read/write on the chat-history table and ``bedrock:GetPrompt``.
* ``authorizer``: the API Gateway REQUEST authorizer (``handler.handler``); no table access.

Both share the ``gateway`` layer built at synth time by :mod:`gateway_cdk.layer_build` (no Docker), run
python3.13 in the VPC's private subnets and read their secrets at runtime by ARN.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from .common import logical_id, retention, suppress
from .data import ChatHistory
from .network import Network
from .secrets import GatewaySecrets
from .settings import Settings

#: Lambda Web Adapter layer (github.com/awslabs/aws-lambda-web-adapter), published by AWS in every
#: commercial region under the same version number. Override with LWA_LAYER_ARN.
LWA_ACCOUNT = "753240598075"
LWA_VERSION = 30
LWA_LAYER_NAMES = {"arm64": "LambdaAdapterLayerArm64", "x86_64": "LambdaAdapterLayerX86"}
API_PORT = 8080
READINESS_PATH = "/gateway/health"
SERVICE_NAME = "genai-gateway"


def lwa_layer_arn(region: str, architecture: str) -> str:
    """The pinned Lambda Web Adapter layer version ARN for ``region`` and ``architecture``."""
    return f"arn:aws:lambda:{region}:{LWA_ACCOUNT}:layer:{LWA_LAYER_NAMES[architecture]}:{LWA_VERSION}"


def _code_dir(path: Path, required: tuple[str, ...]) -> str:
    missing = [name for name in required if not (path / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{path} must contain {', '.join(missing)} (Lambda function code)")
    return str(path)


_MANAGED = "arn:<AWS::Partition>:iam::aws:policy/service-role"


def gateway_function(
    scope: Construct,
    name: str,
    *,
    settings: Settings,
    network: Network,
    security_group: ec2.ISecurityGroup,
    architecture: lambda_.Architecture,
    **kwargs: object,
) -> lambda_.Function:
    """A function of the gateway: python3.13 (what the layer is built for), in the private subnets,
    traced, with a log group of its own (``<name>Logs``) and the cdk-nag acknowledgements every such
    function shares."""
    log_group = logs.LogGroup(
        scope,
        f"{name}Logs",
        retention=retention(settings.sizing.log_retention_days),
        removal_policy=RemovalPolicy.DESTROY,
    )
    fn = lambda_.Function(
        scope,
        name,
        runtime=lambda_.Runtime.PYTHON_3_13,
        architecture=architecture,
        vpc=network.vpc,
        vpc_subnets=network.private,
        security_groups=[security_group],
        tracing=lambda_.Tracing.ACTIVE,
        log_group=log_group,
        **kwargs,  # type: ignore[arg-type]
    )
    suppress(
        fn,
        {
            f"AwsSolutions-IAM4[Policy::{_MANAGED}/AWSLambdaBasicExecutionRole]": "AWS-maintained "
            "minimum for writing the function's own logs.",
            f"AwsSolutions-IAM4[Policy::{_MANAGED}/AWSLambdaVPCAccessExecutionRole]": "AWS-maintained "
            "minimum for the ENIs a VPC function needs.",
            "AwsSolutions-IAM5[Resource::*]": "X-Ray PutTraceSegments/PutTelemetryRecords (active "
            "tracing) support no resource-level permissions.",
            "AwsSolutions-L1": "python3.13 is the runtime the gateway layer is built and tested for "
            "(layer_build.PYTHON_VERSION); moving runtimes is a deliberate, tested change.",
        },
    )
    return fn


class GatewayFunctions(Construct):
    """Both functions; ``api_target`` is what API Gateway integrates (an alias when provisioned)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        network: Network,
        secrets: GatewaySecrets,
        history: ChatHistory,
        litellm_url: str,
        layer_dir: Path,
        functions_dir: Path,
    ) -> None:
        super().__init__(scope, construct_id)
        sizing = settings.sizing
        stack = Stack.of(self)
        arch = lambda_.Architecture.ARM_64 if settings.architecture == "arm64" else lambda_.Architecture.X86_64
        self.layer = lambda_.LayerVersion(
            self,
            "GatewayLayer",
            code=lambda_.Code.from_asset(str(layer_dir)),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_13],
            compatible_architectures=[arch],
            description="gateway package + runtime dependencies (layers/gateway)",
            removal_policy=RemovalPolicy.DESTROY,
        )
        adapter = lambda_.LayerVersion.from_layer_version_arn(
            self,
            "WebAdapterLayer",
            settings.lwa_layer_arn or lwa_layer_arn(stack.region, settings.architecture),
        )
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=network.vpc, description="Gateway functions", allow_all_outbound=True
        )

        common_env = {
            "LITELLM_BASE_URL": litellm_url,
            "LITELLM_MASTER_KEY_SECRET_ARN": secrets.master_key.secret_arn,
            "GATEWAY_HASH_SALT_SECRET_ARN": secrets.hash_salt.secret_arn,
            "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
            "LOG_LEVEL": settings.log_level,
        }
        if settings.okta_issuer and settings.okta_audience:
            common_env |= {"OKTA_ISSUER": settings.okta_issuer, "OKTA_AUDIENCE": settings.okta_audience}
            common_env |= dict(settings.okta_options)

        def function(name: str, **kwargs: object) -> lambda_.Function:
            fn = gateway_function(
                self, name, settings=settings, network=network, security_group=self.security_group,
                architecture=arch, **kwargs,
            )  # fmt: skip
            secrets.master_key.grant_read(fn)
            secrets.hash_salt.grant_read(fn)
            return fn

        self.api = function(
            "Api",
            description="OpenAI + Bedrock Converse middleware (ASGI app behind the Lambda Web Adapter)",
            code=lambda_.Code.from_asset(_code_dir(functions_dir / "api", ("main.py", "run.sh"))),
            handler="run.sh",
            layers=[self.layer, adapter],
            memory_size=sizing.lambda_memory_mib,
            timeout=Duration.seconds(sizing.lambda_timeout_seconds),
            reserved_concurrent_executions=sizing.api_reserved_concurrency,
            environment={
                **common_env,
                "GATEWAY_AUTH_MODE": "apigateway",
                "HISTORY_TABLE_NAME": history.table.table_name,
                "HISTORY_TTL_DAYS": str(settings.history_ttl_days),
                **({"BEDROCK_MODEL_ALIASES": settings.bedrock_model_aliases} if settings.bedrock_model_aliases else {}),
                "UI_ACCESS": "on" if settings.ui_access else "off",  # the admin UI's routes (api.UI_ROUTES)
                **({"GUARDRAIL_MAP": settings.guardrail_map} if settings.guardrail_map else {}),
                "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
                "AWS_LWA_INVOKE_MODE": "response_stream",
                "AWS_LWA_READINESS_CHECK_PATH": READINESS_PATH,
                "PORT": str(API_PORT),
            },
        )
        history.table.grant_read_write_data(self.api)
        self.api.add_to_role_policy(
            iam.PolicyStatement(
                actions=["bedrock:GetPrompt"],
                resources=[f"arn:aws:bedrock:*:{stack.account}:prompt/*"],
            )
        )
        self.api_target: lambda_.IFunction = self.api
        if sizing.api_provisioned_concurrency > 0:
            self.api_target = lambda_.Alias(
                self,
                "ApiLive",
                alias_name="live",
                version=self.api.current_version,
                provisioned_concurrent_executions=sizing.api_provisioned_concurrency,
            )

        self.authorizer = function(
            "Authorizer",
            description="API Gateway REQUEST authorizer: JWT (OIDC) or LiteLLM key -> principal",
            code=lambda_.Code.from_asset(_code_dir(functions_dir / "authorizer", ("handler.py",))),
            handler="handler.handler",
            layers=[self.layer],
            memory_size=512,
            timeout=Duration.seconds(10),
            reserved_concurrent_executions=sizing.authorizer_reserved_concurrency,
            environment={**common_env, "GATEWAY_AUTH_MODE": "inline"},
        )

        suppress(
            self.api,
            {
                f"AwsSolutions-IAM5[Resource::<{logical_id(history.table)}.Arn>/index/*]": "Query on the "
                "history table's own owner-index (CDK grants its indexes as index/*).",
                "AwsSolutions-IAM5[Resource::arn:aws:bedrock:*:<AWS::AccountId>:prompt/*]": "A request "
                "names any managed prompt of this account by ARN (bedrock:GetPrompt only, this account only).",
            },
        )


class OpsFunction(Construct):
    """The ``ops`` function (``functions/ops``): console test events for the everyday admin tasks.

    Least privilege: read the master key secret and write it (rotation); read and delete items of the
    history table (export/purge, DynamoDB health); force a deployment of the one LiteLLM service; give
    the two gateway functions fresh execution environments after a rotation. Nothing else: no hash
    salt, no other secret, no Bedrock.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        network: Network,
        secrets: GatewaySecrets,
        history: ChatHistory,
        functions: GatewayFunctions,
        litellm_url: str,
        cluster_name: str,
        service_arn: str,
        service_name: str,
        functions_dir: Path,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        gateway_functions: list[dict[str, str]] = [{"name": functions.authorizer.function_name}]
        api_entry = {"name": functions.api.function_name}
        if isinstance(functions.api_target, lambda_.Alias):
            api_entry["alias"] = functions.api_target.alias_name
        gateway_functions.append(api_entry)
        self.function = gateway_function(
            self,
            "Function",
            settings=settings,
            network=network,
            security_group=functions.security_group,  # the security group the ALB admits
            architecture=functions.api.architecture,
            description="Operator tasks from Lambda console test events (health, users, keys, spend, "
            "history export/purge, master-key rotation)",
            code=lambda_.Code.from_asset(_code_dir(functions_dir / "ops", ("handler.py",))),
            handler="handler.handler",
            layers=[functions.layer],
            memory_size=512,
            timeout=Duration.minutes(15),  # a rotation waits for the new LiteLLM tasks
            reserved_concurrent_executions=2,
            environment={
                "LITELLM_BASE_URL": litellm_url,
                "LITELLM_MASTER_KEY_SECRET_ARN": secrets.master_key.secret_arn,
                "HISTORY_TABLE_NAME": history.table.table_name,
                "OPS_ECS_CLUSTER": cluster_name,
                "OPS_ECS_SERVICE": service_name,
                "OPS_GATEWAY_FUNCTIONS": stack.to_json_string(gateway_functions),
                "POWERTOOLS_SERVICE_NAME": f"{SERVICE_NAME}-ops",
                "LOG_LEVEL": settings.log_level,
            },
        )
        fn = self.function
        secrets.master_key.grant_read(fn)
        fn.add_to_role_policy(
            iam.PolicyStatement(actions=["secretsmanager:PutSecretValue"], resources=[secrets.master_key.secret_arn])
        )
        history.table.grant(
            fn,
            "dynamodb:DescribeTable",
            "dynamodb:Query",
            "dynamodb:GetItem",
            "dynamodb:DeleteItem",
            "dynamodb:BatchWriteItem",
        )
        fn.add_to_role_policy(
            iam.PolicyStatement(actions=["ecs:UpdateService", "ecs:DescribeServices"], resources=[service_arn])
        )
        targets = [functions.api, functions.authorizer]
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=[
                    "lambda:GetFunctionConfiguration",
                    "lambda:UpdateFunctionConfiguration",
                    "lambda:PublishVersion",
                ],
                resources=[t.function_arn for t in targets],
            )
        )
        if "alias" in api_entry:
            fn.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["lambda:UpdateAlias"],
                    resources=[f"{functions.api.function_arn}:{api_entry['alias']}"],
                )
            )
        suppress(
            fn,
            {
                f"AwsSolutions-IAM5[Resource::<{logical_id(history.table)}.Arn>/index/*]": "export/purge query "
                "the history table's own owner-index (CDK grants its indexes as index/*).",
            },
        )

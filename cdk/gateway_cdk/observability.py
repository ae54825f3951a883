"""Observability: one CloudWatch dashboard and the alarms an operator acts on.

Alarms: API 5xx rate, API p99 latency, Lambda throttles, ECS unhealthy targets (and running tasks below
the minimum), DynamoDB throttles. With ``ALARM_EMAIL`` set they notify an SNS topic (TLS-only) with that
address subscribed.

The topic is encrypted with a customer-managed KMS key, not ``alias/aws/sns``: CloudWatch publishes to an
encrypted topic only if the key policy lets ``cloudwatch.amazonaws.com`` call ``kms:Decrypt`` and
``kms:GenerateDataKey*``, and the policy of an AWS-managed key cannot be changed, so under ``alias/aws/sns``
no alarm would ever be delivered
(https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from .api import GatewayApi
from .data import ChatHistory
from .functions import GatewayFunctions
from .litellm_service import LiteLLMService
from .settings import Settings

FIVE_XX_RATE_THRESHOLD = 0.05
P99_LATENCY_THRESHOLD_MS = 60_000
PERIOD = Duration.minutes(5)


class Observability(Construct):
    """Dashboard + alarms; ``topic`` is the SNS topic (``None`` without ``ALARM_EMAIL``)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        api: GatewayApi,
        functions: GatewayFunctions,
        litellm: LiteLLMService,
        history: ChatHistory,
    ) -> None:
        super().__init__(scope, construct_id)
        stage = api.rest_api.deployment_stage
        five_xx = stage.metric_server_error(period=PERIOD, statistic="Average")
        latency = stage.metric_latency(period=PERIOD, statistic="p99")
        requests = stage.metric_count(period=PERIOD, statistic="Sum")
        unhealthy = litellm.target_group.metrics.unhealthy_host_count(period=PERIOD, statistic="Maximum")
        running = cw.Metric(
            namespace="ECS/ContainerInsights",
            metric_name="RunningTaskCount",
            dimensions_map={
                "ClusterName": litellm.cluster.cluster_name,
                "ServiceName": litellm.service.service_name,
            },
            period=PERIOD,
            statistic="Minimum",
        )
        table_name = history.table.table_name
        ddb_throttles = cw.MathExpression(
            expression="FILL(r, 0) + FILL(w, 0)",
            using_metrics={
                name: cw.Metric(
                    namespace="AWS/DynamoDB",
                    metric_name=metric,
                    dimensions_map={"TableName": table_name},
                    period=PERIOD,
                    statistic="Sum",
                )
                for name, metric in (("r", "ReadThrottleEvents"), ("w", "WriteThrottleEvents"))
            },
            label="DynamoDB throttle events",
            period=PERIOD,
        )

        self.alarms: list[cw.Alarm] = [
            five_xx.create_alarm(
                self,
                "Api5xxRate",
                alarm_description=f"More than {FIVE_XX_RATE_THRESHOLD:.0%} of API requests end in 5xx.",
                threshold=FIVE_XX_RATE_THRESHOLD,
                evaluation_periods=3,
                datapoints_to_alarm=2,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            ),
            latency.create_alarm(
                self,
                "ApiP99Latency",
                alarm_description=f"API p99 latency above {P99_LATENCY_THRESHOLD_MS} ms.",
                threshold=P99_LATENCY_THRESHOLD_MS,
                evaluation_periods=3,
                datapoints_to_alarm=2,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            ),
            unhealthy.create_alarm(
                self,
                "EcsUnhealthyTargets",
                alarm_description="LiteLLM tasks fail the ALB health check.",
                threshold=0,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=3,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            ),
            running.create_alarm(
                self,
                "EcsRunningTasksLow",
                alarm_description="Fewer LiteLLM tasks run than ECS_MIN_TASKS.",
                threshold=settings.sizing.ecs_min_tasks,
                comparison_operator=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
                evaluation_periods=3,
                treat_missing_data=cw.TreatMissingData.BREACHING,
            ),
            ddb_throttles.create_alarm(
                self,
                "HistoryTableThrottles",
                alarm_description="The chat-history table throttles reads or writes.",
                threshold=0,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            ),
        ]
        fns: dict[str, lambda_.IFunction] = {"Api": functions.api, "Authorizer": functions.authorizer}
        for name, fn in fns.items():
            self.alarms.append(
                fn.metric_throttles(period=PERIOD, statistic="Sum").create_alarm(
                    self,
                    f"{name}FunctionThrottles",
                    alarm_description=f"The {name.lower()} function is throttled (concurrency exhausted).",
                    threshold=0,
                    comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                    evaluation_periods=1,
                    treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
                )
            )

        self.topic: sns.Topic | None = None
        if settings.alarm_email:
            self.topic_key = alarm_topic_key(self)
            self.topic = sns.Topic(
                self,
                "AlarmTopic",
                display_name=f"{settings.stack_name} alarms",
                enforce_ssl=True,
                master_key=self.topic_key,
            )
            self.topic.add_subscription(subscriptions.EmailSubscription(settings.alarm_email))
            for alarm in self.alarms:
                alarm.add_alarm_action(cw_actions.SnsAction(self.topic))
                alarm.add_ok_action(cw_actions.SnsAction(self.topic))

        self.dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=f"{settings.stack_name}-gateway")
        self.dashboard.add_widgets(
            cw.GraphWidget(title="API requests", left=[requests], width=8),
            cw.GraphWidget(title="API 5xx rate", left=[five_xx], width=8),
            cw.GraphWidget(title="API p99 latency (ms)", left=[latency], width=8),
        )
        self.dashboard.add_widgets(
            cw.GraphWidget(
                title="Lambda invocations / errors / throttles",
                left=[m for fn in fns.values() for m in (fn.metric_invocations(), fn.metric_errors())],
                right=[fn.metric_throttles() for fn in fns.values()],
                width=8,
            ),
            cw.GraphWidget(
                title="Lambda p99 duration", left=[fn.metric_duration(statistic="p99") for fn in fns.values()], width=8
            ),
            cw.GraphWidget(
                title="LiteLLM tasks",
                left=[running, unhealthy],
                right=[litellm.service.metric_cpu_utilization(), litellm.service.metric_memory_utilization()],
                width=8,
            ),
        )
        self.dashboard.add_widgets(
            cw.GraphWidget(
                title="ALB requests / 5xx",
                left=[litellm.alb.metrics.request_count()],
                right=[litellm.alb.metrics.http_code_target(code=elbv2.HttpCodeTarget.TARGET_5XX_COUNT)],
                width=12,
            ),
            cw.GraphWidget(title="Chat-history throttles", left=[ddb_throttles], width=12),
            cw.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms), width=24),
        )


def alarm_topic_key(scope: Construct) -> kms.Key:
    """A rotating customer-managed key CloudWatch alarms in this account and region may use for the topic.

    Conditions per AWS's confused-deputy guidance: the service acts for this account's alarms only.
    """
    stack = Stack.of(scope)
    alarms = f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}:alarm:*"
    key = kms.Key(
        scope,
        "AlarmTopicKey",
        description="Encrypts the alarm SNS topic; usable by CloudWatch alarms of this account",
        enable_key_rotation=True,
        pending_window=Duration.days(7),
        removal_policy=RemovalPolicy.DESTROY,  # holds no data at rest beyond undelivered notifications
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchAlarmsToPublish",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],  # in a key policy, "*" is this key
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {"aws:SourceArn": alarms},
            },
        )
    )
    return key

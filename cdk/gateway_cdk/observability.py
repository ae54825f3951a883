"""Observability: one CloudWatch dashboard and the alarms an operator acts on.

Every alarm has a runbook entry in ``docs/operations.md`` (section "Alarms"); the alarm's description
names it. Alarms: API 5xx rate; model latency (p99 time to first byte of streams, p99 total latency of
synchronous calls, from the middleware's per-route EMF metrics, so a long healthy stream never looks
slow); errors and throttles of each gateway function; ALB and target 5xx rates; ECS unhealthy targets
and running tasks below the minimum; RDS CPU, free storage and connections; Redis engine CPU and memory;
DynamoDB throttles. With ``ALARM_EMAIL`` set they notify an SNS topic (TLS-only) with that address
subscribed.

The topic is encrypted with a customer-managed KMS key, not ``alias/aws/sns``: CloudWatch publishes to an
encrypted topic only if the key policy lets ``cloudwatch.amazonaws.com`` call ``kms:Decrypt`` and
``kms:GenerateDataKey*``, and the policy of an AWS-managed key cannot be changed, so under ``alias/aws/sns``
no alarm would ever be delivered
(https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
"""

from __future__ import annotations

from aws_cdk import Duration, Fn, RemovalPolicy, Stack
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
from .cache import Cache
from .data import ChatHistory
from .database import Database
from .functions import SERVICE_NAME, GatewayFunctions
from .litellm_service import LiteLLMService
from .settings import Settings

PERIOD = Duration.minutes(5)
RUNBOOK = "Runbook: docs/operations.md, Alarms, "
FIVE_XX_RATE_THRESHOLD = 0.05
#: ALB / target 5xx: percent of requests, judged only in periods with at least this many requests.
ALB_5XX_PERCENT = 5
ALB_MIN_REQUESTS = 20
#: Function errors (crashes, timeouts; not HTTP 5xx answers) per 5 minutes.
FUNCTION_ERRORS_THRESHOLD = 5
#: Model latency: p99 time to first byte of a stream, p99 total latency of a synchronous call (ms).
TTFB_P99_THRESHOLD_MS = 30_000
SYNC_P99_THRESHOLD_MS = 120_000
#: The middleware's per-route metrics (layers/gateway/gateway/web/metrics.py): namespace, names, families.
METRICS_NAMESPACE = "GenAIGateway"
TIME_TO_FIRST_BYTE = "TimeToFirstByte"
LATENCY = "Latency"
MODEL_ROUTE_FAMILIES = ("chat", "converse", "invoke", "completions", "embeddings", "responses", "messages")
OTHER_ROUTE_FAMILIES = ("history", "bedrock-control", "account", "litellm")
RDS_CPU_PERCENT = 80
REDIS_ENGINE_CPU_PERCENT = 80
REDIS_MEMORY_PERCENT = 80


def route_metric(name: str, family: str, statistic: str = "p99") -> cw.Metric:
    """A per-route EMF metric of the middleware (dimensions ``service`` and ``route``)."""
    return cw.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"service": SERVICE_NAME, "route": family},
        period=PERIOD,
        statistic=statistic,
        label=f"{family} {name} {statistic}",
    )


def worst_of(name: str, label: str) -> cw.MathExpression:
    """The highest p99 of ``name`` across the model route families (one alarm for all of them)."""
    metrics = {f"m{i}": route_metric(name, family) for i, family in enumerate(MODEL_ROUTE_FAMILIES)}
    return cw.MathExpression(
        expression=f"MAX([{', '.join(metrics)}])", using_metrics=metrics, label=label, period=PERIOD
    )


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
        database: Database,
        cache: Cache,
    ) -> None:
        super().__init__(scope, construct_id)
        stage = api.rest_api.deployment_stage
        five_xx = stage.metric_server_error(period=PERIOD, statistic="Average")
        integration_latency = stage.metric_latency(period=PERIOD, statistic="p99")
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
        ttfb = worst_of(TIME_TO_FIRST_BYTE, "Worst p99 time to first byte of streams (ms)")
        sync_latency = worst_of(LATENCY, "Worst p99 latency of synchronous model calls (ms)")
        alb_requests = litellm.alb.metrics.request_count(period=PERIOD, statistic="Sum")
        alb_5xx = self._percent_of_requests(
            litellm.alb.metrics.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT, period=PERIOD, statistic="Sum"),
            alb_requests,
            "ALB-generated 5xx (% of requests)",
            "elb",
        )
        target_5xx = self._percent_of_requests(
            litellm.alb.metrics.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=PERIOD, statistic="Sum"),
            alb_requests,
            "LiteLLM 5xx (% of requests)",
            "target",
        )
        db = database.instance
        db_cpu = db.metric_cpu_utilization(period=PERIOD, statistic="Average")
        db_free = db.metric_free_storage_space(period=PERIOD, statistic="Minimum")
        db_connections = db.metric_database_connections(period=PERIOD, statistic="Maximum")
        redis_cpu = self._redis_worst(cache, settings, "EngineCPUUtilization", "Redis engine CPU % (busiest node)")
        redis_memory = self._redis_worst(
            cache, settings, "DatabaseMemoryUsagePercentage", "Redis memory used % (fullest node)"
        )
        sizing = settings.sizing
        free_storage_bytes = max(1.0, sizing.db_allocated_storage_gib * 0.05) * 1024**3

        def alarm(
            metric: cw.IMetric,
            alarm_id: str,
            description: str,
            threshold: float,
            *,
            comparison: cw.ComparisonOperator = cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            periods: int = 3,
            datapoints: int = 2,
            missing: cw.TreatMissingData = cw.TreatMissingData.NOT_BREACHING,
        ) -> cw.Alarm:
            return metric.create_alarm(
                self,
                alarm_id,
                alarm_description=f"{description} {RUNBOOK}{alarm_id}.",
                threshold=threshold,
                comparison_operator=comparison,
                evaluation_periods=periods,
                datapoints_to_alarm=datapoints,
                treat_missing_data=missing,
            )

        self.alarms: list[cw.Alarm] = [
            alarm(
                five_xx,
                "Api5xxRate",
                f"More than {FIVE_XX_RATE_THRESHOLD:.0%} of API requests end in 5xx.",
                FIVE_XX_RATE_THRESHOLD,
                comparison=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            ),
            alarm(
                ttfb,
                "StreamTimeToFirstByte",
                f"p99 time to first byte of streamed model answers above {TTFB_P99_THRESHOLD_MS} ms "
                "(measured by the middleware; the length of a stream does not count).",
                TTFB_P99_THRESHOLD_MS,
            ),
            alarm(
                sync_latency,
                "SyncLatency",
                f"p99 latency of synchronous (not streamed) model calls above {SYNC_P99_THRESHOLD_MS} ms.",
                SYNC_P99_THRESHOLD_MS,
            ),
            alarm(
                alb_5xx,
                "Alb5xxRate",
                f"The internal ALB itself answers more than {ALB_5XX_PERCENT}% of requests with 5xx "
                "(no healthy task, connection refused or reset by a task, idle timeout).",
                ALB_5XX_PERCENT,
            ),
            alarm(
                target_5xx,
                "LiteLLM5xxRate",
                f"LiteLLM answers more than {ALB_5XX_PERCENT}% of requests with 5xx.",
                ALB_5XX_PERCENT,
            ),
            alarm(
                unhealthy,
                "EcsUnhealthyTargets",
                "LiteLLM tasks fail the ALB health check.",
                0,
                datapoints=3,
            ),
            alarm(
                running,
                "EcsRunningTasksLow",
                "Fewer LiteLLM tasks run than ECS_MIN_TASKS.",
                sizing.ecs_min_tasks,
                comparison=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
                datapoints=3,
                missing=cw.TreatMissingData.BREACHING,
            ),
            alarm(
                db_cpu,
                "DatabaseCpuHigh",
                f"The LiteLLM database's CPU is above {RDS_CPU_PERCENT}%.",
                RDS_CPU_PERCENT,
            ),
            alarm(
                db_free,
                "DatabaseStorageLow",
                f"The LiteLLM database has less than {free_storage_bytes / 1024**3:.0f} GiB of free storage.",
                free_storage_bytes,
                comparison=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
                periods=2,
            ),
            alarm(
                db_connections,
                "DatabaseConnectionsHigh",
                f"The LiteLLM database has more than {sizing.db_connections_alarm} open connections.",
                sizing.db_connections_alarm,
            ),
            alarm(
                redis_cpu,
                "RedisCpuHigh",
                f"The Redis engine thread is busier than {REDIS_ENGINE_CPU_PERCENT}%.",
                REDIS_ENGINE_CPU_PERCENT,
            ),
            alarm(
                redis_memory,
                "RedisMemoryHigh",
                f"Redis uses more than {REDIS_MEMORY_PERCENT}% of its memory.",
                REDIS_MEMORY_PERCENT,
            ),
            alarm(
                ddb_throttles,
                "HistoryTableThrottles",
                "The chat-history table throttles reads or writes.",
                0,
                periods=1,
                datapoints=1,
            ),
        ]
        fns = gateway_functions(functions)
        for name, fn in fns.items():
            self.alarms.append(
                alarm(
                    fn.metric_throttles(period=PERIOD, statistic="Sum"),
                    f"{name}FunctionThrottles",
                    f"The {name.lower()} function is throttled (concurrency exhausted).",
                    0,
                    periods=1,
                    datapoints=1,
                )
            )
            self.alarms.append(
                alarm(
                    fn.metric_errors(period=PERIOD, statistic="Sum"),
                    f"{name}FunctionErrors",
                    f"The {name.lower()} function fails (crash or timeout) at least "
                    f"{FUNCTION_ERRORS_THRESHOLD} times in 5 minutes.",
                    FUNCTION_ERRORS_THRESHOLD,
                    comparison=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
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
            for each in self.alarms:
                each.add_alarm_action(cw_actions.SnsAction(self.topic))
                each.add_ok_action(cw_actions.SnsAction(self.topic))

        self.dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=f"{settings.stack_name}-gateway")
        self.dashboard.add_widgets(
            cw.GraphWidget(title="API requests", left=[requests], width=8),
            cw.GraphWidget(title="API 5xx rate", left=[five_xx], width=8),
            cw.GraphWidget(
                title="API Gateway p99 latency (ms; counts whole streams)", left=[integration_latency], width=8
            ),
        )
        self.dashboard.add_widgets(
            cw.GraphWidget(
                title="Streams: p99 time to first byte by route (ms)",
                left=[route_metric(TIME_TO_FIRST_BYTE, f) for f in MODEL_ROUTE_FAMILIES],
                left_annotations=[cw.HorizontalAnnotation(value=TTFB_P99_THRESHOLD_MS, label="alarm")],
                width=12,
            ),
            cw.GraphWidget(
                title="Synchronous calls: p99 latency by route (ms)",
                left=[route_metric(LATENCY, f) for f in (*MODEL_ROUTE_FAMILIES, *OTHER_ROUTE_FAMILIES)],
                left_annotations=[cw.HorizontalAnnotation(value=SYNC_P99_THRESHOLD_MS, label="alarm")],
                width=12,
            ),
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
            cw.GraphWidget(title="ALB requests", left=[alb_requests], width=8),
            cw.GraphWidget(title="ALB / LiteLLM 5xx (% of requests)", left=[alb_5xx, target_5xx], width=8),
            cw.GraphWidget(title="Chat-history throttles", left=[ddb_throttles], width=8),
        )
        self.dashboard.add_widgets(
            cw.GraphWidget(title="Database CPU % / connections", left=[db_cpu], right=[db_connections], width=8),
            cw.GraphWidget(title="Database free storage (bytes)", left=[db_free], width=8),
            cw.GraphWidget(title="Redis engine CPU % / memory %", left=[redis_cpu, redis_memory], width=8),
        )
        self.dashboard.add_widgets(cw.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms), width=24))

    @staticmethod
    def _percent_of_requests(errors: cw.Metric, requests: cw.Metric, label: str, prefix: str) -> cw.MathExpression:
        """``errors`` as a percentage of ``requests``; 0 in quiet periods (one error in three is no outage).

        ``prefix`` keeps the ids of two such expressions on one graph apart."""
        e, r = f"{prefix}Errors", f"{prefix}Requests"
        return cw.MathExpression(
            expression=f"IF({r} >= {ALB_MIN_REQUESTS}, 100 * FILL({e}, 0) / {r}, 0)",
            using_metrics={e: errors, r: requests},
            label=label,
            period=PERIOD,
        )

    @staticmethod
    def _redis_worst(cache: Cache, settings: Settings, metric: str, label: str) -> cw.MathExpression:
        """The highest value of ``metric`` across the replication group's nodes.

        ElastiCache reports per member cluster, named ``<replication group id>-001``, ``-002``, ...; the
        primary can move on failover, so every member is watched.
        """
        members = {
            f"{metric[0].lower()}{metric[1:]}{i}": cw.Metric(
                namespace="AWS/ElastiCache",
                metric_name=metric,
                dimensions_map={"CacheClusterId": Fn.join("", [cache.group.ref, f"-{i:03d}"])},
                period=PERIOD,
                statistic="Maximum",
            )
            for i in range(1, settings.sizing.cache_replicas + 2)
        }
        return cw.MathExpression(
            expression=f"MAX([{', '.join(members)}])", using_metrics=members, label=label, period=PERIOD
        )


def gateway_functions(functions: GatewayFunctions) -> dict[str, lambda_.Function]:
    """Every Lambda function of the gateway construct by its id (api, authorizer, and any added later)."""
    return {child.node.id: child for child in functions.node.children if isinstance(child, lambda_.Function)}


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

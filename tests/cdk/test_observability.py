"""Dashboard, alarms (one per failure an on-call engineer can act on, each with a runbook), SNS topic."""

from __future__ import annotations

import json
import re

from gateway_cdk.observability import MODEL_ROUTE_FAMILIES, SERVICE_NAME

from .conftest import ROOT, Synthesized


def _alarms(synth: Synthesized) -> dict[str, dict]:
    return {k: v["Properties"] for k, v in synth.resources("AWS::CloudWatch::Alarm").items()}


def _metrics_of(alarm: dict) -> list[dict]:
    """The plain metrics an alarm reads (directly or inside its math expression)."""
    if "MetricName" in alarm:
        return [{"Namespace": alarm["Namespace"], "MetricName": alarm["MetricName"], **alarm}]
    return [
        q["MetricStat"]["Metric"] | {"Stat": q["MetricStat"]["Stat"]} for q in alarm["Metrics"] if "MetricStat" in q
    ]


def _alarm_reading(synth: Synthesized, namespace: str, metric: str) -> list[dict]:
    return [
        a
        for a in _alarms(synth).values()
        if any(m["Namespace"] == namespace and m["MetricName"] == metric for m in _metrics_of(a))
    ]


def test_alarms_cover_the_issue_list(synth: Synthesized) -> None:
    for namespace, metric, count in [
        ("AWS/ApiGateway", "5XXError", 1),
        ("AWS/Lambda", "Errors", 2),  # api + authorizer
        ("AWS/Lambda", "Throttles", 2),
        ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", 1),
        ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", 1),
        ("AWS/ApplicationELB", "UnHealthyHostCount", 1),
        ("ECS/ContainerInsights", "RunningTaskCount", 1),
        ("AWS/RDS", "CPUUtilization", 1),
        ("AWS/RDS", "FreeStorageSpace", 1),
        ("AWS/RDS", "DatabaseConnections", 1),
        ("AWS/ElastiCache", "EngineCPUUtilization", 1),
        ("AWS/ElastiCache", "DatabaseMemoryUsagePercentage", 1),
        ("AWS/DynamoDB", "ReadThrottleEvents", 1),
        ("GenAIGateway", "TimeToFirstByte", 1),
        ("GenAIGateway", "Latency", 1),
    ]:
        assert len(_alarm_reading(synth, namespace, metric)) == count, (namespace, metric)
    five_xx = next(a for a in _alarms(synth).values() if a.get("MetricName") == "5XXError")
    assert five_xx["Statistic"] == "Average" and five_xx["Threshold"] == 0.05


def test_lambda_alarms_name_each_function(synth: Synthesized) -> None:
    for metric in ("Errors", "Throttles"):
        functions = {
            json.dumps(m["Dimensions"]) for a in _alarm_reading(synth, "AWS/Lambda", metric) for m in _metrics_of(a)
        }
        assert any("FunctionsApi" in f for f in functions) and any("FunctionsAuthorizer" in f for f in functions)


def test_latency_alarms_ignore_the_length_of_streams(synth: Synthesized) -> None:
    """No alarm reads API Gateway's Latency (a 15-minute stream is 15 minutes of it); the model latency alarms
    read the middleware's EMF metrics: p99 time to first byte of streams, p99 total latency otherwise."""
    assert _alarm_reading(synth, "AWS/ApiGateway", "Latency") == []
    assert _alarm_reading(synth, "AWS/ApiGateway", "IntegrationLatency") == []
    for metric in ("TimeToFirstByte", "Latency"):
        (alarm,) = _alarm_reading(synth, "GenAIGateway", metric)
        metrics = _metrics_of(alarm)
        assert {m["Stat"] for m in metrics} == {"p99"}
        routes = set()
        for m in metrics:
            dims = {d["Name"]: d["Value"] for d in m["Dimensions"]}
            assert dims["service"] == SERVICE_NAME
            routes.add(dims["route"])
        assert routes == set(MODEL_ROUTE_FAMILIES)


def test_cdk_and_middleware_agree_on_metric_names_and_routes() -> None:
    from gateway.web import metrics
    from gateway_cdk import functions, observability

    assert metrics.MODEL_FAMILIES == observability.MODEL_ROUTE_FAMILIES
    assert (*observability.MODEL_ROUTE_FAMILIES, *observability.OTHER_ROUTE_FAMILIES) == metrics.ALL_FAMILIES
    assert (metrics.TIME_TO_FIRST_BYTE, metrics.LATENCY) == (observability.TIME_TO_FIRST_BYTE, observability.LATENCY)
    assert metrics.SERVICE_DEFAULT == functions.SERVICE_NAME
    assert metrics.NAMESPACE_DEFAULT == observability.METRICS_NAMESPACE


def test_redis_alarms_watch_every_node(synth: Synthesized) -> None:
    """Failover can move the primary: the alarm takes the worst of all members (<group>-001, -002)."""
    (alarm,) = _alarm_reading(synth, "AWS/ElastiCache", "EngineCPUUtilization")
    members = [json.dumps(m["Dimensions"]) for m in _metrics_of(alarm)]
    assert len(members) == synth.settings.sizing.cache_replicas + 1
    assert any("-001" in m for m in members) and any("-002" in m for m in members)


def test_every_alarm_has_a_runbook_entry(synth: Synthesized) -> None:
    """Each alarm's description names its entry in docs/operations.md, and the entry exists there.

    A function alarm may share the generic entry (``*FunctionErrors``, ``*FunctionThrottles``)."""
    operations = (ROOT / "docs" / "operations.md").read_text()
    headings = set(re.findall(r"^#### `([^`]+)`", operations, re.M))
    for alarm in _alarms(synth).values():
        found = re.search(r"Runbook: docs/operations\.md, Alarms, (\w+)\.$", alarm["AlarmDescription"])
        assert found, alarm["AlarmDescription"]
        alarm_id = found.group(1)
        generic = re.sub(r"^\w+?(Function(Errors|Throttles))$", r"*\1", alarm_id)
        assert alarm_id in headings or generic in headings, alarm_id


def test_alarms_notify_the_topic_with_the_email_subscribed(synth: Synthesized) -> None:
    (topic_id,) = synth.resources("AWS::SNS::Topic")
    topic = synth.json["Resources"][topic_id]["Properties"]
    assert "KmsMasterKeyId" in topic
    synth.template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"}
    )
    for alarm in _alarms(synth).values():
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]


def test_dashboard_exists(synth: Synthesized) -> None:
    dashboard = synth.one("AWS::CloudWatch::Dashboard")
    assert dashboard["DashboardName"] == "GatewayTest-gateway"
    body = json.dumps(dashboard["DashboardBody"])
    for metric in (
        "5XXError",
        "RunningTaskCount",
        "ThrottleEvents",
        "Invocations",
        "TimeToFirstByte",
        "HTTPCode_Target_5XX_Count",
        "FreeStorageSpace",
        "DatabaseMemoryUsagePercentage",
    ):
        assert metric in body


def test_cloudwatch_may_use_the_topic_key(synth: Synthesized) -> None:
    """CloudWatch cannot publish to a topic under an AWS-managed key (its policy cannot grant the service):
    the topic uses a customer-managed, rotating key whose policy lets CloudWatch alarms of this account use it."""
    (topic,) = synth.resources("AWS::SNS::Topic").values()
    key_ref = topic["Properties"]["KmsMasterKeyId"]
    assert "alias/aws/" not in json.dumps(key_ref)
    key_id = key_ref["Fn::GetAtt"][0]
    key = synth.json["Resources"][key_id]
    assert key["Type"] == "AWS::KMS::Key" and key["Properties"]["EnableKeyRotation"] is True
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    (cloudwatch,) = [s for s in statements if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert cloudwatch["Effect"] == "Allow"
    assert sorted(cloudwatch["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert cloudwatch["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert ":alarm:*" in json.dumps(cloudwatch["Condition"]["ArnLike"]["aws:SourceArn"])

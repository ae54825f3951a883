"""Dashboard, alarms (5xx rate, p99 latency, throttles, ECS health, DynamoDB throttles), SNS topic."""

from __future__ import annotations

import json

from .conftest import Synthesized


def _alarms(synth: Synthesized) -> dict[str, dict]:
    return {k: v["Properties"] for k, v in synth.resources("AWS::CloudWatch::Alarm").items()}


def test_alarms_cover_the_issue_list(synth: Synthesized) -> None:
    alarms = list(_alarms(synth).values())
    metrics = {a.get("MetricName") for a in alarms}
    assert {"5XXError", "Latency", "UnHealthyHostCount", "RunningTaskCount", "Throttles"} <= metrics
    latency = next(a for a in alarms if a.get("MetricName") == "Latency")
    assert latency["ExtendedStatistic"] == "p99"
    five_xx = next(a for a in alarms if a.get("MetricName") == "5XXError")
    assert five_xx["Statistic"] == "Average" and five_xx["Threshold"] == 0.05
    throttled = [a for a in alarms if a.get("MetricName") == "Throttles"]
    assert len(throttled) == 2  # api + authorizer
    ddb = [a for a in alarms if "Metrics" in a and "ThrottleEvents" in json.dumps(a["Metrics"])]
    assert len(ddb) == 1


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
    for metric in ("5XXError", "Latency", "RunningTaskCount", "ThrottleEvents", "Invocations"):
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

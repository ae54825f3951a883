"""LiteLLM on Fargate behind an internal ALB: image, config, secrets, health, scaling, rollback, logs."""

from __future__ import annotations

from pathlib import Path

from aws_cdk.assertions import Match

from gateway_cdk.litellm_service import HEALTH_PATH, config_path, stage_image_context

from .conftest import ROOT, Synthesized


def test_alb_is_internal_in_private_subnets(synth: Synthesized) -> None:
    alb = synth.one("AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert alb["Scheme"] == "internal"
    private = {k for k, v in synth.resources("AWS::EC2::Subnet").items() if not v["Properties"]["MapPublicIpOnLaunch"]}
    assert {s["Ref"] for s in alb["Subnets"]} == private
    attributes = {a["Key"]: a["Value"] for a in alb["LoadBalancerAttributes"]}
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attributes["access_logs.s3.enabled"] == "true"


def test_service_runs_private_with_circuit_breaker_rollback(synth: Synthesized) -> None:
    service = synth.one("AWS::ECS::Service")
    assert service["LaunchType"] == "FARGATE"
    network = service["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["AssignPublicIp"] == "DISABLED"
    assert service["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert service["DesiredCount"] == synth.settings.sizing.ecs_min_tasks


def test_container_health_check_logs_and_config_environment(synth: Synthesized) -> None:
    (container,) = synth.one("AWS::ECS::TaskDefinition")["ContainerDefinitions"]
    assert HEALTH_PATH in " ".join(container["HealthCheck"]["Command"])
    assert container["LogConfiguration"]["LogDriver"] == "awslogs"
    env = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert env["REDIS_SSL"] == "true" and env["AWS_REGION"] == "eu-west-1"
    assert env["LANGSMITH_PROJECT"] == "gateway-tests" and env["LANGSMITH_DEFAULT_RUN_NAME"] == "gateway"
    assert "Ref" in env["LITELLM_LOG_BUCKET"]
    synth.template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup", {"HealthCheckPath": HEALTH_PATH, "Port": 4000}
    )
    groups = synth.resources("AWS::Logs::LogGroup").values()
    assert all(g["Properties"].get("RetentionInDays") for g in groups)


def test_autoscaling_on_cpu_and_request_count(synth: Synthesized) -> None:
    target = synth.one("AWS::ApplicationAutoScaling::ScalableTarget")
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 10)
    metrics = {
        p["Properties"]["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"][
            "PredefinedMetricType"
        ]
        for p in synth.resources("AWS::ApplicationAutoScaling::ScalingPolicy").values()
    }
    assert metrics == {"ECSServiceAverageCPUUtilization", "ALBRequestCountPerTarget"}


def test_task_role_invokes_bedrock_and_writes_logs_only(synth: Synthesized) -> None:
    synth.template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": Match.array_with(
                                    ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
                                ),
                                "Effect": "Allow",
                            }
                        ),
                        Match.object_like({"Action": "s3:PutObject", "Effect": "Allow"}),
                    ]
                )
            },
            "Roles": [{"Ref": Match.string_like_regexp("LiteLLMTaskTaskRole")}],
        },
    )


def test_image_context_bakes_the_chosen_config(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "litellm_service").mkdir(parents=True)
    (repo / "config").mkdir()
    for name in ("Dockerfile", "entrypoint.sh", "render_config.py", "database_url.py"):
        (repo / "litellm_service" / name).write_bytes((ROOT / "litellm_service" / name).read_bytes())
    (repo / "config" / "default-config.yaml").write_text("model_list: []\n")
    assert config_path(repo).name == "default-config.yaml"
    first = stage_image_context(repo, tmp_path / "cache")
    assert (first / "config.yaml").read_text() == "model_list: []\n"
    assert stage_image_context(repo, tmp_path / "cache") == first  # unchanged inputs, same context
    (repo / "config" / "config.yaml").write_text("model_list: [] # custom\n")
    second = stage_image_context(repo, tmp_path / "cache")
    assert second != first and "custom" in (second / "config.yaml").read_text()
    assert sorted(p.name for p in second.iterdir()) == [
        "Dockerfile",
        "config.yaml",
        "database_url.py",
        "entrypoint.sh",
        "render_config.py",
    ]


def test_dockerfile_pins_the_litellm_version() -> None:
    dockerfile = (ROOT / "litellm_service" / "Dockerfile").read_text()
    assert "ARG LITELLM_IMAGE=ghcr.io/berriai/litellm:v1.108.7" in dockerfile
    pinned = (ROOT / "litellm_service" / "requirements-local.txt").read_text()
    assert "litellm[proxy]==1.108.7" in pinned

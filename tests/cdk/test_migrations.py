"""LiteLLM's database migrations run once per deploy, before the service's new tasks, not in every task.

Template assertions show the wiring (the service's tasks skip migrations; a custom resource runs the
task definition's ``migrate`` command, re-run with each new task definition revision, and the service
waits for it; least-privilege IAM). The handler runs for real against a stubbed ECS API (botocore's
Stubber: AWS itself is the only mock).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from gateway_cdk import migrations

from .conftest import Synthesized

TASK_DEF = "arn:aws:ecs:eu-west-1:123456789012:task-definition/gw-litellm:7"
CLUSTER = "arn:aws:ecs:eu-west-1:123456789012:cluster/gw"
TASK = "arn:aws:ecs:eu-west-1:123456789012:task/gw/0123456789abcdef"
PROPS = {
    "Cluster": CLUSTER,
    "TaskDefinition": TASK_DEF,
    "Subnets": ["subnet-1", "subnet-2"],
    "SecurityGroups": ["sg-1"],
}


def _migration_resource(synth: Synthesized) -> tuple[str, dict[str, Any]]:
    (found,) = [(k, v) for k, v in synth.json["Resources"].items() if v["Type"] == "Custom::LiteLLMMigrations"]
    return found


def _ref(value: Any) -> str:
    return value.get("Ref") or value["Fn::GetAtt"][0]


def test_the_service_tasks_skip_migrations(synth: Synthesized) -> None:
    (container,) = synth.one("AWS::ECS::TaskDefinition")["ContainerDefinitions"]
    env = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert env["DISABLE_SCHEMA_UPDATE"] == "true"


def test_migrations_run_per_task_definition_revision_before_the_service(synth: Synthesized) -> None:
    logical, resource = _migration_resource(synth)
    props = resource["Properties"]
    (task_def,) = synth.resources("AWS::ECS::TaskDefinition")
    (service_id,) = synth.resources("AWS::ECS::Service")
    (cluster,) = synth.resources("AWS::ECS::Cluster")
    (db,) = synth.resources("AWS::RDS::DBInstance")
    # a new image or config is a new revision (a new Ref value): CloudFormation updates the resource
    assert props["TaskDefinition"] == {"Ref": task_def}
    assert _ref(props["Cluster"]) == cluster
    service = synth.json["Resources"][service_id]
    assert logical in service["DependsOn"]
    assert db in resource["DependsOn"]
    assert service["Properties"]["TaskDefinition"] == {"Ref": task_def}
    assert (
        props["SecurityGroups"]
        == service["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]["SecurityGroups"]
    )


def _policy_of(synth: Synthesized, function_path: str) -> list[dict[str, Any]]:
    role = synth.stack.node.find_child("LiteLLM").node.find_child("Migrations").node.find_child(function_path).role
    logical = synth.stack.resolve(role.node.default_child.logical_id)  # type: ignore[union-attr]
    return [
        s
        for p in synth.resources("AWS::IAM::Policy").values()
        if {"Ref": logical} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_the_starter_may_run_only_that_task_definition(synth: Synthesized) -> None:
    (task_def,) = synth.resources("AWS::ECS::TaskDefinition")
    statements = {
        s["Action"] if isinstance(s["Action"], str) else tuple(s["Action"]): s for s in _policy_of(synth, "Start")
    }
    assert set(statements) == {"ecs:RunTask", "iam:PassRole"}
    assert statements["ecs:RunTask"]["Resource"] == {"Ref": task_def}
    assert "ecs:cluster" in statements["ecs:RunTask"]["Condition"]["ArnEquals"]
    task_props = synth.json["Resources"][task_def]["Properties"]
    roles = {_ref(task_props["TaskRoleArn"]), _ref(task_props["ExecutionRoleArn"])}
    assert {_ref(r) for r in statements["iam:PassRole"]["Resource"]} == roles


def test_the_checker_only_reads_tasks(synth: Synthesized) -> None:
    assert {s["Action"] for s in _policy_of(synth, "Check")} == {"ecs:DescribeTasks"}


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Stubber]]:
    spec = importlib.util.spec_from_file_location("migration_handler", migrations._HANDLER_DIR / "handler.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    client = boto3.client("ecs", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    monkeypatch.setattr(module, "_ecs", lambda: client)
    with Stubber(client) as stub:
        yield module, stub
        stub.assert_no_pending_responses()


def _event(kind: str, **extra: Any) -> dict[str, Any]:
    return {"RequestType": kind, "ResourceProperties": PROPS, **extra}


def test_create_starts_one_migrate_task(handler: tuple[Any, Stubber]) -> None:
    module, stub = handler
    stub.add_response(
        "run_task",
        {"tasks": [{"taskArn": TASK}], "failures": []},
        {
            "cluster": CLUSTER,
            "taskDefinition": TASK_DEF,
            "launchType": "FARGATE",
            "count": 1,
            "startedBy": "cfn-db-migrations",
            "networkConfiguration": {
                "awsvpcConfiguration": {
                    "subnets": ["subnet-1", "subnet-2"],
                    "securityGroups": ["sg-1"],
                    "assignPublicIp": "DISABLED",
                }
            },
            "overrides": {"containerOverrides": [{"name": "litellm", "command": ["migrate"]}]},
        },
    )
    assert module.on_event(_event("Update", PhysicalResourceId="old")) == {"PhysicalResourceId": TASK}


def test_a_task_that_cannot_start_fails_the_deploy(handler: tuple[Any, Stubber]) -> None:
    module, stub = handler
    stub.add_response("run_task", {"tasks": [], "failures": [{"reason": "RESOURCE:ENI"}]})
    with pytest.raises(RuntimeError, match="RESOURCE:ENI"):
        module.on_event(_event("Create"))


def _described(status: str, exit_code: int | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "litellm"}
    if exit_code is not None:
        container["exitCode"] = exit_code
    return {"tasks": [{"taskArn": TASK, "lastStatus": status, "stoppedReason": "Essential container exited",
                       "containers": [container]}]}  # fmt: skip


def test_waits_until_the_task_stops_with_success(handler: tuple[Any, Stubber]) -> None:
    module, stub = handler
    params = {"cluster": CLUSTER, "tasks": [TASK]}
    stub.add_response("describe_tasks", _described("RUNNING"), params)
    stub.add_response("describe_tasks", _described("STOPPED", 0), params)
    event = _event("Create", PhysicalResourceId=TASK)
    assert module.is_complete(event) == {"IsComplete": False}
    assert module.is_complete(event) == {"IsComplete": True}


def test_a_failed_migration_fails_the_deploy_with_the_reason(handler: tuple[Any, Stubber]) -> None:
    module, stub = handler
    stub.add_response("describe_tasks", _described("STOPPED", 2))
    with pytest.raises(RuntimeError, match=r"migrations failed.*exit code 2.*Essential container exited"):
        module.is_complete(_event("Update", PhysicalResourceId=TASK))


def test_delete_touches_nothing(handler: tuple[Any, Stubber]) -> None:
    module, _ = handler
    assert module.on_event(_event("Delete", PhysicalResourceId=TASK)) == {"PhysicalResourceId": TASK}
    assert module.is_complete(_event("Delete", PhysicalResourceId=TASK)) == {"IsComplete": True}

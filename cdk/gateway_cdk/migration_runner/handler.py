"""Run LiteLLM's database migrations once per deploy: the CloudFormation custom resource behind
``migrations.DatabaseMigrations`` (CDK provider framework: ``on_event`` starts, ``is_complete`` polls).

``on_event`` starts one Fargate task from the service's task definition with the command ``migrate``
(``litellm_service/entrypoint.sh``); ``is_complete`` reports done when that task has stopped with exit
code 0, and fails the deploy (with the task's reason and log stream) otherwise. Delete does nothing.
"""

from __future__ import annotations

from typing import Any

import boto3

#: The container in the service's task definition (cdk/gateway_cdk/litellm_service.py).
CONTAINER = "litellm"


def _ecs() -> Any:
    return boto3.client("ecs")


def on_event(event: dict[str, Any], _context: object = None) -> dict[str, Any]:
    """Create/Update: start the migration task; its ARN becomes the resource's physical id."""
    if event["RequestType"] == "Delete":
        return {"PhysicalResourceId": event["PhysicalResourceId"]}
    props = event["ResourceProperties"]
    response = _ecs().run_task(
        cluster=props["Cluster"],
        taskDefinition=props["TaskDefinition"],
        launchType="FARGATE",
        count=1,
        startedBy="cfn-db-migrations",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": list(props["Subnets"]),
                "securityGroups": list(props["SecurityGroups"]),
                "assignPublicIp": "DISABLED",
            }
        },
        overrides={"containerOverrides": [{"name": CONTAINER, "command": ["migrate"]}]},
    )
    tasks = response.get("tasks") or []
    if response.get("failures") or not tasks:
        raise RuntimeError(f"the migration task did not start: {response.get('failures')}")
    return {"PhysicalResourceId": tasks[0]["taskArn"]}


def is_complete(event: dict[str, Any], _context: object = None) -> dict[str, Any]:
    """Done when the task stopped with exit code 0; a failed migration raises (the deploy rolls back)."""
    if event["RequestType"] == "Delete":
        return {"IsComplete": True}
    cluster, task_arn = event["ResourceProperties"]["Cluster"], event["PhysicalResourceId"]
    tasks = _ecs().describe_tasks(cluster=cluster, tasks=[task_arn]).get("tasks") or []
    if not tasks:
        raise RuntimeError(f"the migration task {task_arn} is gone")
    task = tasks[0]
    if task.get("lastStatus") != "STOPPED":
        return {"IsComplete": False}
    container = next((c for c in task.get("containers", []) if c.get("name") == CONTAINER), {})
    if container.get("exitCode") == 0:
        return {"IsComplete": True}
    raise RuntimeError(
        f"LiteLLM's database migrations failed (task {task_arn}, exit code {container.get('exitCode')}, "
        f"{task.get('stoppedReason', '')} {container.get('reason', '')}); see the LiteLLM log group, "
        "stream prefix litellm"
    )

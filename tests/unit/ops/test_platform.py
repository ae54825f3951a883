"""The AWS platform of the ops tasks, against botocore's Stubber (AWS itself is mocked: no AWS here)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import ANY, Stubber

from gateway.ops.platform import (
    ROTATED_AT_VARIABLE,
    AwsRestarter,
    FileSecretStore,
    GatewayFunction,
    SecretsManagerStore,
)

ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:master-AbCdEf"


def client(service: str):
    return boto3.client(service, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")


def test_secrets_manager_store_reads_and_writes_the_master_key_secret() -> None:
    sm = client("secretsmanager")
    with Stubber(sm) as stub:
        stub.add_response("get_secret_value", {"SecretString": "sk-old\n"}, {"SecretId": ARN})
        stub.add_response("put_secret_value", {}, {"SecretId": ARN, "SecretString": "sk-new"})
        store = SecretsManagerStore(ARN, sm)
        assert store.read() == "sk-old"
        store.write("sk-new")
        stub.assert_no_pending_responses()


def test_file_secret_store_replaces_the_key_with_owner_only_permissions(tmp_path) -> None:
    path = tmp_path / "master_key"
    path.write_text("sk-old\n")
    store = FileSecretStore(path)
    store.write("sk-new")
    assert store.read() == "sk-new" and path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["master_key"]


def _deployments(running: int) -> dict:
    return {"services": [{"deployments": [
        {"id": "ecs-svc/new", "status": "PRIMARY", "desiredCount": 2, "runningCount": running},
        {"id": "ecs-svc/old", "status": "ACTIVE", "desiredCount": 2, "runningCount": 2},
    ]}]}  # fmt: skip


@pytest.mark.parametrize("alias", [None, "live"])
def test_restart_rolls_litellm_waits_for_new_tasks_then_refreshes_the_functions(alias: str | None) -> None:
    ecs, lam = client("ecs"), client("lambda")
    service = {"cluster": "c", "service": "s"}
    with Stubber(ecs) as ecs_stub, Stubber(lam) as lam_stub:
        ecs_stub.add_response(
            "update_service", {"service": _deployments(0)["services"][0]}, {**service, "forceNewDeployment": True}
        )
        ecs_stub.add_response("describe_services", _deployments(1), {"cluster": "c", "services": ["s"]})
        ecs_stub.add_response("describe_services", _deployments(2), {"cluster": "c", "services": ["s"]})
        lam_stub.add_response(
            "get_function_configuration", {"Environment": {"Variables": {"KEEP": "1"}}}, {"FunctionName": "api"}
        )
        lam_stub.add_response(
            "update_function_configuration",
            {},
            {"FunctionName": "api", "Environment": {"Variables": {"KEEP": "1", ROTATED_AT_VARIABLE: ANY}}},
        )
        if alias:
            lam_stub.add_response(
                "get_function_configuration", {"LastUpdateStatus": "Successful"}, {"FunctionName": "api"}
            )
            lam_stub.add_response("publish_version", {"Version": "7"}, {"FunctionName": "api"})
            lam_stub.add_response("update_alias", {}, {"FunctionName": "api", "Name": alias, "FunctionVersion": "7"})
        sleeps: list[float] = []
        restarter = AwsRestarter(
            ecs=ecs, lambda_client=lam, cluster="c", service="s",
            functions=[GatewayFunction("api", alias)], sleep=sleeps.append,
        )  # fmt: skip
        result = restarter.restart()
        ecs_stub.assert_no_pending_responses()
        lam_stub.assert_no_pending_responses()
    assert result["ecs_deployment"] == "ecs-svc/new" and result["ecs_new_tasks_running"] is True
    assert result["functions_refreshed"][0]["function"] == "api"
    assert len(sleeps) == 1


def test_restart_still_refreshes_the_functions_when_the_new_tasks_are_late() -> None:
    ecs, lam = client("ecs"), client("lambda")
    now = [0.0]
    with Stubber(ecs) as ecs_stub, Stubber(lam) as lam_stub:
        ecs_stub.add_response("update_service", {"service": _deployments(0)["services"][0]}, None)
        ecs_stub.add_response("describe_services", _deployments(0), None)
        ecs_stub.add_response("describe_services", _deployments(1), None)
        lam_stub.add_response("get_function_configuration", {}, None)
        lam_stub.add_response("update_function_configuration", {}, None)
        restarter = AwsRestarter(
            ecs=ecs, lambda_client=lam, cluster="c", service="s", functions=[GatewayFunction("authorizer")],
            wait_seconds=10, poll_seconds=10, sleep=lambda s: now.__setitem__(0, now[0] + s), clock=lambda: now[0],
        )  # fmt: skip
        result = restarter.restart()
        lam_stub.assert_no_pending_responses()
    assert result["ecs_new_tasks_running"] is False
    assert result["functions_refreshed"] == [{"function": "authorizer"}]

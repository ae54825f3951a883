"""Streams of up to 15 minutes survive a deploy or a scale-in of the LiteLLM service.

ECS deregisters a stopping task and lets the ALB drain it for the deregistration delay before SIGTERM,
then waits the container's stop timeout before SIGKILL; LiteLLM's uvicorn finishes open requests for
GRACEFUL_SHUTDOWN_TIMEOUT after SIGTERM. The CDK defaults (300 s drain, 30 s stop timeout, 30 s
graceful shutdown) cut a stream much earlier.
"""

from __future__ import annotations

import pytest

from gateway_cdk.litellm_service import GRACEFUL_SHUTDOWN_SECONDS, WORKER_HEALTHCHECK_SECONDS, server_environment
from gateway_cdk.settings import Settings

from .conftest import Synthesized

FIFTEEN_MINUTES = 900
FARGATE_MAX_STOP_TIMEOUT = 120


def _container(synth: Synthesized) -> dict:
    (container,) = synth.one("AWS::ECS::TaskDefinition")["ContainerDefinitions"]
    return container


def test_the_alb_drains_a_stopping_task_for_a_whole_stream(synth: Synthesized) -> None:
    group = synth.one("AWS::ElasticLoadBalancingV2::TargetGroup")
    attributes = {a["Key"]: a["Value"] for a in group["TargetGroupAttributes"]}
    assert int(attributes["deregistration_delay.timeout_seconds"]) >= FIFTEEN_MINUTES
    assert int(attributes["deregistration_delay.timeout_seconds"]) <= 3600  # the ALB maximum
    alb = synth.one("AWS::ElasticLoadBalancingV2::LoadBalancer")
    idle = {a["Key"]: a["Value"] for a in alb["LoadBalancerAttributes"]}["idle_timeout.timeout_seconds"]
    assert int(idle) >= FIFTEEN_MINUTES


def test_the_container_gets_the_fargate_maximum_to_stop(synth: Synthesized) -> None:
    assert _container(synth)["StopTimeout"] == FARGATE_MAX_STOP_TIMEOUT


def test_litellm_shuts_down_gracefully_within_the_stop_timeout(synth: Synthesized) -> None:
    env = {e["Name"]: e["Value"] for e in _container(synth)["Environment"]}
    graceful = float(env["GRACEFUL_SHUTDOWN_TIMEOUT"])
    assert graceful == GRACEFUL_SHUTDOWN_SECONDS
    assert 30 < graceful < FARGATE_MAX_STOP_TIMEOUT  # longer than LiteLLM's default, ends before SIGKILL


def test_litellm_runs_one_worker_per_vcpu(synth: Synthesized) -> None:
    env = {e["Name"]: e["Value"] for e in _container(synth)["Environment"]}
    assert env["NUM_WORKERS"] == "1"  # the default task: 1024 CPU units


@pytest.mark.parametrize(
    ("cpu", "memory", "workers"), [(256, 512, 1), (1024, 2048, 1), (2048, 4096, 2), (4096, 8192, 4)]
)
def test_worker_count_follows_the_task_size(cpu: int, memory: int, workers: int) -> None:
    settings = Settings.from_env({"ECS_CPU": str(cpu), "ECS_MEMORY_MIB": str(memory)})
    environment = server_environment(settings)
    assert environment["NUM_WORKERS"] == str(workers)
    # uvicorn's 5 s worker health check kills LiteLLM workers still starting on a busy vCPU
    assert int(environment["TIMEOUT_WORKER_HEALTHCHECK"]) == WORKER_HEALTHCHECK_SECONDS >= 30


def test_the_pinned_litellm_cli_reads_these_variables() -> None:
    """The variables the stack sets are the ones the pinned LiteLLM reads (not a guess)."""
    from litellm.proxy.proxy_cli import run_server
    from litellm.proxy.shutdown.graceful_shutdown_manager import GracefulShutdownManager

    envvars = {getattr(p, "envvar", None) for p in run_server.params}
    assert {"NUM_WORKERS", "TIMEOUT_WORKER_HEALTHCHECK"} <= envvars
    monkey = pytest.MonkeyPatch()
    monkey.setenv("GRACEFUL_SHUTDOWN_TIMEOUT", str(GRACEFUL_SHUTDOWN_SECONDS))
    try:
        assert GracefulShutdownManager.get_timeout() == GRACEFUL_SHUTDOWN_SECONDS
    finally:
        monkey.undo()

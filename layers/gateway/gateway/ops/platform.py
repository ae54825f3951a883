"""Where the master key lives and what must restart after it changes: AWS or ``make local``.

The tasks only see these two small interfaces, so the rotation procedure is the same code in both
places: in AWS the secret is a Secrets Manager secret and a restart is an ECS deployment plus fresh
Lambda execution environments; locally the secret is ``.local/master_key`` and the operator restarts
``make local``.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

ROTATED_AT_VARIABLE = "MASTER_KEY_ROTATED_AT"


class SecretStore(Protocol):
    """The master key's home."""

    def read(self) -> str: ...

    def write(self, value: str) -> None: ...


class Restarter(Protocol):
    """Makes every component that read the master key at start read it again."""

    def restart(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Platform:
    secret: SecretStore
    restarter: Restarter
    #: LiteLLM encrypts stored credentials with its master key (no ``LITELLM_SALT_KEY``): a rotation must
    #: re-encrypt them with the new key.
    credentials_follow_master_key: bool
    name: str


# -- local -------------------------------------------------------------------------------------------


class FileSecretStore:
    """``.local/master_key`` (0600), replaced atomically so a crash never leaves half a key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> str:
        value = self.path.read_text().strip()
        if not value:
            raise RuntimeError(f"{self.path} is empty")
        return value

    def write(self, value: str) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".master_key.")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(value + "\n")
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class LocalRestarter:
    """``make local`` runs in the operator's terminal: only they can restart it."""

    def restart(self) -> dict[str, Any]:
        return {
            "restart_required": "stop `make local` (Ctrl-C) and start it again: LiteLLM and the middleware "
            "read the master key from .local/master_key at start; until then the old key stays active",
        }


def local_platform(work_dir: Path, env: Mapping[str, str]) -> Platform:
    return Platform(
        secret=FileSecretStore(work_dir / "master_key"),
        restarter=LocalRestarter(),
        credentials_follow_master_key=not env.get("LITELLM_SALT_KEY"),
        name="local",
    )


# -- AWS ---------------------------------------------------------------------------------------------


class SecretsManagerStore:
    """The master key secret, read fresh on every call (the ops function keeps no cached copy)."""

    def __init__(self, secret_arn: str, client: Any) -> None:
        self.secret_arn = secret_arn
        self.client = client

    def read(self) -> str:
        return self.client.get_secret_value(SecretId=self.secret_arn)["SecretString"].strip()

    def write(self, value: str) -> None:
        self.client.put_secret_value(SecretId=self.secret_arn, SecretString=value)


@dataclass(frozen=True)
class GatewayFunction:
    name: str
    alias: str | None = None  # an alias with provisioned concurrency runs a published version


class AwsRestarter:
    """Rolls the LiteLLM ECS service (tasks get the secret injected at start), waits until the new
    tasks run, then gives the gateway functions fresh execution environments (they read the secret
    once per cold start)."""

    def __init__(
        self,
        *,
        ecs: Any,
        lambda_client: Any,
        cluster: str,
        service: str,
        functions: list[GatewayFunction],
        wait_seconds: float = 600.0,
        poll_seconds: float = 15.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ecs, self.lambda_client = ecs, lambda_client
        self.cluster, self.service, self.functions = cluster, service, functions
        self.wait_seconds, self.poll_seconds = wait_seconds, poll_seconds
        self._sleep, self._clock = sleep, clock

    def restart(self) -> dict[str, Any]:
        deployment = self._roll_service()
        running = self._wait_for_new_tasks(deployment)
        refreshed = [self._refresh(fn) for fn in self.functions]
        return {
            "ecs_deployment": deployment,
            "ecs_new_tasks_running": running,
            "functions_refreshed": refreshed,
        }

    def _roll_service(self) -> str:
        answer = self.ecs.update_service(cluster=self.cluster, service=self.service, forceNewDeployment=True)
        primary = [d for d in answer["service"]["deployments"] if d["status"] == "PRIMARY"]
        return primary[0]["id"] if primary else ""

    def _wait_for_new_tasks(self, deployment_id: str) -> bool:
        """True once the new deployment runs its desired count (old tasks then drain)."""
        deadline = self._clock() + self.wait_seconds
        while True:
            service = self.ecs.describe_services(cluster=self.cluster, services=[self.service])["services"][0]
            for d in service["deployments"]:
                if d["id"] == deployment_id and d["desiredCount"] > 0 and d["runningCount"] >= d["desiredCount"]:
                    return True
            if self._clock() >= deadline:
                return False
            self._sleep(self.poll_seconds)

    def _refresh(self, fn: GatewayFunction) -> dict[str, Any]:
        """A changed environment variable makes Lambda start new execution environments."""
        config = self.lambda_client.get_function_configuration(FunctionName=fn.name)
        variables = dict(config.get("Environment", {}).get("Variables", {}))
        variables[ROTATED_AT_VARIABLE] = str(int(time.time()))
        self.lambda_client.update_function_configuration(FunctionName=fn.name, Environment={"Variables": variables})
        result: dict[str, Any] = {"function": fn.name}
        if fn.alias:
            self.lambda_client.get_waiter("function_updated").wait(FunctionName=fn.name)
            version = self.lambda_client.publish_version(FunctionName=fn.name)["Version"]
            self.lambda_client.update_alias(FunctionName=fn.name, Name=fn.alias, FunctionVersion=version)
            result |= {"alias": fn.alias, "version": version}
        return result


def aws_platform(env: Mapping[str, str], *, session: Any = None) -> Platform:
    """The deployed platform, from the ops function's environment (see ``cdk/gateway_cdk/functions.py``)."""
    import boto3  # in the Lambda runtime; imported lazily so local runs need no AWS configuration

    session = session or boto3.session.Session()
    functions = [GatewayFunction(f["name"], f.get("alias")) for f in json.loads(env.get("OPS_GATEWAY_FUNCTIONS", "[]"))]
    return Platform(
        secret=SecretsManagerStore(env["LITELLM_MASTER_KEY_SECRET_ARN"], session.client("secretsmanager")),
        restarter=AwsRestarter(
            ecs=session.client("ecs"),
            lambda_client=session.client("lambda"),
            cluster=env["OPS_ECS_CLUSTER"],
            service=env["OPS_ECS_SERVICE"],
            functions=functions,
        ),
        credentials_follow_master_key=False,  # the deployment sets LITELLM_SALT_KEY (a separate secret)
        name="aws",
    )

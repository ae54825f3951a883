"""The rehearsal, step by step; every outcome is a named ``Check`` (see ``docs/rehearsal.md``)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import redis
import yaml

from devstack.dynamodb import start_dynamodb_emulator
from devstack.prisma import find_kit, prepare_database_mode
from devstack.processes import Child, free_port
from rehearsal import local_aws
from rehearsal.container import Image, container_environment, run_health_check, stage_image
from rehearsal.functions import (
    Function,
    authorizer_event,
    authorizer_function_id,
    function_name,
    invoke,
    load_function,
    middleware_function_id,
    request_context,
    stage_name,
)
from rehearsal.services import Forwarder, TlsPostgres, start_redis
from rehearsal.template import REPO_ROOT, SYNTH_ENV, Assembly, Resolver, TemplateError, load, synthesize
from rehearsal.variables import audit
from tests.support.tls import self_signed_loopback_cert

#: The offline model added to the deployed config for the rehearsal (the config's own providers need
#: the internet): an OpenAI-compatible stand-in on loopback (tests/support/fake_openai.py).
REHEARSAL_MODEL = "rehearsal-echo"
SITE_PACKAGES = Path(httpx.__file__).resolve().parents[1]
LITELLM_SOURCE = SITE_PACKAGES / "litellm"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


class Rehearsal:
    def __init__(self, work: Path, log: Callable[[str], None] = print) -> None:
        self.work = work
        self.log = log
        self.checks: list[Check] = []
        self.children: list[Child] = []
        self.cleanups: list[Callable[[], None]] = []

    def check(self, name: str, ok: bool, detail: str) -> bool:
        self.checks.append(Check(name, bool(ok), detail))
        self.log(f"{'PASS' if ok else 'FAIL'} {name}: {detail}")
        return bool(ok)

    def spawn(self, name: str, argv: list[str], env: dict[str, str], cwd: Path) -> Child:
        child = Child(name, argv, env, self.work / "logs", cwd)
        self.children.append(child)
        return child

    def close(self) -> None:
        for child in reversed(self.children):
            child.stop()
        for cleanup in reversed(self.cleanups):
            with contextlib.suppress(Exception):
                cleanup()

    # -- the whole run -------------------------------------------------------------------------------
    def run(self) -> None:
        assembly = load(self.work / "cdk.out", SYNTH_ENV["STACK_NAME"])
        self.check("synth", True, (self.work / "synth.txt").read_text())
        self.cert, self.key = self_signed_loopback_cert(_mkdir(self.work / "tls"))
        emulator = start_dynamodb_emulator()
        self.cleanups.append(emulator.stop)
        self.aws = emulator.url
        self.assembly = assembly
        self.resolve = self._resolver(assembly)
        self._variables(assembly)  # static: runs even when a part below does not start

        self._database(assembly)
        self._redis(assembly)
        upstream_port = free_port()
        upstream = self.spawn("upstream", [sys.executable, "-m", "tests.support.fake_openai", str(upstream_port)],
                              {**os.environ, "PYTHONPATH": str(REPO_ROOT)}, REPO_ROOT)  # fmt: skip
        self.upstream = f"http://127.0.0.1:{upstream_port}/v1"
        _wait(lambda: httpx.get(f"{self.upstream}/models", timeout=2).status_code == 200, 30, upstream)

        task1 = self._start_task(1)
        # the second task starts while the first one boots, as ECS starts the service's tasks
        task2 = self._start_task(2, port=self._container_port() + 1)
        if not self._wait_healthy(task1):
            return
        self._database_connections()
        key = self._key_and_chat(task1)
        cached = self._cache(task1, key)
        alb = self._alb(assembly)
        authorizer = load_function(assembly, authorizer_function_id(assembly), self.resolve, self.work)
        context = self._authorizer(authorizer, key)
        self._middleware(assembly, key, context)
        self._ops_health(assembly)
        if self._wait_healthy(task2):
            self._second_task(task2, key, cached)
        alb.stop()
        self._authorizer_unreachable(authorizer, key)

    # -- AWS replaced ----------------------------------------------------------------------------------
    def _resolver(self, assembly: Assembly) -> Resolver:
        parameters = {name: f"rehearsal-{name}" for name in assembly.template.get("Parameters", {})}
        self.secret_values = local_aws.secret_values(assembly, parameters)
        self.secret_arns = local_aws.store_secrets(self.secret_values, self.aws, assembly.region)
        refs = {**parameters, **self.secret_arns, **local_aws.attachment_refs(assembly, self.secret_arns)}
        for kind in ("AWS::S3::Bucket", "AWS::Logs::LogGroup", "AWS::ECS::Cluster"):
            refs.update({lid: f"{lid.lower()}-rehearsal" for lid in assembly.resources(kind)})
        # a function's name: what the rehearsal's Lambda runtime sets as AWS_LAMBDA_FUNCTION_NAME
        refs.update({lid: function_name(lid) for lid in assembly.resources("AWS::Lambda::Function")})
        tables = {**assembly.resources("AWS::DynamoDB::GlobalTable"), **assembly.resources("AWS::DynamoDB::Table")}
        if len(tables) != 1:
            raise TemplateError(f"expected one DynamoDB table (the chat history), found {len(tables)}")
        ((self.table_id, resource),) = tables.items()
        table = resource["Properties"]
        self.table_name = f"{self.table_id.lower()}-rehearsal"
        refs[self.table_id] = self.table_name
        local_aws.create_table(table, self.table_name, self.aws, assembly.region)
        db_id, db = assembly.one("AWS::RDS::DBInstance")
        cache_id, cache = assembly.one("AWS::ElastiCache::ReplicationGroup")
        alb_id, _ = assembly.one("AWS::ElasticLoadBalancingV2::LoadBalancer")
        attributes = {
            (db_id, "Endpoint.Address"): "127.0.0.1",
            (db_id, "Endpoint.Port"): str(db["Port"]),
            (cache_id, "PrimaryEndPoint.Address"): "127.0.0.1",
            (cache_id, "PrimaryEndPoint.Port"): str(cache["Port"]),
            (alb_id, "DNSName"): "127.0.0.1",
            **{(lid, "Name"): f"{lid.lower()}-rehearsal" for lid in assembly.resources("AWS::ECS::Service")},
            # the CDK provider framework's functions name the handlers they invoke (database migrations)
            **{(lid, "Arn"): f"arn:aws:lambda:{assembly.region}:123456789012:function:{function_name(lid)}"
               for lid in assembly.resources("AWS::Lambda::Function")},
        }  # fmt: skip
        refs.update({lid: f"arn:aws:states:{assembly.region}:123456789012:stateMachine:{lid.lower()}-rehearsal"
                     for lid in assembly.resources("AWS::StepFunctions::StateMachine")})  # fmt: skip
        return Resolver(assembly, refs, attributes)

    def _secret(self, value: Any) -> str:
        return local_aws.resolve_dynamic(str(self.resolve(value)), self.secret_values, self.secret_arns)

    def _database(self, assembly: Assembly) -> None:
        _, db = assembly.one("AWS::RDS::DBInstance")
        self.db_port = int(db["Port"])
        self.db_name, self.db_user = db["DBName"], db["MasterUsername"]
        self.pg = TlsPostgres(self.work / "pgdata", self.db_port, durable=False)
        self.cleanups.append(self.pg.stop)
        self.pg.start_tls(self.cert, self.key, self.db_name, self.db_user, self._secret(db["MasterUserPassword"]))
        self.check(
            "rds.tls_required",
            self.pg.plaintext_refused(),
            f"PostgreSQL on the instance's port {self.db_port}, database {self.db_name!r}, user {self.db_user!r}; "
            "plain-text connections refused (hostssl only)",
        )

    def _redis(self, assembly: Assembly) -> None:
        _, cache = assembly.one("AWS::ElastiCache::ReplicationGroup")
        if not cache.get("TransitEncryptionEnabled"):
            raise TemplateError("the cache has no transit encryption: ElastiCache would not speak TLS")
        self.redis_port = int(cache["Port"])
        self.redis_password = self._secret(cache["AuthToken"])
        self.children.append(
            start_redis(self.work / "redis", self.redis_port, self.redis_password, self.cert, self.key)
        )

    def _redis_client(self) -> redis.Redis:
        return redis.Redis(
            host="127.0.0.1", port=self.redis_port, password=self.redis_password, ssl=True,
            ssl_ca_certs=str(self.cert), socket_timeout=5,
        )  # fmt: skip

    # -- the LiteLLM task ------------------------------------------------------------------------------
    def _container(self) -> dict[str, Any]:
        _, task = self.assembly.one("AWS::ECS::TaskDefinition")
        (container,) = task["ContainerDefinitions"]
        return container

    def _task_env(self, image: Image, port_override: int | None = None) -> dict[str, str]:
        container = self._container()
        task_env = {e["Name"]: str(self.resolve(e["Value"])) for e in container.get("Environment", [])}
        if port_override is not None:
            task_env["PORT"] = str(port_override)
        secrets = {
            s["Name"]: local_aws.ecs_secret(str(self.resolve(s["ValueFrom"])), self.aws, self.assembly.region)
            for s in container.get("Secrets", [])
        }
        runtime = {
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(_mkdir(image.root / "root")),
            **local_aws.LOCAL_CREDENTIALS,  # the task role's credentials (ECS serves them to the task)
            "REDIS_SSL_CA_CERTS": str(self.cert),  # trust for the local cert (ElastiCache's is publicly trusted)
            "NODE_EXTRA_CA_CERTS": str(self.cert),  # the offline Prisma engine stand-in (Node) verifies TLS
            **self.kit_env,
        }
        return container_environment(image, task_env, secrets, runtime)

    def _stage(self, number: int) -> Image:
        image = stage_image(self.assembly.image_asset(self._container()["Image"]), self.work / f"task{number}")
        baked = image.path("/app/gateway/config.yaml")
        config = yaml.safe_load(baked.read_text())
        config["model_list"].append(
            {"model_name": REHEARSAL_MODEL, "litellm_params": {
                "model": f"openai/{REHEARSAL_MODEL}", "api_base": self.upstream, "api_key": "rehearsal-upstream"}}
        )  # fmt: skip
        baked.write_text(yaml.safe_dump(config, sort_keys=False))
        return image

    def _migrate(self, image: Image, env: dict[str, str]) -> list[tuple[str, str]]:
        """Apply migrations as the container's start does (offline: the kit's migrate.sh, see docs)."""
        url = subprocess.run(
            [sys.executable, str(image.path("/app/gateway/database_url.py"))],
            env=env, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        kit = find_kit(REPO_ROOT, os.environ)
        if kit is None:
            raise RuntimeError("the offline Prisma kit (../shared/offline-prisma or OFFLINE_PRISMA_KIT) is needed")
        path = f"{self.pg.bin}{os.pathsep}{os.environ.get('PATH', '')}"
        self.kit_env = prepare_database_mode(
            kit, sys.executable, url, {**os.environ, "PATH": path, "PG_BIN": str(self.pg.bin)}
        )
        rows = self.pg.admin_sql(
            "SELECT migration_name || '|' || finished_at FROM \"_prisma_migrations\" ORDER BY 1", self.db_name
        )
        return [tuple(r.split("|", 1)) for r in rows.splitlines()]  # type: ignore[misc]

    def _start_task(self, number: int, port: int | None = None) -> dict[str, Any]:
        """Apply migrations as the start does, then run the image's entrypoint with the task's env."""
        image = self._stage(number)
        self.kit_env = {}
        migrations = self._migrate(image, self._task_env(image, port))
        env = self._task_env(image, port)
        if number == 1:
            self.migrations = migrations
        else:
            self.check(
                "litellm.second_task_no_migrations",
                migrations == self.migrations,
                f"{len(migrations)} migrations recorded once; the second start applied none and changed none",
            )
        child = self.spawn(f"litellm-{number}", image.entrypoint, env, image.path("/app"))
        command = list(self._container()["HealthCheck"]["Command"])
        if port is not None:  # one loopback for both tasks: the second one's port differs (awsvpc would not)
            command = [part.replace(f":{self._container_port()}/", f":{port}/") for part in command]
        return {"number": number, "url": f"http://127.0.0.1:{env['PORT']}", "env": env, "child": child,
                "command": command, "started": time.monotonic()}  # fmt: skip

    def _wait_healthy(self, task: dict[str, Any]) -> bool:
        """Run the task definition's health check command until it passes (within StartPeriod + retries)."""
        health = self._container()["HealthCheck"]
        child, started = task["child"], task["started"]
        deadline = started + health.get("StartPeriod", 0) + health.get("Interval", 30) * health.get("Retries", 3)
        healthy, detail = False, ""
        while time.monotonic() < deadline and child.alive() and not healthy:
            healthy, detail = run_health_check(task["command"], task["env"], float(health.get("Timeout", 5)))
            if not healthy:
                time.sleep(1)
        name = "litellm.healthy" if task["number"] == 1 else "litellm.second_task_healthy"
        seconds = time.monotonic() - started
        if not healthy:
            exited = "the task exited; " if not child.alive() else ""
            errors = [line for line in child.log_tail(200).splitlines() if "rror" in line][-2:]
            detail = f"{exited}health check: {detail.strip().splitlines()[-1:] or ''}; log: {errors}"
        if not self.check(name, healthy, f"the template's health check command passed {seconds:.0f} s after start"
                          if healthy else f"not healthy after {seconds:.0f} s: {detail}"):  # fmt: skip
            self.log(child.log_tail(60))
            return False
        return True

    def _database_connections(self) -> None:
        row = self.pg.admin_sql(
            "SELECT count(*) FILTER (WHERE s.ssl) || '/' || count(*) FROM pg_stat_ssl s "
            f"JOIN pg_stat_activity a USING (pid) WHERE a.usename = '{self.db_user}'"
        )
        tls, total = (int(x) for x in row.split("/"))
        self.check(
            "litellm.database_over_tls",
            total > 0 and tls == total,
            f"{tls} of {total} connections of {self.db_user!r} to port {self.db_port} use TLS",
        )

    def _container_port(self) -> int:
        return int(self._container()["PortMappings"][0]["ContainerPort"])

    def _chat(self, base: str, key: str, text: str, **extra: Any) -> httpx.Response:
        return httpx.post(
            f"{base}/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={"model": REHEARSAL_MODEL, "messages": [{"role": "user", "content": text}], **extra},
            timeout=60,
        )

    def _key_and_chat(self, task: dict[str, Any]) -> str:
        master = task["env"]["LITELLM_MASTER_KEY"]
        made = httpx.post(f"{task['url']}/key/generate", headers={"Authorization": f"Bearer {master}"},
                          json={"models": [REHEARSAL_MODEL]}, timeout=60)  # fmt: skip
        key = made.json().get("key", "") if made.status_code == 200 else ""
        reply = self._chat(task["url"], key, "hello rehearsal") if key else None
        text = (
            reply.json()["choices"][0]["message"]["content"] if reply is not None and reply.status_code == 200 else ""
        )
        self.check(
            "litellm.key_chat",
            text == "Echo: hello rehearsal",
            f"/key/generate with the master key → {made.status_code}; chat with that key → "
            f"{reply.status_code if reply is not None else '-'} {text!r}",
        )
        return key

    def _cache(self, task: dict[str, Any], key: str) -> dict[str, Any]:
        body = {"cache": {"use-cache": True}}
        text = f"cache me {time.time()}"
        first = self._chat(task["url"], key, text, **body)
        second = self._chat(task["url"], key, text, **body)
        names = [k.decode(errors="replace") for k in self._redis_client().scan_iter(count=1000)]
        keys = len(names)
        usage = sum(1 for n in names if ":tpm:" in n or ":rpm:" in n)
        hit = (
            first.status_code == second.status_code == 200
            and bool(second.headers.get("x-litellm-cache-key"))
            and second.json()["id"] == first.json()["id"]
        )
        self.check(
            "litellm.redis_cache",
            hit and keys > 0,
            f"second identical request served from the cache (same id, x-litellm-cache-key set): {hit}; "
            f"{keys} keys in Redis (TLS + AUTH on port {self.redis_port}), {usage} of them the router's "
            "tpm/rpm counters",
        )
        return {"text": text, "id": first.json().get("id") if first.status_code == 200 else None, **body}

    # -- through the ALB: functions --------------------------------------------------------------------
    def _alb(self, assembly: Assembly) -> Forwarder:
        _, listener = assembly.one("AWS::ElasticLoadBalancingV2::Listener")
        _, group = assembly.one("AWS::ElasticLoadBalancingV2::TargetGroup")
        alb = Forwarder(int(listener["Port"]), int(group["Port"]))
        alb.start()
        self.cleanups.append(alb.stop)
        return alb

    def _function_env(self, function: Function) -> dict[str, str]:
        return {
            **function.lambda_environment(self.work),
            **local_aws.LOCAL_CREDENTIALS,  # the function role's credentials (Lambda sets them)
            "AWS_REGION": self.assembly.region,
            "AWS_DEFAULT_REGION": self.assembly.region,
            "AWS_ENDPOINT_URL": self.aws,  # Secrets Manager and DynamoDB: the emulator
            **function.environment,
        }

    def _authorizer(self, function: Function, key: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json", "Host": "rehearsal"}
        good = authorizer_event(self.assembly, "POST", "/v1/chat/completions", headers)
        bad = authorizer_event(
            self.assembly, "POST", "/v1/chat/completions", {**headers, "Authorization": "Bearer sk-wrong"}
        )
        if good is None or bad is None:
            raise TemplateError("the authorizer's identity sources exclude the Authorization header")
        allowed, denied = invoke(function, [good, bad], self._function_env(function))
        result = allowed.get("result") or {}
        statement = (result.get("policyDocument") or {}).get("Statement", [{}])[0]
        context = result.get("context") or {}
        self.check(
            "authorizer.allows_a_good_key",
            statement.get("Effect") == "Allow"
            and context.get("principal_type") == "key"
            and bool(context.get("key_hash")),
            f"{statement.get('Effect')} {statement.get('Resource')} context={sorted(context)} "
            f"in {allowed['seconds']} s "
            f"(Timeout {function.timeout:.0f} s) {allowed.get('errorMessage', '')}",
        )
        self.check(
            "authorizer.denies_a_bad_key",
            denied.get("errorMessage") == "Unauthorized",
            f"{denied.get('errorType')}: {denied.get('errorMessage')} in {denied['seconds']} s",
        )
        return {**context, "principalId": result.get("principalId", ""), "integrationLatency": 0}

    def _authorizer_unreachable(self, function: Function, key: str) -> None:
        headers = {"Authorization": f"Bearer {key}"}
        (outcome,) = invoke(function, [authorizer_event(self.assembly, "GET", "/v1/models", headers)],
                            self._function_env(function))  # fmt: skip
        clear = outcome.get("errorType") not in (None, "Sandbox.Timedout") and outcome.get("errorMessage") not in (
            None, "", "Unauthorized")  # fmt: skip
        self.check(
            "authorizer.litellm_unreachable",
            clear,
            f"ALB down → {outcome.get('errorType')}: {outcome.get('errorMessage')!r} in {outcome['seconds']} s "
            f"(Timeout {function.timeout:.0f} s; API Gateway answers 500, never Allow)",
        )

    def _middleware(self, assembly: Assembly, key: str, authorizer_context: dict[str, Any]) -> None:
        function = load_function(assembly, middleware_function_id(assembly), self.resolve, self.work)
        env = self._function_env(function)
        child = self.spawn("api", [str(function.code / "run.sh")], env, function.code)
        port, ready_path = env["PORT"], env.get("AWS_LWA_READINESS_CHECK_PATH", "/")
        base = f"http://127.0.0.1:{port}"
        status = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and child.alive() and not 100 <= status < 500:
            with contextlib.suppress(httpx.HTTPError):
                status = httpx.get(base + ready_path, timeout=2).status_code
            time.sleep(0.2)
        if not self.check("api.readiness", status == 200, f"GET {ready_path} on PORT {port} → {status}"):
            self.log(child.log_tail(40))
            return
        stage, path = stage_name(assembly), "/v1/chat/completions"

        def forwarded(authorization: str) -> dict[str, str]:
            return {
                "Authorization": authorization,
                "x-amzn-request-context": json.dumps(request_context(stage, "POST", path, authorizer_context)),
                "x-amzn-lambda-context": json.dumps({"request_id": "rehearsal", "deadline": 0,
                                                     "invoked_function_arn": function.logical_id}),
            }  # fmt: skip

        body = {"model": REHEARSAL_MODEL, "messages": [{"role": "user", "content": "through the gateway"}]}
        reply = httpx.post(base + path, headers=forwarded(f"Bearer {key}"), json=body, timeout=60)
        text = (
            reply.json().get("choices", [{}])[0].get("message", {}).get("content")
            if reply.status_code == 200
            else reply.text[:200]
        )
        items = local_aws.client("dynamodb", self.aws, assembly.region).scan(TableName=self.table_name)["Count"]
        self.check(
            "api.chat_with_authorizer_context",
            reply.status_code == 200 and text == "Echo: through the gateway" and items > 0,
            f"POST {path} as the Web Adapter forwards it → {reply.status_code} {text!r}; "
            f"{items} history items in the table",
        )
        other = httpx.post(base + path, headers=forwarded("Bearer sk-someone-else"), json=body, timeout=60)
        self.check(
            "api.context_bound_to_the_credential",
            other.status_code == 401,
            f"the same authorizer context with another key → {other.status_code}",
        )

    def _ops_health(self, assembly: Assembly) -> None:
        """The ops function's ``health`` task (its console test event) through the ALB, as an operator runs it."""
        from rehearsal.expectations import is_ops

        found = [
            function
            for logical in assembly.resources("AWS::Lambda::Function")
            if "S3Key" in assembly.resources("AWS::Lambda::Function")[logical]["Properties"].get("Code", {})
            and is_ops(function := load_function(assembly, logical, self.resolve, self.work))
        ]
        if len(found) != 1:
            raise TemplateError(f"expected one ops function (functions/ops), found {len(found)}")
        (function,) = found
        event = {**json.loads((REPO_ROOT / "functions/ops/events/health.json").read_text()), "model": REHEARSAL_MODEL}
        (outcome,) = invoke(function, [event], self._function_env(function))
        result = outcome.get("result") or {}
        checks = result.get("checks") or {}
        self.check(
            "ops.health",
            result.get("healthy") is True
            and {"litellm_readiness", "litellm_cache", "dynamodb", "completion"} <= set(checks),
            f"{event} → healthy={result.get('healthy')} "
            + ", ".join(f"{name}={'ok' if c.get('ok') else c.get('error')}" for name, c in checks.items())
            + f" in {outcome['seconds']} s {outcome.get('errorMessage', '')}",
        )

    def _second_task(self, task: dict[str, Any], key: str, cached: dict[str, Any]) -> None:
        reply = self._chat(task["url"], key, cached["text"], cache=cached["cache"])
        shared = reply.status_code == 200 and reply.json().get("id") == cached["id"]
        self.check(
            "litellm.second_task_shares_state",
            shared,
            f"the first task's key works on the second ({reply.status_code}) and its cached answer is a hit: {shared}",
        )

    # -- every variable is read ------------------------------------------------------------------------
    def _variables(self, assembly: Assembly) -> None:
        from rehearsal.expectations import components

        for component in components(assembly, self.resolve, self.work, self._container()):
            problems = audit(component)
            self.check(
                f"variables.{component.name}",
                not problems,
                "; ".join(problems) or f"all {len(component.variables)} variables read, every required one set",
            )


def prepare(work: Path) -> None:
    """What needs the network, done before the rehearsal's own network namespace: the synth (the layer
    build fetches wheels the first time) and the offline Prisma kit's one-time setup (npm)."""
    started = time.monotonic()
    assembly = synthesize(work / "cdk.out")
    seconds = time.monotonic() - started
    (work / "synth.txt").write_text(f"{len(assembly.template['Resources'])} resources in {seconds:.0f} s")
    kit = find_kit(REPO_ROOT, os.environ)
    if kit is None:
        raise RuntimeError("the offline Prisma kit (../shared/offline-prisma or OFFLINE_PRISMA_KIT) is needed")
    subprocess.run(["bash", str(kit / "setup.sh"), sys.executable], check=True, capture_output=True)


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _wait(ready: Callable[[], bool], timeout: float, child: Child) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, OSError):
            if ready():
                return
        if not child.alive():
            break
        time.sleep(0.2)
    raise RuntimeError(f"{child.name} did not start:\n{child.log_tail()}")


def results(checks: list[Check], seconds: float) -> dict[str, Any]:
    return {"seconds": round(seconds, 1), "checks": [asdict(c) for c in checks]}

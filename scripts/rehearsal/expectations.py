"""Who reads each variable and what each component requires: the explicit, justified lists of the
"every variable is read" check (``variables.audit`` does the scanning)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rehearsal.functions import Function, authorizer_function_id, load_function, middleware_function_id
from rehearsal.template import REPO_ROOT, Assembly, Resolver
from rehearsal.variables import Component, ReadElsewhere, config_references, imported_code

LITELLM_SOURCE = Path(importlib.util.find_spec("litellm").origin).parent  # type: ignore[union-attr,arg-type]

_LWA = "the Lambda Web Adapter layer (documented settings, read in its src/lib.rs; the rehearsal plays it)"
LAMBDA_READS = {
    "AWS_LAMBDA_EXEC_WRAPPER": ReadElsewhere(
        "the Lambda runtime: runs this wrapper (the Web Adapter's /opt/bootstrap) in front of the handler"
    ),
    "AWS_LWA_INVOKE_MODE": ReadElsewhere(_LWA),
    "AWS_LWA_READINESS_CHECK_PATH": ReadElsewhere(_LWA),
}


def _secret_arn_reader(opt_python: Path) -> ReadElsewhere:
    return ReadElsewhere("gateway/settings.py _secret(): NAME_SECRET_ARN", opt_python / "gateway" / "settings.py",
                         '_SECRET_ARN"')  # fmt: skip


_CLI = LITELLM_SOURCE / "proxy" / "proxy_cli.py"
#: What the pinned ``litellm`` CLI reads as click option defaults (``envvar=``), which the lookup scan
#: cannot see; the entrypoint passes neither option itself, so the variable is what the CLI uses.
LITELLM_CLI_READS = {
    "NUM_WORKERS": ReadElsewhere("litellm CLI --num_workers (click envvar)", _CLI, 'envvar="NUM_WORKERS"'),
    "TIMEOUT_WORKER_HEALTHCHECK": ReadElsewhere(
        "litellm CLI --timeout_worker_healthcheck (click envvar)", _CLI, 'envvar="TIMEOUT_WORKER_HEALTHCHECK"'
    ),
    "GRACEFUL_SHUTDOWN_TIMEOUT": ReadElsewhere(
        "litellm GracefulShutdownManager.get_timeout(), which the CLI passes to uvicorn/gunicorn",
        LITELLM_SOURCE / "proxy" / "shutdown" / "graceful_shutdown_manager.py",
        'os.getenv("GRACEFUL_SHUTDOWN_TIMEOUT")',
    ),
}


#: Settings the gateway functions cannot run correctly without (alternatives in one tuple), and why:
#: LITELLM_BASE_URL defaults to loopback, HISTORY_TABLE_NAME to a local name, the auth mode to inline.
FUNCTION_REQUIRED = (
    ("LITELLM_BASE_URL",),
    ("LITELLM_MASTER_KEY", "LITELLM_MASTER_KEY_SECRET_ARN"),
    ("GATEWAY_HASH_SALT", "GATEWAY_HASH_SALT_SECRET_ARN"),
)
API_REQUIRED = (
    *FUNCTION_REQUIRED,
    ("GATEWAY_AUTH_MODE",),
    ("HISTORY_TABLE_NAME",),
    ("AWS_LAMBDA_EXEC_WRAPPER",),
    ("AWS_LWA_INVOKE_MODE",),
    ("AWS_LWA_READINESS_CHECK_PATH",),
    ("PORT",),
)
API_VALUES = {
    "GATEWAY_AUTH_MODE": "apigateway",  # API Gateway already ran the authorizer
    "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",  # the Web Adapter's entry point
    "AWS_LWA_INVOKE_MODE": "response_stream",  # streams must stream
}
#: The ops function: ``aws_platform`` indexes OPS_ECS_CLUSTER, OPS_ECS_SERVICE and the master key's ARN
#: (it writes the secret, so no plain LITELLM_MASTER_KEY), the handler LITELLM_BASE_URL; without
#: OPS_GATEWAY_FUNCTIONS a rotation would restart no function, without HISTORY_TABLE_NAME export/purge
#: and the health check would use the local default table.
OPS_REQUIRED = (
    ("LITELLM_BASE_URL",),
    ("LITELLM_MASTER_KEY_SECRET_ARN",),
    ("HISTORY_TABLE_NAME",),
    ("OPS_ECS_CLUSTER",),
    ("OPS_ECS_SERVICE",),
    ("OPS_GATEWAY_FUNCTIONS",),
)
OPS_HANDLER = REPO_ROOT / "functions" / "ops" / "handler.py"
#: LiteLLM container requirements beyond the config's ``os.environ/`` references and database_url.py:
#: the salt key encrypts provider credentials stored in the DB (STORE_MODEL_IN_DB); REDIS_SSL because
#: ElastiCache only speaks TLS.
CONTAINER_REQUIRED = (("LITELLM_SALT_KEY",), ("REDIS_SSL",))
CONTAINER_VALUES = {"REDIS_SSL": "true"}


def _database_url_required(image: Path) -> tuple[str, ...]:
    spec = importlib.util.spec_from_file_location("rehearsal_database_url", image / "database_url.py")
    if spec is None or spec.loader is None or not (image / "database_url.py").is_file():
        return ()
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return tuple(module.REQUIRED)


def container_component(assembly: Assembly, container: dict[str, Any]) -> Component:
    image = assembly.image_asset(container["Image"])
    names = [e["Name"] for e in container.get("Environment", [])] + [s["Name"] for s in container.get("Secrets", [])]
    values = {e["Name"]: str(e["Value"]) for e in container.get("Environment", [])}
    values.update({s["Name"]: "<secret>" for s in container.get("Secrets", [])})
    config = image / "config.yaml"
    entrypoint = image / "entrypoint.sh"
    # only the scripts the entrypoint runs count as the container reading something
    started_by_the_entrypoint = [p for p in sorted(image.glob("*.py")) if p.name in entrypoint.read_text()]
    _, outside_models = config_references(config)
    required = [(n,) for n in sorted(outside_models)] + [(n,) for n in _database_url_required(image)]
    return Component(
        name="litellm",
        variables={n: values[n] for n in names},
        own_code=[entrypoint, *started_by_the_entrypoint],
        library_code=[LITELLM_SOURCE],
        config=config,
        required=[*required, *CONTAINER_REQUIRED],
        read_elsewhere=LITELLM_CLI_READS,
        expected_values=CONTAINER_VALUES,
    )


def components(assembly: Assembly, resolve: Resolver, work: Path, container: dict[str, Any]) -> Iterator[Component]:
    """The container, then every Lambda function the template gives an environment (ours, from assets)."""
    yield container_component(assembly, container)
    known = {
        middleware_function_id(assembly): ("api", API_REQUIRED, API_VALUES),
        authorizer_function_id(assembly): ("authorizer", FUNCTION_REQUIRED, {}),
    }
    for logical, props in sorted(assembly.resources("AWS::Lambda::Function").items()):
        properties = props["Properties"]
        if not properties.get("Environment", {}).get("Variables") or "S3Key" not in properties.get("Code", {}):
            continue
        function = load_function(assembly, logical, resolve, work)
        if logical not in known and is_ops(function):
            known[logical] = ("ops", OPS_REQUIRED, {})
        name, required, values = known.get(logical, (logical, (), {}))
        packages = {p.name: p.resolve() for p in function.opt_python.iterdir()}
        arn_reader = _secret_arn_reader(function.opt_python)
        framework = _provider_framework_reads(function)
        secret_arns = ("LITELLM_MASTER_KEY_SECRET_ARN", "GATEWAY_HASH_SALT_SECRET_ARN")
        yield Component(
            name=name,
            variables=function.environment,
            own_code=imported_code([function.code], packages),  # the layer modules the code imports
            read_elsewhere={**LAMBDA_READS, **dict.fromkeys(secret_arns, arn_reader), **framework},
            required=required,
            expected_values=values,
        )


#: What the CDK provider framework's own function (``custom_resources.Provider``, used by the database
#: migrations' custom resource) reads: the handlers it invokes and its waiter, named in its consts.js.
PROVIDER_FRAMEWORK_VARIABLES = (
    "USER_ON_EVENT_FUNCTION_ARN",
    "USER_IS_COMPLETE_FUNCTION_ARN",
    "WAITER_STATE_MACHINE_ARN",
)


def _provider_framework_reads(function: Function) -> dict[str, ReadElsewhere]:
    consts = function.code / "consts.js"
    reader = "the CDK provider framework (framework.js, names in consts.js)"
    return {name: ReadElsewhere(reader, consts, f'"{name}"') for name in PROVIDER_FRAMEWORK_VARIABLES}


def is_ops(function: Function) -> bool:
    """Whether ``function`` is built from ``functions/ops`` (its handler file is that one)."""
    handler = function.code / "handler.py"
    return handler.is_file() and handler.read_bytes() == OPS_HANDLER.read_bytes()

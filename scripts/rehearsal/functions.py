"""The gateway's Lambda functions as Lambda runs them: code and layers from the template's assets, the
function's ``Environment``, the variables Lambda itself sets, and for the middleware the Lambda Web
Adapter's part (start the handler script, wait for the readiness path, forward requests as HTTP with
the API Gateway request context in ``x-amzn-request-context``)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rehearsal.template import Assembly, Resolver, TemplateError

#: Layers that carry our own Python packages (pure Python); their third-party wheels are built for the
#: Lambda platform (arm64, CPython 3.13) and are replaced by this virtualenv's builds of the same pins.
OWN_PACKAGES = ("gateway",)
RUNTIME_VERSION = "python3.13"


@dataclass(frozen=True)
class Function:
    logical_id: str
    properties: dict[str, Any]
    code: Path
    opt_python: Path  # plays /opt/python (links to our packages in the layer assets)
    environment: dict[str, str]  # the template's Environment.Variables, resolved

    @property
    def timeout(self) -> float:
        return float(self.properties.get("Timeout", 3))

    def lambda_environment(self, work: Path) -> dict[str, str]:
        """What the Lambda runtime adds to every function (reserved variables), with local paths."""
        name = function_name(self.logical_id)
        return {
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.properties.get("MemorySize", 128)),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "rehearsal",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{self.properties.get('Runtime', RUNTIME_VERSION)}",
            "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
            "LAMBDA_TASK_ROOT": str(self.code),
            "LAMBDA_RUNTIME_DIR": str(work / "runtime"),
            "_HANDLER": str(self.properties["Handler"]),
            "TZ": ":UTC",
            "LANG": "en_US.UTF-8",
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "PYTHONPATH": str(self.opt_python),  # the layers' /opt/python, which run.sh also names literally
        }


def function_name(logical_id: str) -> str:
    """The local name of a function (its ``Ref``, and ``AWS_LAMBDA_FUNCTION_NAME`` when it runs)."""
    return f"{logical_id}-rehearsal"


def authorizer_function_id(assembly: Assembly) -> str:
    """The function the API's authorizer invokes (the ``Fn::GetAtt [id, Arn]`` in its ``AuthorizerUri``)."""
    _, props = assembly.one("AWS::ApiGateway::Authorizer")

    def targets(value: Any) -> list[str]:
        if isinstance(value, dict):
            if "Fn::GetAtt" in value and value["Fn::GetAtt"][1] == "Arn":
                return [value["Fn::GetAtt"][0]]
            return [t for v in value.values() for t in targets(v)]
        if isinstance(value, list):
            return [t for v in value for t in targets(v)]
        return []

    found = set(targets(props["AuthorizerUri"]))
    if len(found) != 1:
        raise TemplateError(f"the authorizer's URI names {len(found)} functions")
    return found.pop()


def middleware_function_id(assembly: Assembly) -> str:
    """The function behind the Web Adapter (handler ``run.sh``)."""
    return assembly.function("run.sh")[0]


def load_function(assembly: Assembly, logical: str, resolve: Resolver, work: Path) -> Function:
    props = assembly.resources("AWS::Lambda::Function")[logical]["Properties"]
    code = assembly.file_asset(props["Code"])
    opt = work / f"opt-{logical}" / "python"
    opt.mkdir(parents=True, exist_ok=True)
    for layer in props.get("Layers", []):
        if not isinstance(layer, dict):
            continue  # a published layer by ARN (the Web Adapter): played by this module
        content = assembly.resources("AWS::Lambda::LayerVersion")[layer["Ref"]]["Properties"]["Content"]
        for package in OWN_PACKAGES:
            source = assembly.file_asset(content) / "python" / package
            if source.is_dir() and not (opt / package).exists():
                (opt / package).symlink_to(source)
    variables = props.get("Environment", {}).get("Variables", {})
    environment = {name: str(resolve(value)) for name, value in variables.items()}
    return Function(logical, props, code, opt, environment)


def invoke(function: Function, events: list[dict], env: Mapping[str, str]) -> list[dict]:
    """Invoke the handler once per event in one fresh execution environment (a cold start)."""
    runner = Path(__file__).with_name("lambda_invoke.py")
    out = subprocess.run(
        [sys.executable, str(runner), str(function.timeout), str(function.opt_python)],
        input=json.dumps(events),
        env=dict(env),
        cwd=function.code,
        capture_output=True,
        text=True,
        timeout=60 + function.timeout * len(events),
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{function.logical_id} init failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def identity_sources(assembly: Assembly) -> tuple[list[str], int]:
    """The REQUEST authorizer's identity-source header names (lower-case) and its result TTL."""
    _, props = assembly.one("AWS::ApiGateway::Authorizer")
    if props.get("Type") != "REQUEST":
        raise TemplateError(f"the authorizer is {props.get('Type')}, the rehearsal plays a REQUEST authorizer")
    sources = [s.strip() for s in str(props.get("IdentitySource") or "").split(",") if s.strip()]
    headers = [s.removeprefix("method.request.header.").lower() for s in sources]
    return headers, int(props.get("AuthorizerResultTtlInSeconds", 300))


def stage_name(assembly: Assembly) -> str:
    stages = assembly.resources("AWS::ApiGateway::Stage")
    return next((s["Properties"].get("StageName", "prod") for s in stages.values()), "prod")


def request_context(stage: str, method: str, path: str, authorizer: Mapping[str, Any] | None) -> dict[str, Any]:
    """API Gateway's REST ``requestContext`` (what the Web Adapter forwards as ``x-amzn-request-context``)."""
    context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "rehearsal",
        "resourceId": "rehearsal",
        "stage": stage,
        "requestId": str(uuid.uuid4()),
        "httpMethod": method,
        "path": f"/{stage}{path}",
        "resourcePath": path,
        "protocol": "HTTP/1.1",
        "identity": {"sourceIp": "127.0.0.1", "userAgent": "rehearsal"},
    }
    if authorizer is not None:
        context["authorizer"] = dict(authorizer)
    return context


def authorizer_event(assembly: Assembly, method: str, path: str, headers: Mapping[str, str]) -> dict[str, Any] | None:
    """The REQUEST authorizer event API Gateway sends for this request, or None when a listed identity
    source is missing (API Gateway then answers 401 itself and never calls the function)."""
    sources, _ = identity_sources(assembly)
    lower = {k.lower() for k in headers}
    if any(source not in lower for source in sources):
        return None
    stage = stage_name(assembly)
    return {
        "type": "REQUEST",
        "methodArn": f"arn:aws:execute-api:{assembly.region}:123456789012:rehearsal/{stage}/{method}{path}",
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": dict(headers),
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {},
        "multiValueQueryStringParameters": {},
        "pathParameters": {},
        "stageVariables": {},
        "requestContext": request_context(stage, method, path, None),
    }

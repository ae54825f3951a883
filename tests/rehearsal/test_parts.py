"""The rehearsal's own parts, without booting anything: template reading, local secrets, the image
layout, authorizer events and the "every variable is read" audit (an unread or unset name fails by name)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from rehearsal import local_aws
from rehearsal.container import stage_image
from rehearsal.functions import authorizer_event
from rehearsal.template import Assembly, Resolver, TemplateError
from rehearsal.variables import Component, ReadElsewhere, audit

ROOT = Path(__file__).resolve().parents[2]


def assembly(resources: dict, tmp_path: Path) -> Assembly:
    return Assembly(tmp_path, "Stack", {"Resources": resources}, {"files": {}, "dockerImages": {}})


def test_resolver_resolves_what_it_was_given_and_names_what_it_was_not(tmp_path: Path) -> None:
    resolve = Resolver(assembly({}, tmp_path), {"Bucket": "b"}, {("Db", "Endpoint.Port"): "5532"})
    value = {"Fn::Join": [":", [{"Ref": "Bucket"}, {"Fn::GetAtt": ["Db", "Endpoint.Port"]}, {"Ref": "AWS::Region"}]]}
    assert resolve(value) == "b:5532:eu-west-1"
    assert resolve({"Fn::Sub": "x-${Bucket}-${Db.Endpoint.Port}"}) == "x-b-5532"
    with pytest.raises(TemplateError, match=r"Fn::GetAtt Cache\.PrimaryEndPoint\.Port"):
        resolve({"Fn::GetAtt": ["Cache", "PrimaryEndPoint.Port"]})


def test_secrets_are_generated_and_dynamic_references_followed(tmp_path: Path) -> None:
    resources = {
        "Seed": {"Type": "AWS::SecretsManager::Secret",
                 "Properties": {"GenerateSecretString": {"PasswordLength": 12, "ExcludePunctuation": True}}},
        "Master": {"Type": "AWS::SecretsManager::Secret", "Properties": {"SecretString": {"Fn::Join": ["", [
            "sk-{{resolve:secretsmanager:", {"Ref": "Seed"}, ":SecretString:::}}"]]}}},
        "Db": {"Type": "AWS::SecretsManager::Secret", "Properties": {"GenerateSecretString": {
            "PasswordLength": 30, "GenerateStringKey": "password", "SecretStringTemplate": '{"username":"litellm"}',
            "ExcludeCharacters": "@/"}}},
        "Provider": {"Type": "AWS::SecretsManager::Secret", "Properties": {"SecretString": {"Ref": "OpenaiKey"}}},
    }  # fmt: skip
    values = local_aws.secret_values(assembly(resources, tmp_path), {"OpenaiKey": "sk-provider"})
    assert values["Master"] == "sk-" + values["Seed"] and len(values["Seed"]) == 12 and values["Seed"].isalnum()
    db = json.loads(values["Db"])
    assert db["username"] == "litellm" and len(db["password"]) == 30 and not {"@", "/"} & set(db["password"])
    assert values["Provider"] == "sk-provider"
    arns = {lid: f"arn:aws:secretsmanager:eu-west-1:123456789012:secret:{lid}-AbCdEf" for lid in values}
    text = "{{resolve:secretsmanager:" + arns["Db"] + ":SecretString:password::}}"
    assert local_aws.resolve_dynamic(text, values, arns) == db["password"]


def test_the_image_is_laid_out_from_its_dockerfile(tmp_path: Path) -> None:
    context = tmp_path / "context"
    context.mkdir()
    for name in ("Dockerfile", "entrypoint.sh", "render_config.py", "database_url.py"):
        (context / name).write_bytes((ROOT / "litellm_service" / name).read_bytes())
    (context / "config.yaml").write_text("model_list: []\n")
    image = stage_image(context, tmp_path / "root")
    assert image.entrypoint == [str(tmp_path / "root/app/gateway/entrypoint.sh")]
    assert image.env["PORT"] == "4000"
    assert image.env["LITELLM_CONFIG_TEMPLATE"] == str(tmp_path / "root/app/gateway/config.yaml")
    assert image.path("/app/gateway/entrypoint.sh").stat().st_mode & stat.S_IXUSR
    assert image.path("/app/gateway/database_url.py").is_file()


def _authorizer(identity_source: str) -> dict:
    props = {"Type": "REQUEST", "IdentitySource": identity_source, "AuthorizerResultTtlInSeconds": 0}
    return {"Auth": {"Type": "AWS::ApiGateway::Authorizer", "Properties": props},
            "Stage": {"Type": "AWS::ApiGateway::Stage", "Properties": {"StageName": "prod"}}}  # fmt: skip


def test_authorizer_events_follow_the_identity_sources(tmp_path: Path) -> None:
    listed = assembly(_authorizer("method.request.header.Authorization"), tmp_path)
    assert authorizer_event(listed, "POST", "/v1/chat/completions", {"x-api-key": "sk-1"}) is None  # 401 by API GW
    event = authorizer_event(listed, "POST", "/v1/chat/completions", {"Authorization": "Bearer k", "x-api-key": "s"})
    assert event is not None and event["headers"] == {"Authorization": "Bearer k", "x-api-key": "s"}
    assert event["methodArn"].endswith("/prod/POST/v1/chat/completions") and event["type"] == "REQUEST"
    none_listed = assembly(_authorizer(""), tmp_path)
    event = authorizer_event(none_listed, "GET", "/v1/models", {"api-key": "sk-2"})
    assert event is not None and event["headers"] == {"api-key": "sk-2"}


def test_an_unread_variable_fails_with_its_name(tmp_path: Path) -> None:
    code = tmp_path / "code.py"
    code.write_text('import os\nURL = os.environ.get("LITELLM_BASE_URL")\n')
    component = Component("api", {"LITELLM_BASE_URL": "http://x", "POWERTOOLS_METRICS_NAMESPACE": "N"}, [code])
    assert audit(component) == ["api: POWERTOOLS_METRICS_NAMESPACE is set by the template but nothing reads it"]


def test_an_unset_requirement_or_a_wrong_value_fails_with_its_name(tmp_path: Path) -> None:
    code = tmp_path / "run.sh"
    code.write_text('exec app --port "${PORT:-8080}" --mode "$GATEWAY_AUTH_MODE"\n')
    component = Component(
        "api",
        {"PORT": "8080", "GATEWAY_AUTH_MODE": "inline"},
        [code],
        required=[("PORT",), ("LITELLM_MASTER_KEY", "LITELLM_MASTER_KEY_SECRET_ARN")],
        expected_values={"GATEWAY_AUTH_MODE": "apigateway"},
    )
    assert audit(component) == [
        "api: LITELLM_MASTER_KEY or LITELLM_MASTER_KEY_SECRET_ARN is required but the template does not set it",
        "api: GATEWAY_AUTH_MODE must be 'apigateway', the template sets 'inline'",
    ]


def test_a_stale_justification_fails(tmp_path: Path) -> None:
    settings = tmp_path / "settings.py"
    settings.write_text("def secret(name): return name\n")
    reader = ReadElsewhere("settings.py NAME_SECRET_ARN", settings, '_SECRET_ARN"')
    component = Component("api", {"X_SECRET_ARN": "arn"}, [], read_elsewhere={"X_SECRET_ARN": reader})
    assert audit(component) == ["api: X_SECRET_ARN: the listed reader (settings.py NAME_SECRET_ARN) no longer reads it"]


def _image_assembly(tmp_path: Path, entrypoint: str) -> tuple[Assembly, dict]:
    image = tmp_path / "asset.image"
    image.mkdir(parents=True)
    for name in ("Dockerfile", "render_config.py", "database_url.py"):
        (image / name).write_bytes((ROOT / "litellm_service" / name).read_bytes())
    (image / "entrypoint.sh").write_text(entrypoint)
    (image / "config.yaml").write_text("general_settings: {master_key: os.environ/LITELLM_MASTER_KEY}\n")
    assets = {"files": {}, "dockerImages": {"abc": {"source": {"directory": "asset.image"}}}}
    environment = {"PORT": "4000", "DATABASE_HOST": "h", "DATABASE_PORT": "5532", "DATABASE_NAME": "litellm",
                   "REDIS_SSL": "true"}  # fmt: skip
    secrets = ("LITELLM_MASTER_KEY", "LITELLM_SALT_KEY", "DATABASE_USERNAME", "DATABASE_PASSWORD")
    container = {
        "Image": {"Fn::Sub": "123.dkr.ecr/repo:abc"},
        "Environment": [{"Name": k, "Value": v} for k, v in environment.items()],
        "Secrets": [{"Name": n, "ValueFrom": "arn"} for n in secrets],
    }
    return Assembly(tmp_path, "Stack", {"Resources": {}}, assets), container


def test_litellm_ignoring_database_port_is_caught(tmp_path: Path) -> None:
    """Before the fix the entrypoint never ran database_url.py and LiteLLM's CLI ignores DATABASE_PORT: the
    audit names it, although LiteLLM's source mentions it (only on the IAM-token path)."""
    from rehearsal.expectations import container_component

    before = 'python3 "$here/render_config.py" in out\nexec litellm --config out --port "${PORT:-4000}"\n'
    problems = audit(container_component(*_image_assembly(tmp_path / "before", before)))
    assert problems == ["litellm: DATABASE_PORT is set by the template but nothing reads it"]
    fixed = (ROOT / "litellm_service" / "entrypoint.sh").read_text()
    assert audit(container_component(*_image_assembly(tmp_path / "fixed", fixed))) == []


def test_only_the_layer_modules_a_function_imports_count_as_reading(tmp_path: Path) -> None:
    """A variable read only by a layer module the function never imports (``make ops``'s local runner,
    say) is unread in that function, even though the layer ships the module."""
    from rehearsal.variables import imported_code

    layer = tmp_path / "opt" / "gateway"
    (layer / "ops").mkdir(parents=True)
    (layer / "__init__.py").write_text("")
    (layer / "ops" / "__init__.py").write_text("")
    (layer / "ops" / "platform.py").write_text('import os\nCLUSTER = os.environ["OPS_ECS_CLUSTER"]\n')
    (layer / "ops" / "dispatch.py").write_text("def run():\n    from .platform import CLUSTER\n    return CLUSTER\n")
    (layer / "ops" / "local.py").write_text('import os\nDIR = os.environ.get("GATEWAY_LOCAL_DIR")\n')
    code = tmp_path / "code"
    code.mkdir()
    (code / "handler.py").write_text("from gateway.ops.dispatch import run\n")
    own = imported_code([code], {"gateway": layer})
    assert {p.relative_to(tmp_path).as_posix() for p in own} == {
        "code/handler.py", "opt/gateway/__init__.py", "opt/gateway/ops/__init__.py",
        "opt/gateway/ops/dispatch.py", "opt/gateway/ops/platform.py",
    }  # fmt: skip
    component = Component("ops", {"OPS_ECS_CLUSTER": "c", "GATEWAY_LOCAL_DIR": "/tmp"}, own)
    assert audit(component) == ["ops: GATEWAY_LOCAL_DIR is set by the template but nothing reads it"]


def test_a_stale_justification_fails_even_when_something_else_mentions_the_name(tmp_path: Path) -> None:
    """NUM_WORKERS also appears in a LiteLLM getenv off the CLI path; the CLI's envvar is the reader."""
    cli = tmp_path / "proxy_cli.py"
    cli.write_text('@click.option("--num_workers", default=1)\n')
    code = tmp_path / "server.py"
    code.write_text('import os\nos.getenv("NUM_WORKERS", "1")\n')
    reader = ReadElsewhere("litellm CLI --num_workers", cli, 'envvar="NUM_WORKERS"')
    component = Component("litellm", {"NUM_WORKERS": "2"}, [code], read_elsewhere={"NUM_WORKERS": reader})
    assert audit(component) == [
        "litellm: NUM_WORKERS: the listed reader (litellm CLI --num_workers) no longer reads it"
    ]


def test_the_litellm_cli_readers_hold_for_the_pinned_litellm() -> None:
    from rehearsal.expectations import LITELLM_CLI_READS

    assert sorted(LITELLM_CLI_READS) == ["GRACEFUL_SHUTDOWN_TIMEOUT", "NUM_WORKERS", "TIMEOUT_WORKER_HEALTHCHECK"]
    assert [name for name, reader in LITELLM_CLI_READS.items() if not reader.holds()] == []

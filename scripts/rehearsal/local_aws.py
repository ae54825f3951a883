"""AWS replaced by local values: the template's secrets (generated or templated as CloudFormation would)
in moto's Secrets Manager, the chat-history table with the template's shape in moto's DynamoDB, and
the ECS agent's secret injection (``ValueFrom`` → value)."""

from __future__ import annotations

import json
import re
import secrets
import string
from collections.abc import Mapping
from typing import Any

import boto3

from rehearsal.template import Assembly, Resolver

_DYNAMIC = re.compile(r"\{\{resolve:secretsmanager:([^{}]+?):SecretString:([^:}]*):[^:}]*:[^}]*\}\}")
_SENTINEL = "local-secret/"
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "rehearsal", "AWS_SECRET_ACCESS_KEY": "rehearsal"}


def _generate(spec: Mapping[str, Any]) -> str:
    """A value as ``GenerateSecretString`` would make it (length, exclusions)."""
    alphabet = string.ascii_letters + string.digits
    if not spec.get("ExcludePunctuation"):
        alphabet += "!#$%&()*+,-./:;<=>?@[]^_`{|}~"
    alphabet = "".join(c for c in alphabet if c not in spec.get("ExcludeCharacters", ""))
    value = "".join(secrets.choice(alphabet) for _ in range(int(spec.get("PasswordLength", 32))))
    key = spec.get("GenerateStringKey")
    if key:
        return json.dumps({**json.loads(spec.get("SecretStringTemplate", "{}")), key: value})
    return value


def _lookup(value: str, json_key: str) -> str:
    return str(json.loads(value)[json_key]) if json_key else value


def secret_values(assembly: Assembly, parameters: Mapping[str, str]) -> dict[str, str]:
    """Each ``AWS::SecretsManager::Secret``'s value by logical id; ``parameters`` are the deploy-time
    CloudFormation parameters (provider keys). Dynamic references to other secrets are followed."""
    found = assembly.resources("AWS::SecretsManager::Secret")
    resolve = Resolver(assembly, {**parameters, **{lid: _SENTINEL + lid for lid in found}}, {})
    values: dict[str, str] = {}
    pending = dict(found)
    while pending:
        progressed = False
        for logical, resource in list(pending.items()):
            props = resource["Properties"]
            if "GenerateSecretString" in props:
                values[logical] = _generate(props["GenerateSecretString"])
            else:
                text = str(resolve(props["SecretString"]))
                refs = [m.group(1).removeprefix(_SENTINEL) for m in _DYNAMIC.finditer(text)]
                if any(ref not in values for ref in refs):
                    continue
                values[logical] = _DYNAMIC.sub(
                    lambda m: _lookup(values[m.group(1).removeprefix(_SENTINEL)], m.group(2)), text
                )
            del pending[logical]
            progressed = True
        if not progressed:
            raise RuntimeError(f"secrets reference each other in a loop: {sorted(pending)}")
    return values


def resolve_dynamic(text: str, values: Mapping[str, str], arns: Mapping[str, str]) -> str:
    """``{{resolve:secretsmanager:ARN:SecretString:key::}}`` (after Ref resolution) → the value."""
    by_arn = {arns[lid]: value for lid, value in values.items()}
    return _DYNAMIC.sub(lambda m: _lookup(by_arn[m.group(1)], m.group(2)), text)


def client(service: str, endpoint: str, region: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name=region, **{
        "aws_access_key_id": LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    })  # fmt: skip


def store_secrets(values: Mapping[str, str], endpoint: str, region: str) -> dict[str, str]:
    """Create each secret in the emulator; return logical id → ARN (what ``Ref`` gives)."""
    sm = client("secretsmanager", endpoint, region)
    return {lid: sm.create_secret(Name=lid, SecretString=value)["ARN"] for lid, value in values.items()}


def attachment_refs(assembly: Assembly, arns: Mapping[str, str]) -> dict[str, str]:
    """``Ref`` of a ``SecretTargetAttachment`` is the attached secret's ARN."""
    out = {}
    for lid, resource in assembly.resources("AWS::SecretsManager::SecretTargetAttachment").items():
        out[lid] = arns[resource["Properties"]["SecretId"]["Ref"]]
    return out


def ecs_secret(value_from: str, endpoint: str, region: str) -> str:
    """What the ECS agent injects for a ``ValueFrom`` of ``arn[:json-key:version-stage:version-id]``."""
    parts = value_from.split(":")
    arn, json_key = ":".join(parts[:7]), (parts[7] if len(parts) > 7 else "")
    value = client("secretsmanager", endpoint, region).get_secret_value(SecretId=arn)["SecretString"]
    return _lookup(value, json_key)


def create_table(properties: Mapping[str, Any], name: str, endpoint: str, region: str) -> None:
    """The table as the template declares it (keys, attributes, GSIs, billing, TTL)."""
    ddb = client("dynamodb", endpoint, region)
    indexes = [
        {k: v for k, v in gsi.items() if k in ("IndexName", "KeySchema", "Projection")}
        for gsi in properties.get("GlobalSecondaryIndexes", [])
    ]
    ddb.create_table(
        TableName=name,
        BillingMode=properties.get("BillingMode", "PAY_PER_REQUEST"),
        KeySchema=properties["KeySchema"],
        AttributeDefinitions=properties["AttributeDefinitions"],
        **({"GlobalSecondaryIndexes": indexes} if indexes else {}),
    )
    ttl = properties.get("TimeToLiveSpecification")
    if ttl:
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)

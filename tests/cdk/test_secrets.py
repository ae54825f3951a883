"""Secrets: generated in Secrets Manager, provider keys via NoEcho parameters, never a value in the template."""

from __future__ import annotations

import json

from gateway_cdk.secrets import parameter_name

from .conftest import FAKE_SECRETS, Synthesized


def test_no_secret_value_appears_anywhere_in_the_template(synth: Synthesized) -> None:
    text = synth.path.read_text()
    for value in FAKE_SECRETS.values():
        assert value not in text


def test_master_key_is_sk_prefixed_generated_secret(synth: Synthesized) -> None:
    master = synth.json["Resources"][_id(synth, synth.stack.node.find_child("Secrets").master_key)]
    string = json.dumps(master["Properties"]["SecretString"])
    assert string.startswith('{"Fn::Join": ["", ["sk-{{resolve:secretsmanager:')


def test_generated_secrets_exclude_punctuation(synth: Synthesized) -> None:
    generated = [
        s["Properties"]["GenerateSecretString"]
        for s in synth.resources("AWS::SecretsManager::Secret").values()
        if "GenerateSecretString" in s["Properties"]
    ]
    assert len(generated) == 5  # master-key seed, salt key, hash salt, Redis AUTH, RDS credentials
    assert all(g.get("ExcludePunctuation") or "ExcludeCharacters" in g for g in generated)


def test_provider_keys_arrive_as_noecho_parameters(synth: Synthesized) -> None:
    params = synth.json["Parameters"]
    for name in FAKE_SECRETS:
        param = params[parameter_name(name)]
        assert param["NoEcho"] is True and param["Type"] == "String"
    secrets = [
        s["Properties"]["SecretString"]
        for s in synth.resources("AWS::SecretsManager::Secret").values()
        if isinstance(s["Properties"].get("SecretString"), dict) and "Ref" in s["Properties"]["SecretString"]
    ]
    assert sorted(s["Ref"] for s in secrets) == sorted(parameter_name(n) for n in FAKE_SECRETS)


def test_containers_and_functions_get_secrets_only_by_reference(synth: Synthesized) -> None:
    (container,) = synth.one("AWS::ECS::TaskDefinition")["ContainerDefinitions"]
    secret_names = {s["Name"] for s in container["Secrets"]}
    plain_names = {e["Name"] for e in container["Environment"]}
    expected = {"LITELLM_MASTER_KEY", "LITELLM_SALT_KEY", "DATABASE_PASSWORD", "REDIS_PASSWORD", *FAKE_SECRETS}
    assert expected <= secret_names
    assert not secret_names & plain_names
    assert not {n for n in plain_names if n.endswith(("_KEY", "PASSWORD", "TOKEN"))}
    for fn in synth.resources("AWS::Lambda::Function").values():
        variables = fn["Properties"].get("Environment", {}).get("Variables", {})
        assert not {n for n in variables if n.endswith(("_KEY", "PASSWORD", "TOKEN", "SALT"))}, variables


def _id(synth: Synthesized, construct) -> str:
    return synth.stack.resolve(synth.stack.get_logical_id(construct.node.default_child))

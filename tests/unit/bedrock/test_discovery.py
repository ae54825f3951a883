"""What a key sees through Bedrock discovery (gateway.discovery): pure, from an allowed-model set and aliases."""

from __future__ import annotations

import json

import pytest

from gateway.discovery import Catalog, filter_foundation_models, page
from gateway.errors import GatewayError
from gateway.settings import Settings

ALIASES = {"*claude-sonnet-*": "gpt-4o", "*claude-haiku-*": "mini", "us.team.custom-v1:0": "gpt-4o"}


def catalog(allowed: set[str], aliases: dict | None = None) -> Catalog:
    env = {"LITELLM_MASTER_KEY": "sk-m", "BEDROCK_MODEL_ALIASES": json.dumps(ALIASES if aliases is None else aliases)}
    return Catalog(allowed=frozenset(allowed), settings=Settings.from_env(env), region="eu-west-1")


def ids(profiles: list[dict]) -> list[str]:
    return [p["inferenceProfileId"] for p in profiles]


def test_profiles_are_the_ids_that_reach_allowed_models_then_the_litellm_names() -> None:
    profiles = catalog({"gpt-4o", "mini", "us.fake.model-v1:0"}).profiles()
    listed = ids(profiles)
    system = [p for p in profiles if p["type"] == "SYSTEM_DEFINED"]
    assert ids(system) == sorted(ids(system))
    assert "us.anthropic.claude-sonnet-4-5-20250929-v1:0" in listed
    assert "global.anthropic.claude-sonnet-4-6" in listed
    assert "apac.anthropic.claude-haiku-4-5-20251001-v1:0" in listed
    assert "us.team.custom-v1:0" in listed and "us.fake.model-v1:0" in listed
    assert not [i for i in listed if "opus" in i]
    assert ids(p for p in profiles if p["type"] == "APPLICATION") == ["gpt-4o", "mini"]
    assert listed[-2:] == ["gpt-4o", "mini"]


def test_a_key_without_the_target_model_sees_none_of_its_aliases() -> None:
    listed = ids(catalog({"mini"}).profiles())
    assert listed and all("haiku" in i for i in listed if i != "mini")


def test_profile_shape_and_lookup_by_arn() -> None:
    cat = catalog({"gpt-4o"})
    sonnet = cat.profile("eu.anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert sonnet == {
        "inferenceProfileName": "EU Anthropic Claude Sonnet 4.5",
        "description": "Served by the GenAI Gateway with the LiteLLM model 'gpt-4o'",
        "inferenceProfileArn": "arn:aws:bedrock:eu-west-1:000000000000:inference-profile/"
        "eu.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "models": [
            {"modelArn": "arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0"}
        ],
        "inferenceProfileId": "eu.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "status": "ACTIVE",
        "type": "SYSTEM_DEFINED",
    }
    assert cat.profile(sonnet["inferenceProfileArn"]) == sonnet
    app = cat.profile("gpt-4o")
    assert app is not None and app["type"] == "APPLICATION"
    assert cat.profile(app["inferenceProfileArn"]) == app
    assert cat.profile("us.anthropic.claude-opus-4-6-v1") is None
    assert cat.profile("anthropic.claude-sonnet-4-6") is None  # a foundation model, not a profile


def test_foundation_models() -> None:
    cat = catalog({"gpt-4o", "mini"}, {**ALIASES, "amazon.nova-pro-v1:0": "gpt-4o"})
    models = [m["modelId"] for m in cat.foundation_models()]
    assert "anthropic.claude-sonnet-4-5-20250929-v1:0" in models and "amazon.nova-pro-v1:0" in models
    assert models[-2:] == ["gpt-4o", "mini"]
    assert cat.foundation_model("arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-6")
    assert cat.foundation_model("anthropic.claude-opus-4-6-v1") is None
    anthropic = filter_foundation_models(cat.foundation_models(), provider="ANTHROPIC")
    assert anthropic and {m["providerName"] for m in anthropic} == {"Anthropic"}
    assert filter_foundation_models(cat.foundation_models(), output_modality="EMBEDDING") == []
    with pytest.raises(GatewayError, match="byOutputModality"):
        filter_foundation_models([], output_modality="SMELL")


def test_pages_cover_everything_once() -> None:
    items = [{"n": i} for i in range(7)]
    seen, token = [], None
    while True:
        chunk, token = page(items, "3", token)
        seen += chunk
        if token is None:
            break
    assert seen == items
    assert page(items, None, None) == (items, None)


@pytest.mark.parametrize(
    ("size", "token"), [("0", None), ("1001", None), ("x", None), ("3", "bogus"), ("3", "Z3cxOjk5")]
)
def test_bad_page_arguments_are_validation_errors(size: str, token: str | None) -> None:
    with pytest.raises(GatewayError) as caught:
        page([{"n": 1}], size, token)
    assert caught.value.bedrock_name() == "ValidationException"
